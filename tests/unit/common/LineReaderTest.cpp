#include "LineReader.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using peerchat::LineReader;

namespace {

void assertNext(LineReader& reader, const std::string& expected)
{
    const auto line = reader.next();
    CPPUNIT_ASSERT_MESSAGE("no line where '" + expected + "' was due", line.has_value());
    CPPUNIT_ASSERT_EQUAL(expected, std::string(*line));
}

} // namespace

class LineReaderTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LineReaderTest);
    CPPUNIT_TEST(testJoinLineSplitAcrossFeeds);
    CPPUNIT_TEST(testSplitSeveralLinesInOneFeed);
    CPPUNIT_TEST(testStripCrlf);
    CPPUNIT_TEST(testFeedByteByByte);
    CPPUNIT_TEST(testKeepUtf8AndNulBytes);
    CPPUNIT_TEST(testDetectOverflowWithoutNewline);
    CPPUNIT_TEST(testDetectOverlongCompleteLine);
    CPPUNIT_TEST(testAcceptLineOfExactlyMaxBytes);
    CPPUNIT_TEST(testAcceptCrlfLineOfExactlyMaxBytes);
    CPPUNIT_TEST_SUITE_END();

public:
    void testJoinLineSplitAcrossFeeds()
    {
        LineReader reader(1024);
        CPPUNIT_ASSERT(!reader.next());
        reader.feed("{\"op\":");
        CPPUNIT_ASSERT(!reader.next());
        reader.feed("\"ros");
        CPPUNIT_ASSERT(!reader.next());
        reader.feed("ter\"}\n{\"op\"");
        assertNext(reader, "{\"op\":\"roster\"}");
        CPPUNIT_ASSERT(!reader.next());
        reader.feed(":\"read\"}\n");
        assertNext(reader, "{\"op\":\"read\"}");
        CPPUNIT_ASSERT(!reader.next());
    }

    void testSplitSeveralLinesInOneFeed()
    {
        LineReader reader(1024);
        reader.feed("one\ntwo\n\nthree\nfour");
        assertNext(reader, "one");
        assertNext(reader, "two");
        assertNext(reader, "");
        assertNext(reader, "three");
        CPPUNIT_ASSERT(!reader.next());
        reader.feed("\n");
        assertNext(reader, "four");
        CPPUNIT_ASSERT(!reader.next());
    }

    void testStripCrlf()
    {
        LineReader reader(1024);
        reader.feed("one\r\ntwo\r");
        assertNext(reader, "one");
        CPPUNIT_ASSERT(!reader.next());
        reader.feed("\n\r\n");
        assertNext(reader, "two");
        assertNext(reader, "");
        // Only a carriage return right before the newline is part of the line ending.
        reader.feed("a\rb\r\r\n");
        assertNext(reader, "a\rb\r");
    }

    void testFeedByteByByte()
    {
        LineReader reader(1024);
        const std::string input = "alpha\nbeta\r\n天涯\n";
        std::vector<std::string> lines;
        for (char c : input) {
            reader.feed(std::string(1, c));
            while (auto line = reader.next()) lines.emplace_back(*line);
        }
        CPPUNIT_ASSERT((lines == std::vector<std::string>{"alpha", "beta", "天涯"}));
    }

    void testKeepUtf8AndNulBytes()
    {
        LineReader reader(1024);
        const std::string line("你好\0世界", 2 * 3 + 1 + 2 * 3);
        reader.feed(line + "\n");
        assertNext(reader, line);
    }

    void testDetectOverflowWithoutNewline()
    {
        LineReader reader(8);
        reader.feed("12345678");
        CPPUNIT_ASSERT(!reader.overflowed());
        CPPUNIT_ASSERT(!reader.next());
        reader.feed("9");
        CPPUNIT_ASSERT(reader.overflowed());
        CPPUNIT_ASSERT(!reader.next());
    }

    void testDetectOverlongCompleteLine()
    {
        LineReader reader(8);
        reader.feed("ok\n123456789\n");
        assertNext(reader, "ok");
        CPPUNIT_ASSERT(reader.overflowed());
    }

    void testAcceptCrlfLineOfExactlyMaxBytes()
    {
        LineReader reader(8);
        reader.feed("12345678\r");
        CPPUNIT_ASSERT(!reader.overflowed());
        reader.feed("\n");
        CPPUNIT_ASSERT(!reader.overflowed());
        assertNext(reader, "12345678");
        reader.feed("123456789\r\n");
        CPPUNIT_ASSERT(reader.overflowed());
    }

    void testAcceptLineOfExactlyMaxBytes()
    {
        LineReader reader(8);
        reader.feed("12345678\n1234");
        CPPUNIT_ASSERT(!reader.overflowed());
        assertNext(reader, "12345678");
        CPPUNIT_ASSERT(!reader.overflowed());
        // Many short lines in one feed add up to more than the bound; that is no overflow.
        std::string many;
        for (int i = 0; i < 100; ++i) many += "abc\n";
        reader.feed("\n" + many);
        CPPUNIT_ASSERT(!reader.overflowed());
        assertNext(reader, "1234");
        for (int i = 0; i < 100; ++i) assertNext(reader, "abc");
        CPPUNIT_ASSERT(!reader.next());
        CPPUNIT_ASSERT(!reader.overflowed());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LineReaderTest);
