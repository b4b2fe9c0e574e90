#include "FlatJson.h"

#include "JsonWriter.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace peerchat;

namespace {

// What Poco's parser makes of text: its string fields, or nullopt when it
// refuses the text or holds anything but an object of strings.
std::optional<std::vector<std::pair<std::string, std::string>>> pocoFields(const std::string& text)
{
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var value;
    try {
        value = parser.parse(text);
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
    if (value.type() != typeid(Poco::JSON::Object::Ptr)) return std::nullopt;
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& [key, field] : *value.extract<Poco::JSON::Object::Ptr>()) {
        if (!field.isString()) return std::nullopt;
        fields.emplace_back(key, field.extract<std::string>());
    }
    return fields;
}

} // namespace

/// The fast reader of requests must read what Poco's parser reads, or leave
/// the line to it: it never takes a line Poco refuses, nor reads a field
/// otherwise.
class FlatJsonTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(FlatJsonTest);
    CPPUNIT_TEST(testReadsASendRequest);
    CPPUNIT_TEST(testReadsEscapesAsPocoDoes);
    CPPUNIT_TEST(testLastOfTwiceWrittenKeyHolds);
    CPPUNIT_TEST(testLeavesAllButObjectsOfStringsToTheFullParser);
    CPPUNIT_TEST(testNeverTakesWhatPocoRefuses);
    CPPUNIT_TEST_SUITE_END();

public:
    void testReadsASendRequest()
    {
        const auto object = FlatJson::parse(R"({"op":"send","to":"天涯","text":"hello, world","key":"k-1"})");
        CPPUNIT_ASSERT(object.has_value());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), object->fields.size());
        CPPUNIT_ASSERT_EQUAL(std::string_view("send"), *object->find("op"));
        CPPUNIT_ASSERT_EQUAL(std::string_view("天涯"), *object->find("to"));
        CPPUNIT_ASSERT_EQUAL(std::string_view("hello, world"), *object->find("text"));
        CPPUNIT_ASSERT(object->find("peer") == nullptr);
        CPPUNIT_ASSERT(FlatJson::parse(" { } ").has_value());
        CPPUNIT_ASSERT(FlatJson::parse("{\r\n\t\"op\" : \"roster\" \n}\r").has_value());
    }

    void testReadsEscapesAsPocoDoes()
    {
        for (const std::string& text : std::vector<std::string>{"a\"b\\c/d", "\b\f\n\r\t", std::string("nul\0in", 6), "\x01\x1f\x7f", "é 天 €",
                                       "\\u00e9 is not an escape here"}) {
            std::string line;
            JsonWriter w(line);
            w.beginObject();
            w.field("text", text);
            w.endObject();
            w.endLine();
            assertSameAsPoco(line);
            CPPUNIT_ASSERT_EQUAL(std::string_view(text), *FlatJson::parse(line)->find("text"));
        }
        for (const std::string& line : std::vector<std::string>{R"({"t":"\u00e9\u20ac\u0041\u007f\u0080\u07ff\u0800\uffff"})",
                                       R"({"t":"\/\"\\\b\f\n\r\t"})", R"({"t":"\u0000"})", R"({"\u0074":"key escaped"})"})
            assertSameAsPoco(line);
        CPPUNIT_ASSERT_EQUAL(std::string_view("é€A"), *FlatJson::parse(R"({"t":"\u00E9\u20aC\u0041"})")->find("t"));
    }

    void testLastOfTwiceWrittenKeyHolds()
    {
        const std::string line = R"({"op":"send","to":"bob","to":"carol","text":"x"})";
        assertSameAsPoco(line);
        CPPUNIT_ASSERT_EQUAL(std::string_view("carol"), *FlatJson::parse(line)->find("to"));
    }

    void testLeavesAllButObjectsOfStringsToTheFullParser()
    {
        for (const std::string& line : std::vector<std::string>{R"({"op":"send","n":1})", R"({"op":true})", R"({"op":null})", R"({"a":{"b":"c"}})", R"({"a":["b"]})",
              R"(["op"])", R"("op")", R"({"t":"\ud83d\ude00"})", R"({"t":"\ud83d"})", R"({"t":"\x41"})",
              R"({"t":"\u12"})", R"({"t":"\u12g4"})", "{\"t\":\"tab\there\"}", R"({"op":"send",})", R"({,"op":"send"})",
              R"({"op" "send"})", R"({"op":"send"}x)", R"({"op":"send"}{})", R"({"op":"send")", R"({"op":"se)", "{",
              "", R"({'op':'send'})", R"({op:"send"})"})
            CPPUNIT_ASSERT_MESSAGE(line, !FlatJson::parse(line).has_value());
    }

    // Random lines made from the pieces of requests: whatever the fast reader
    // takes, Poco takes and reads the same.
    void testNeverTakesWhatPocoRefuses()
    {
        const std::vector<std::string> pieces{"{", "}", "\"", ":", ",", " ", "op", "send", "\\", "\\n", "\\u00e9",
                                              "\\ud83d", "\\\"", "1", "true", "null", "[", "]", "\t", "é", "\x01"};
        std::mt19937 random(12);
        std::size_t taken = 0;
        for (int round = 0; round < 20000; ++round) {
            std::string line;
            const std::size_t count = 1 + random() % 12;
            for (std::size_t i = 0; i < count; ++i) line += pieces[random() % pieces.size()];
            if (round % 2 == 0) line = "{\"" + line + "\":\"x\"}";
            if (FlatJson::parse(line)) {
                ++taken;
                assertSameAsPoco(line);
            }
        }
        CPPUNIT_ASSERT(taken > 100);
    }

private:
    static void assertSameAsPoco(const std::string& line)
    {
        const auto flat = FlatJson::parse(line);
        CPPUNIT_ASSERT_MESSAGE("the fast reader refuses " + line, flat.has_value());
        const auto poco = pocoFields(line);
        CPPUNIT_ASSERT_MESSAGE("Poco refuses " + line, poco.has_value());
        for (const auto& [key, value] : *poco) {
            CPPUNIT_ASSERT_MESSAGE("no " + key + " in " + line, flat->find(key) != nullptr);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(line, std::string_view(value), *flat->find(key));
        }
        for (const auto& [key, value] : flat->fields) {
            const bool known = std::any_of(poco->begin(), poco->end(), [&](const auto& field) { return field.first == key; });
            CPPUNIT_ASSERT_MESSAGE("Poco has no " + std::string(key) + " in " + line, known);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FlatJsonTest);
