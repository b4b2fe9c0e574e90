#include "InputLine.h"
#include "TextLayout.h"

#include <cppunit/extensions/HelperMacros.h>

#include <clocale>
#include <string>

using peerchat::chatui::InputLine;
using peerchat::chatui::TextLayout;

namespace {

void type(InputLine& line, const std::wstring& text)
{
    for (wchar_t c : text) CPPUNIT_ASSERT(line.insert(c));
}

void assertText(const std::wstring& expected, const InputLine& line)
{
    CPPUNIT_ASSERT_EQUAL(TextLayout::narrow(expected), TextLayout::narrow(line.text()));
    CPPUNIT_ASSERT_EQUAL(TextLayout::narrow(expected).size(), line.bytes());
}

} // namespace

class InputLineTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(InputLineTest);
    CPPUNIT_TEST(testInsertAdvancesCursor);
    CPPUNIT_TEST(testInsertInMiddle);
    CPPUNIT_TEST(testInsertRefusesControlCharacters);
    CPPUNIT_TEST(testInsertStopsAtByteLimit);
    CPPUNIT_TEST(testDeleteBeforeRemovesOneWideCharacter);
    CPPUNIT_TEST(testDeleteBeforeAtStartDoesNothing);
    CPPUNIT_TEST(testDeleteAtRemovesCharacterUnderCursor);
    CPPUNIT_TEST(testMoveStopsAtEnds);
    CPPUNIT_TEST(testKillToStartKeepsRest);
    CPPUNIT_TEST(testKillToEndKeepsStart);
    CPPUNIT_TEST(testKillWordBeforeRemovesSpacesAndWord);
    CPPUNIT_TEST(testKillWordBeforeRemovesCjkWord);
    CPPUNIT_TEST(testTakeEmptiesLine);
    CPPUNIT_TEST(testViewShowsShortTextWhole);
    CPPUNIT_TEST(testViewScrollsToKeepCursorVisible);
    CPPUNIT_TEST(testViewScrollsBackForCursorAtStart);
    CPPUNIT_TEST(testViewNeverSplitsWideCharacter);
    CPPUNIT_TEST(testViewScrollsBackWhenTextShrinks);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { CPPUNIT_ASSERT(std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr); }

    void testInsertAdvancesCursor()
    {
        InputLine line(4096);
        type(line, L"hi \u5929\u6DAF");
        assertText(L"hi \u5929\u6DAF", line);
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), line.cursor());
    }

    void testInsertInMiddle()
    {
        InputLine line(4096);
        type(line, L"\u4F60\u4E16\u754C");
        line.moveHome();
        line.moveRight();
        type(line, L"\u597D");
        assertText(L"\u4F60\u597D\u4E16\u754C", line);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), line.cursor());
    }

    void testInsertRefusesControlCharacters()
    {
        InputLine line(4096);
        CPPUNIT_ASSERT(!line.insert(L'\x1B'));
        CPPUNIT_ASSERT(!line.insert(L'\x07'));
        CPPUNIT_ASSERT(!line.insert(L'\x7F'));
        CPPUNIT_ASSERT(!line.insert(L'\x9B'));
        CPPUNIT_ASSERT(line.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), line.cursor());
    }

    void testInsertStopsAtByteLimit()
    {
        InputLine line(7);
        type(line, L"\u4F60\u597D"); // six bytes
        CPPUNIT_ASSERT(!line.insert(L'\u4E16'));
        CPPUNIT_ASSERT(!line.fits(L'\u4E16'));
        CPPUNIT_ASSERT(line.insert(L'a'));
        CPPUNIT_ASSERT(!line.insert(L'b'));
        assertText(L"\u4F60\u597Da", line);
    }

    void testDeleteBeforeRemovesOneWideCharacter()
    {
        InputLine line(4096);
        type(line, L"\u4F60\u597D\u4E16\u754C");
        line.deleteBefore();
        assertText(L"\u4F60\u597D\u4E16", line);
        line.moveLeft();
        line.deleteBefore();
        assertText(L"\u4F60\u4E16", line);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), line.cursor());
    }

    void testDeleteBeforeAtStartDoesNothing()
    {
        InputLine line(4096);
        type(line, L"ab");
        line.moveHome();
        line.deleteBefore();
        assertText(L"ab", line);
    }

    void testDeleteAtRemovesCharacterUnderCursor()
    {
        InputLine line(4096);
        type(line, L"\u5929\u6DAFx");
        line.moveHome();
        line.deleteAt();
        assertText(L"\u6DAFx", line);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), line.cursor());
        line.moveEnd();
        line.deleteAt();
        assertText(L"\u6DAFx", line);
    }

    void testMoveStopsAtEnds()
    {
        InputLine line(4096);
        type(line, L"ab");
        line.moveRight();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), line.cursor());
        line.moveHome();
        line.moveLeft();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), line.cursor());
        line.moveEnd();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), line.cursor());
    }

    void testKillToStartKeepsRest()
    {
        InputLine line(4096);
        type(line, L"hello \u4E16\u754C");
        for (int i = 0; i < 2; ++i) line.moveLeft();
        line.killToStart();
        assertText(L"\u4E16\u754C", line);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), line.cursor());
    }

    void testKillToEndKeepsStart()
    {
        InputLine line(4096);
        type(line, L"hello world");
        for (int i = 0; i < 5; ++i) line.moveLeft();
        line.killToEnd();
        assertText(L"hello ", line);
    }

    void testKillWordBeforeRemovesSpacesAndWord()
    {
        InputLine line(4096);
        type(line, L"send this  ");
        line.killWordBefore();
        assertText(L"send ", line);
        line.killWordBefore();
        assertText(L"", line);
    }

    void testKillWordBeforeRemovesCjkWord()
    {
        InputLine line(4096);
        type(line, L"hi \u4F60\u597D\u4E16\u754C");
        line.killWordBefore();
        assertText(L"hi ", line);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), line.cursor());
    }

    void testTakeEmptiesLine()
    {
        InputLine line(4096);
        type(line, L"\u5929\u6DAF");
        CPPUNIT_ASSERT(line.take() == L"\u5929\u6DAF");
        CPPUNIT_ASSERT(line.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), line.cursor());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), line.bytes());
    }

    void testViewShowsShortTextWhole()
    {
        InputLine line(4096);
        type(line, L"\u5929\u6DAF ok");
        const auto view = line.view(20);
        CPPUNIT_ASSERT(view.text == L"\u5929\u6DAF ok");
        CPPUNIT_ASSERT_EQUAL(7, view.cursorColumn);
    }

    void testViewScrollsToKeepCursorVisible()
    {
        InputLine line(4096);
        type(line, L"abcdefghijklmnopqrst");
        const auto view = line.view(10);
        // Nine characters and the blank cell the cursor stands on.
        CPPUNIT_ASSERT(view.text == L"lmnopqrst");
        CPPUNIT_ASSERT_EQUAL(9, view.cursorColumn);
    }

    void testViewScrollsBackForCursorAtStart()
    {
        InputLine line(4096);
        type(line, L"abcdefghijklmnopqrst");
        line.view(10);
        line.moveHome();
        const auto view = line.view(10);
        CPPUNIT_ASSERT(view.text == L"abcdefghij");
        CPPUNIT_ASSERT_EQUAL(0, view.cursorColumn);
    }

    void testViewNeverSplitsWideCharacter()
    {
        InputLine line(4096);
        type(line, L"\u4F60\u597D\u4E16\u754C");
        auto view = line.view(5);
        CPPUNIT_ASSERT(view.text == L"\u4E16\u754C");
        CPPUNIT_ASSERT_EQUAL(4, view.cursorColumn);
        line.moveLeft();
        line.moveLeft();
        line.moveLeft();
        view = line.view(5);
        CPPUNIT_ASSERT(view.text == L"\u597D\u4E16");
        CPPUNIT_ASSERT_EQUAL(0, view.cursorColumn);
        CPPUNIT_ASSERT(TextLayout::width(view.text) <= 5);
    }

    void testViewScrollsBackWhenTextShrinks()
    {
        InputLine line(4096);
        type(line, L"abcdefghijklmnopqrst");
        line.view(10);
        for (int i = 0; i < 15; ++i) line.deleteBefore();
        const auto view = line.view(10);
        CPPUNIT_ASSERT(view.text == L"abcde");
        CPPUNIT_ASSERT_EQUAL(5, view.cursorColumn);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InputLineTest);
