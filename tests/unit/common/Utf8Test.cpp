#include "Utf8.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::Utf8;

namespace {

// Bytes of a UTF-16LE string written out by hand, independent of Utf8::toUtf16le.
std::string utf16le(std::initializer_list<char16_t> units)
{
    std::string out;
    for (char16_t u : units) {
        out.push_back(static_cast<char>(u & 0xFF));
        out.push_back(static_cast<char>(u >> 8));
    }
    return out;
}

void assertRefused(const std::string& bytes)
{
    CPPUNIT_ASSERT_MESSAGE("isValid accepted a malformed sequence", !Utf8::isValid(bytes));
    CPPUNIT_ASSERT_MESSAGE("decode accepted a malformed sequence", !Utf8::decode(bytes).has_value());
}

} // namespace

class Utf8Test : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(Utf8Test);
    CPPUNIT_TEST(testAcceptWellFormedText);
    CPPUNIT_TEST(testAnyCodePointPasses);
    CPPUNIT_TEST(testAcceptBoundaryCodePoints);
    CPPUNIT_TEST(testRefuseOverlongForms);
    CPPUNIT_TEST(testRefuseSurrogates);
    CPPUNIT_TEST(testRefuseCodePointsAboveMaximum);
    CPPUNIT_TEST(testRefuseTruncatedSequences);
    CPPUNIT_TEST(testRefuseLoneContinuationBytes);
    CPPUNIT_TEST(testSequencesAmongAsciiAtEveryOffset);
    CPPUNIT_TEST(testDecodeCjkAndEmoji);
    CPPUNIT_TEST(testEncodeCjkAndEmoji);
    CPPUNIT_TEST(testRoundTripBoundaryCodePoints);
    CPPUNIT_TEST(testEncodeReplacesInvalidCodePoints);
    CPPUNIT_TEST(testConvertUtf16leToUtf8);
    CPPUNIT_TEST(testConvertUtf8ToUtf16le);
    CPPUNIT_TEST(testRoundTripUtf16le);
    CPPUNIT_TEST(testRefuseOddLengthUtf16le);
    CPPUNIT_TEST(testRefuseUnpairedSurrogatesInUtf16le);
    CPPUNIT_TEST(testRefuseNulInUtf16le);
    CPPUNIT_TEST_SUITE_END();

