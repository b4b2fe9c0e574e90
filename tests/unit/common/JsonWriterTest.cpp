#include "JsonWriter.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cppunit/extensions/HelperMacros.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

using namespace peerchat;

namespace {

// What Poco::JSON writes for {"k": text}: the form JsonWriter keeps to.
std::string pocoLine(const std::string& text)
{
    Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
    o.set("k", text);
    std::ostringstream out;
    o.stringify(out);
    return out.str() + "\n";
}

// A writer over a string of the test's, and the line it wrote.
struct Written
{
    std::string text;
    JsonWriter w{text};

    std::string line()
    {
        w.endLine();
        return text;
    }
};

std::string writerLine(const std::string& text)
{
    Written written;
    JsonWriter& w = written.w;
    w.beginObject();
    w.field("k", text);
    w.endObject();
    return written.line();
}

} // namespace

class JsonWriterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(JsonWriterTest);
    CPPUNIT_TEST(testNestingAndCommas);
    CPPUNIT_TEST(testNumbersAndFlags);
    CPPUNIT_TEST(testStringsWrittenAsPocoWritesThem);
    CPPUNIT_TEST(testLongTextGrowsTheBuffer);
    CPPUNIT_TEST(testNestingDepthBounded);
    CPPUNIT_TEST(testKeysMadeAtRunTimeAreEscaped);
    CPPUNIT_TEST(testWritesAfterWhatAStringHolds);
    CPPUNIT_TEST_SUITE_END();

public:
    void testNestingAndCommas()
    {
        Written written;
        JsonWriter& w = written.w;
        w.beginObject();
        w.field("a", "x");
        w.key("list");
        w.beginArray();
        w.beginObject();
        w.endObject();
        w.beginObject();
        w.field("b", 1);
        w.field("c", "y");
        w.endObject();
        w.beginArray();
        w.endArray();
        w.endArray();
        w.key("o");
        w.beginObject();
        w.endObject();
        w.endObject();
        CPPUNIT_ASSERT_EQUAL(std::string("{\"a\":\"x\",\"list\":[{},{\"b\":1,\"c\":\"y\"},[]],\"o\":{}}\n"),
                             written.line());
    }

    void testNumbersAndFlags()
    {
        Written written;
        JsonWriter& w = written.w;
        w.beginArray();
        w.value(std::numeric_limits<std::uint64_t>::max());
        w.value(std::numeric_limits<std::int64_t>::min());
        w.value(std::uint32_t(0));
        w.value(true);
        w.value(false);
        w.endArray();
        CPPUNIT_ASSERT_EQUAL(std::string("[18446744073709551615,-9223372036854775808,0,true,false]\n"),
                             written.line());
    }

    void testStringsWrittenAsPocoWritesThem()
    {
        std::string everyByte;
        for (int c = 0; c < 256; ++c) everyByte += static_cast<char>(c);
        for (const std::string& text : {std::string(), std::string("plain"), std::string("q\"b\\s/"), std::string("天涯 é"),
                                       std::string("\b\f\n\r\t\v\x01\x1f\x7f"), std::string("nul\0in", 6), everyByte}) {
            CPPUNIT_ASSERT_EQUAL(pocoLine(text), writerLine(text));
        }
        // And Poco's parser reads back what was written.
        Poco::JSON::Parser parser;
        const auto parsed = parser.parse(writerLine("q\"b\\/\n\x01 天涯")).extract<Poco::JSON::Object::Ptr>();
        CPPUNIT_ASSERT_EQUAL(std::string("q\"b\\/\n\x01 天涯"), parsed->getValue<std::string>("k"));
    }

    void testLongTextGrowsTheBuffer()
    {
        // Far past the first room, escapes and plain runs mixed, several fields after one another.
        std::string text;
        for (int i = 0; i < 4000; ++i) text += std::string("line \"") + std::to_string(i) + "\"\n\x01 天涯\\";
        Written written;
        JsonWriter& w = written.w;
        w.beginObject();
        w.field("k", text);
        w.field("n", 42);
        w.field("k2", text);
        w.endObject();
        Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
        o.set("k", text);
        o.set("n", 42);
        o.set("k2", text);
        std::ostringstream out;
        o.stringify(out);
        CPPUNIT_ASSERT_EQUAL(out.str() + "\n", written.line());
    }

    // A literal key is copied as it is; one made at run time (a peer's name
    // as the key of an unread count) is escaped as a value is.
    void testKeysMadeAtRunTimeAreEscaped()
    {
        const std::string name = "q\"b\\\n";
        Written written;
        JsonWriter& w = written.w;
        w.beginObject();
        w.field("literal", 1);
        w.field(name, 2);
        w.key(std::string_view("view"));
        w.value(3);
        w.endObject();
        CPPUNIT_ASSERT_EQUAL(std::string("{\"literal\":1,\"q\\\"b\\\\\\n\":2,\"view\":3}\n"), written.line());
    }

    void testWritesAfterWhatAStringHolds()
    {
        std::string out = "{\"a\":1}\n";
        {
            JsonWriter w(out);
            w.beginObject();
            w.field("b", std::string(300, 'x'));
            w.endObject();
            w.endLine();
        }
        CPPUNIT_ASSERT_EQUAL("{\"a\":1}\n{\"b\":\"" + std::string(300, 'x') + "\"}\n", out);
        // A string kept for the next line writes it where the last one was, in the room that one left.
        out.clear();
        const std::size_t room = out.capacity();
        JsonWriter w(out);
        w.beginObject();
        w.field("c", true);
        w.endObject();
        w.endLine();
        CPPUNIT_ASSERT_EQUAL(std::string("{\"c\":true}\n"), out);
        CPPUNIT_ASSERT_EQUAL(room, out.capacity());
    }

    void testNestingDepthBounded()
    {
        Written written;
        JsonWriter& w = written.w;
        for (unsigned depth = 0; depth < JsonWriter::kMostDepth; ++depth) w.beginArray();
        CPPUNIT_ASSERT_THROW(w.beginArray(), std::logic_error);
        for (unsigned depth = 0; depth < JsonWriter::kMostDepth; ++depth) w.endArray();
        CPPUNIT_ASSERT_EQUAL(std::string(JsonWriter::kMostDepth, '[') + std::string(JsonWriter::kMostDepth, ']') + "\n",
                             written.line());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(JsonWriterTest);
