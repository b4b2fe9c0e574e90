#include "TextLayout.h"

#include <cppunit/extensions/HelperMacros.h>

#include <clocale>
#include <string>
#include <vector>

using peerchat::chatui::TextLayout;

namespace {

using Rows = std::vector<std::wstring>;

std::string show(const Rows& rows)
{
    std::string out;
    for (const auto& row : rows) out += "[" + TextLayout::narrow(row) + "]";
    return out;
}

void assertRows(const Rows& expected, const Rows& actual)
{
    CPPUNIT_ASSERT_EQUAL(show(expected), show(actual));
}

} // namespace

class TextLayoutTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(TextLayoutTest);
    CPPUNIT_TEST(testWidenDecodesCjk);
    CPPUNIT_TEST(testWidenReplacesInvalidBytes);
    CPPUNIT_TEST(testNarrowRoundTripsCjkAndEmoji);
    CPPUNIT_TEST(testCharWidthCountsCjkAsTwoColumns);
    CPPUNIT_TEST(testCharWidthCountsCombiningMarkAsZero);
    CPPUNIT_TEST(testDisplayCharReplacesControlCharacters);
    CPPUNIT_TEST(testDisplayCharReplacesUnmeasurableCharacters);
    CPPUNIT_TEST(testDisplayCharReplacesBidiOverrides);
    CPPUNIT_TEST(testSanitizeNeutralisesEscapeSequence);
    CPPUNIT_TEST(testWidthSumsColumns);
    CPPUNIT_TEST(testFitStopsBeforeWideCharacterThatDoesNotFit);
    CPPUNIT_TEST(testWrapKeepsShortTextOnOneRow);
    CPPUNIT_TEST(testWrapBreaksAfterSpaces);
    CPPUNIT_TEST(testWrapDropsSpaceAtBreak);
    CPPUNIT_TEST(testWrapBreaksLongWordBetweenCharacters);
    CPPUNIT_TEST(testWrapBreaksCjkAtRightColumn);
    CPPUNIT_TEST(testWrapNeverSplitsWideCharacter);
    CPPUNIT_TEST(testWrapUsesFirstAndRestWidths);
    CPPUNIT_TEST(testWrapBreaksAtNewlines);
    CPPUNIT_TEST(testWrapKeepsCombiningMarksWithTheirCharacter);
    CPPUNIT_TEST(testWrapSanitizesRows);
    CPPUNIT_TEST(testWrapEmptyTextIsOneRow);
    CPPUNIT_TEST(testWrapRowsSayWhereEachRowStarts);
    CPPUNIT_TEST(testWrapRowsMapEveryShownCharacterToItsSource);
    CPPUNIT_TEST_SUITE_END();