public:
    void testAnyCodePointPasses()
    {
        const auto isHan = [](char32_t cp) { return cp >= 0x4E00 && cp <= 0x9FFF; };
        CPPUNIT_ASSERT(Utf8::any("tian 天涯", isHan));
        CPPUNIT_ASSERT(!Utf8::any("tian ya", isHan));
        CPPUNIT_ASSERT(!Utf8::any("", isHan));
        // From the first fault on nothing passes: a code point after it is not read.
        CPPUNIT_ASSERT(!Utf8::any("ya \xC0\xAF 天", isHan));
        CPPUNIT_ASSERT(Utf8::any("天 \xC0\xAF", isHan));
    }

    void testAcceptWellFormedText()
    {
        for (const std::string text : {"", "hello, world", "天涯", "你好世界", "\xF0\x9F\x98\x80", "caf\xC3\xA9 😀 天涯!"}) {
            CPPUNIT_ASSERT_MESSAGE(text, Utf8::isValid(text));
            CPPUNIT_ASSERT_MESSAGE(text, Utf8::decode(text).has_value());
        }
        // NUL is a code point like any other here; the codecs that forbid it do so themselves.
        CPPUNIT_ASSERT(Utf8::isValid(std::string("a\0b", 3)));
    }

    void testAcceptBoundaryCodePoints()
    {
        for (const std::string text : {"\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
                                       "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
            CPPUNIT_ASSERT(Utf8::isValid(text));
        }
    }

    void testRefuseOverlongForms()
    {
        assertRefused("\xC0\x80");         // NUL in two bytes
        assertRefused("\xC0\xAF");         // '/' in two bytes
        assertRefused("\xC1\xBF");
        assertRefused("\xE0\x80\x80");
        assertRefused("\xE0\x9F\xBF");     // U+07FF in three bytes
        assertRefused("\xF0\x80\x80\x80");
        assertRefused("\xF0\x8F\xBF\xBF"); // U+FFFF in four bytes
        assertRefused("ok \xC0\xAF then more");
    }

    void testRefuseSurrogates()
    {
        assertRefused("\xED\xA0\x80");                 // U+D800
        assertRefused("\xED\xAF\xBF");                 // U+DBFF
        assertRefused("\xED\xB0\x80");                 // U+DC00
        assertRefused("\xED\xBF\xBF");                 // U+DFFF
        assertRefused("\xED\xA0\xBD\xED\xB8\x80");     // CESU-8 form of U+1F600
    }

    void testRefuseCodePointsAboveMaximum()
    {
        assertRefused("\xF4\x90\x80\x80"); // U+110000
        assertRefused("\xF5\x80\x80\x80");
        assertRefused("\xF7\xBF\xBF\xBF");
        assertRefused("\xF8\x88\x80\x80\x80");
        assertRefused("\xFC\x84\x80\x80\x80\x80");
        assertRefused("\xFE");
        assertRefused("\xFF");
    }

    void testRefuseTruncatedSequences()
    {
        assertRefused("\xC3");
        assertRefused("\xE5\xA4");
        assertRefused("\xF0\x9F\x98");
        assertRefused("hello \xE5\xA4");
        assertRefused("\xE5\xA4" "a");
        assertRefused("\xF0\x9F" "ab");
    }

    void testRefuseLoneContinuationBytes()
    {
        assertRefused("\x80");
        assertRefused("\xBF");
        assertRefused("a\x80z");
        assertRefused("\xC3\xA9\xA9"); // one continuation too many
        assertRefused("\xE5\xA4\xA9\x80");
    }

    // isValid skips ASCII eight bytes at a time: what follows or cuts into such a run is still read.
    void testSequencesAmongAsciiAtEveryOffset()
    {
        for (std::size_t before = 0; before <= 17; ++before) {
            for (std::size_t after = 0; after <= 9; ++after) {
                const std::string left(before, 'a');
                const std::string right(after, 'z');
                CPPUNIT_ASSERT(Utf8::isValid(left + "\xE5\xA4\xA9" + right));
                CPPUNIT_ASSERT(Utf8::isValid(left + "\xF0\x9F\x98\x80" + right));
                CPPUNIT_ASSERT(!Utf8::isValid(left + "\x80" + right));
                CPPUNIT_ASSERT(!Utf8::isValid(left + "\xE5\xA4" + right));
                CPPUNIT_ASSERT(!Utf8::isValid(left + "\xED\xA0\x80" + right));
                CPPUNIT_ASSERT(!Utf8::isValid(left + "\xFF" + right));
            }
        }
    }

    void testDecodeCjkAndEmoji()
    {
        CPPUNIT_ASSERT(Utf8::decode("天涯") == std::u32string({0x5929, 0x6DAF}));
        CPPUNIT_ASSERT(Utf8::decode("你好世界") == std::u32string({0x4F60, 0x597D, 0x4E16, 0x754C}));
        CPPUNIT_ASSERT(Utf8::decode("\xF0\x9F\x98\x80") == std::u32string({0x1F600}));
        CPPUNIT_ASSERT(Utf8::decode("a,天") == std::u32string({'a', ',', 0x5929}));
        CPPUNIT_ASSERT(Utf8::decode("") == std::u32string());
    }

    void testEncodeCjkAndEmoji()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("\xE5\xA4\xA9\xE6\xB6\xAF"), Utf8::encode(std::u32string({0x5929, 0x6DAF})));
        CPPUNIT_ASSERT_EQUAL(std::string("你好世界"), Utf8::encode(std::u32string({0x4F60, 0x597D, 0x4E16, 0x754C})));
        CPPUNIT_ASSERT_EQUAL(std::string("\xF0\x9F\x98\x80"), Utf8::encode(std::u32string({0x1F600})));
        std::string appended = "x";
        Utf8::append(appended, 0x6DAF);
        CPPUNIT_ASSERT_EQUAL(std::string("x涯"), appended);
    }

    void testRoundTripBoundaryCodePoints()
    {
        const std::u32string points = {0x0,     0x7F,    0x80,     0x7FF,    0x800,   0xD7FF,
                                       0xE000,  0xFFFD,  0xFFFF,   0x10000,  0x1F600, 0x10FFFF};
        const std::string bytes = Utf8::encode(points);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1 + 1 + 2 + 2 + 3 + 3 + 3 + 3 + 3 + 4 + 4 + 4), bytes.size());
        CPPUNIT_ASSERT(Utf8::decode(bytes) == points);
        for (const std::string text : {"你好世界", "天涯 😀, ok"}) CPPUNIT_ASSERT_EQUAL(text, Utf8::encode(*Utf8::decode(text)));
    }

    void testEncodeReplacesInvalidCodePoints()
    {
        const std::string replacement = "\xEF\xBF\xBD";
        CPPUNIT_ASSERT_EQUAL(replacement, Utf8::encode(std::u32string(1, char32_t(0xD800))));
        CPPUNIT_ASSERT_EQUAL(replacement, Utf8::encode(std::u32string(1, char32_t(0xDFFF))));
        CPPUNIT_ASSERT_EQUAL(replacement, Utf8::encode(std::u32string(1, char32_t(0x110000))));
        CPPUNIT_ASSERT_EQUAL("a" + replacement + "b", Utf8::encode(std::u32string({'a', 0xFFFFFFFF, 'b'})));
    }

    void testConvertUtf16leToUtf8()
    {
        CPPUNIT_ASSERT(Utf8::fromUtf16le(utf16le({'h', 'i'})) == std::string("hi"));
        CPPUNIT_ASSERT(Utf8::fromUtf16le(utf16le({0x5929, 0x6DAF})) == std::string("天涯"));
        CPPUNIT_ASSERT(Utf8::fromUtf16le(utf16le({0x4F60, 0x597D, 0x4E16, 0x754C})) == std::string("你好世界"));
        CPPUNIT_ASSERT(Utf8::fromUtf16le(utf16le({0xD83D, 0xDE00})) == std::string("\xF0\x9F\x98\x80"));
        CPPUNIT_ASSERT(Utf8::fromUtf16le(utf16le({0xDBFF, 0xDFFF})) == std::string("\xF4\x8F\xBF\xBF"));
        CPPUNIT_ASSERT(Utf8::fromUtf16le("") == std::string());
    }

    void testConvertUtf8ToUtf16le()
    {
        CPPUNIT_ASSERT_EQUAL(utf16le({'t', 'a', 'l', 'k', ','}), Utf8::toUtf16le("talk,"));
        CPPUNIT_ASSERT_EQUAL(utf16le({0x5929, 0x6DAF}), Utf8::toUtf16le("天涯"));
        CPPUNIT_ASSERT_EQUAL(utf16le({0xD83D, 0xDE00}), Utf8::toUtf16le("\xF0\x9F\x98\x80"));
        CPPUNIT_ASSERT_EQUAL(utf16le({0xDBFF, 0xDFFF}), Utf8::toUtf16le("\xF4\x8F\xBF\xBF"));
        CPPUNIT_ASSERT_EQUAL(std::string(), Utf8::toUtf16le(""));
    }

    void testRoundTripUtf16le()
    {
        for (const std::string text : {"login,天涯,127.0.0.1:5001", "你好世界 😀😀 \xF4\x8F\xBF\xBF", "\xEF\xBF\xBF\xEE\x80\x80"}) {
            const auto back = Utf8::fromUtf16le(Utf8::toUtf16le(text));
            CPPUNIT_ASSERT_MESSAGE(text, back.has_value());
            CPPUNIT_ASSERT_EQUAL(text, *back);
        }
    }

    void testRefuseOddLengthUtf16le()
    {
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(std::string("h", 1)).has_value());
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({'h', 'i'}) + "!").has_value());
    }

    void testRefuseUnpairedSurrogatesInUtf16le()
    {
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({0xD83D})).has_value());                // high at the end
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({'a', 0xD83D})).has_value());
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({0xD83D, 'a'})).has_value());           // high, then no low
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({0xD83D, 0xD83D, 0xDE00})).has_value()); // high, high, low
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({0xDE00})).has_value());                // low alone
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({'a', 0xDE00, 0xD83D})).has_value());   // low before high
        // A high surrogate whose low half is cut off mid-unit.
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({0xD83D}) + std::string("\x00", 1)).has_value());
    }

    void testRefuseNulInUtf16le()
    {
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({0})).has_value());
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({'a', 0, 'b'})).has_value());
        CPPUNIT_ASSERT(!Utf8::fromUtf16le(utf16le({'a', 'b', 0})).has_value());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Utf8Test);