public:
    // wcwidth knows double-width characters only in a UTF-8 locale, as chatui runs.
    void setUp() override { CPPUNIT_ASSERT(std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr); }

    void testWidenDecodesCjk()
    {
        CPPUNIT_ASSERT(TextLayout::widen("\xE5\xA4\xA9\xE6\xB6\xAF hi") == L"\u5929\u6DAF hi");
    }

    void testWidenReplacesInvalidBytes()
    {
        CPPUNIT_ASSERT(TextLayout::widen("a\xFF" "b") == L"a\uFFFDb");
        // A truncated CJK sequence: each byte that is not a character is replaced.
        CPPUNIT_ASSERT(TextLayout::widen("x\xE5\xA4") == L"x\uFFFD\uFFFD");
    }

    void testNarrowRoundTripsCjkAndEmoji()
    {
        const std::string text = "\xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80 ok";
        CPPUNIT_ASSERT_EQUAL(text, TextLayout::narrow(TextLayout::widen(text)));
    }

    void testCharWidthCountsCjkAsTwoColumns()
    {
        CPPUNIT_ASSERT_EQUAL(2, TextLayout::charWidth(L'\u5929'));
        CPPUNIT_ASSERT_EQUAL(2, TextLayout::charWidth(L'\u4F60'));
        CPPUNIT_ASSERT_EQUAL(2, TextLayout::charWidth(L'\uFF21')); // fullwidth A
        CPPUNIT_ASSERT_EQUAL(1, TextLayout::charWidth(L'a'));
    }

    void testCharWidthCountsCombiningMarkAsZero() { CPPUNIT_ASSERT_EQUAL(0, TextLayout::charWidth(L'\u0301')); }

    void testDisplayCharReplacesControlCharacters()
    {
        for (wchar_t c : {L'\x01', L'\x07', L'\x1B', L'\x7F', L'\x85', L'\x9B'}) {
            CPPUNIT_ASSERT(TextLayout::displayChar(c) == TextLayout::kReplacement);
            CPPUNIT_ASSERT_EQUAL(1, TextLayout::charWidth(c));
        }
        CPPUNIT_ASSERT(TextLayout::displayChar(L'\t') == L' ');
        CPPUNIT_ASSERT(TextLayout::displayChar(L'\n') == L' ');
    }

    void testDisplayCharReplacesUnmeasurableCharacters()
    {
        // U+0378 is unassigned: wcwidth says -1.
        CPPUNIT_ASSERT(TextLayout::displayChar(L'\u0378') == TextLayout::kReplacement);
        CPPUNIT_ASSERT_EQUAL(1, TextLayout::charWidth(L'\u0378'));
    }

    void testDisplayCharReplacesBidiOverrides()
    {
        for (wchar_t c : {L'\u202E', L'\u202A', L'\u2066', L'\u2069', L'\u200F'})
            CPPUNIT_ASSERT(TextLayout::displayChar(c) == TextLayout::kReplacement);
    }

    void testSanitizeNeutralisesEscapeSequence()
    {
        CPPUNIT_ASSERT(TextLayout::sanitize(L"a\x1B[2Jb\x07") == L"a\uFFFD[2Jb\uFFFD");
    }

    void testWidthSumsColumns()
    {
        CPPUNIT_ASSERT_EQUAL(8, TextLayout::width(L"\u4F60\u597D\u4E16\u754C"));
        CPPUNIT_ASSERT_EQUAL(6, TextLayout::width(L"\u5929\u6DAF: "));
        CPPUNIT_ASSERT_EQUAL(1, TextLayout::width(L"e\u0301"));
    }

    void testFitStopsBeforeWideCharacterThatDoesNotFit()
    {
        CPPUNIT_ASSERT(TextLayout::fit(L"\u4F60\u597D\u4E16\u754C", 5) == L"\u4F60\u597D");
        CPPUNIT_ASSERT(TextLayout::fit(L"\u4F60\u597D\u4E16\u754C", 6) == L"\u4F60\u597D\u4E16");
        CPPUNIT_ASSERT(TextLayout::fit(L"ab\x1B", 3) == L"ab\uFFFD");
    }

    void testWrapKeepsShortTextOnOneRow() { assertRows({L"hello"}, TextLayout::wrap(L"hello", 10, 10)); }

    void testWrapBreaksAfterSpaces()
    {
        assertRows({L"hello big ", L"world"}, TextLayout::wrap(L"hello big world", 10, 10));
    }

    void testWrapDropsSpaceAtBreak()
    {
        assertRows({L"hello", L"world"}, TextLayout::wrap(L"hello world", 5, 5));
    }

    void testWrapBreaksLongWordBetweenCharacters()
    {
        assertRows({L"abc", L"def", L"gh"}, TextLayout::wrap(L"abcdefgh", 3, 3));
    }

    void testWrapBreaksCjkAtRightColumn()
    {
        assertRows({L"\u4F60\u597D\u4E16", L"\u754C"}, TextLayout::wrap(L"\u4F60\u597D\u4E16\u754C", 6, 6));
    }

    void testWrapNeverSplitsWideCharacter()
    {
        // Five columns hold two CJK characters and leave one empty.
        const auto rows = TextLayout::wrap(L"\u4F60\u597D\u4E16\u754C", 5, 5);
        assertRows({L"\u4F60\u597D", L"\u4E16\u754C"}, rows);
        for (const auto& row : rows) CPPUNIT_ASSERT(TextLayout::width(row) <= 5);
    }

    void testWrapUsesFirstAndRestWidths()
    {
        assertRows({L"aaaa ", L"bbbb cccc"}, TextLayout::wrap(L"aaaa bbbb cccc", 5, 10));
    }

    void testWrapBreaksAtNewlines() { assertRows({L"one", L"", L"two"}, TextLayout::wrap(L"one\n\ntwo", 10, 10)); }

    void testWrapKeepsCombiningMarksWithTheirCharacter()
    {
        assertRows({L"e\u0301e\u0301", L"e\u0301"}, TextLayout::wrap(L"e\u0301e\u0301e\u0301", 2, 2));
    }

    void testWrapSanitizesRows() { assertRows({L"a\uFFFD[1mb"}, TextLayout::wrap(L"a\x1B[1mb", 10, 10)); }

    void testWrapEmptyTextIsOneRow() { assertRows({L""}, TextLayout::wrap(L"", 10, 10)); }

    void testWrapRowsSayWhereEachRowStarts()
    {
        // Carried after a space, after a dropped space, after a newline, and mid-word.
        const std::wstring text = L"aaa bbbb cc\nddddddddd";
        const auto rows = TextLayout::wrapRows(text, 6, 6);
        std::string shown;
        for (const auto& row : rows) shown += "[" + TextLayout::narrow(row.text) + "@" + std::to_string(row.start) + "]";
        CPPUNIT_ASSERT_EQUAL(std::string("[aaa @0][bbbb @4][cc@9][dddddd@12][ddd@18]"), shown);
    }

    void testWrapRowsMapEveryShownCharacterToItsSource()
    {
        const std::wstring text = L"\u4F60\u597D lunch \u4E16\u754C at noon,\n\nsee you e\u0301 there";
        for (int columns : {3, 4, 5, 7, 11}) {
            const auto rows = TextLayout::wrapRows(text, columns, columns + 2);
            for (const auto& row : rows) {
                CPPUNIT_ASSERT(row.start + row.text.size() <= text.size());
                CPPUNIT_ASSERT(row.text == TextLayout::sanitize(text.substr(row.start, row.text.size())));
            }
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TextLayoutTest);
