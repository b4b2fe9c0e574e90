#include "LineEditing.h"

#include <cppunit/extensions/HelperMacros.h>

#include <curses.h>

using peerchat::chatui::InputLine;
using peerchat::chatui::Key;
using peerchat::chatui::LineEditing;
using Result = LineEditing::Result;

namespace {

Key control(char letter) { return Key::character(static_cast<wint_t>(letter & 0x1f)); }

void typeText(InputLine& input, const std::wstring& text)
{
    for (wchar_t c : text) CPPUNIT_ASSERT(LineEditing::apply(input, Key::character(static_cast<wint_t>(c))) == Result::Edited);
}

} // namespace

class LineEditingTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LineEditingTest);
    CPPUNIT_TEST(testCharactersAreInserted);
    CPPUNIT_TEST(testEditingKeysEdit);
    CPPUNIT_TEST(testOtherKeysAreLeftToTheWindow);
    CPPUNIT_TEST(testCharacterPastTheLimitIsFull);
    CPPUNIT_TEST_SUITE_END();

public:
    void testCharactersAreInserted()
    {
        InputLine input(100);
        typeText(input, L"/add \u5929\u6DAF hi");
        CPPUNIT_ASSERT(input.text() == L"/add \u5929\u6DAF hi");
    }

    void testEditingKeysEdit()
    {
        InputLine input(100);
        typeText(input, L"one two");
        CPPUNIT_ASSERT(LineEditing::apply(input, control('w')) == Result::Edited);
        CPPUNIT_ASSERT(input.text() == L"one ");
        CPPUNIT_ASSERT(LineEditing::apply(input, Key::functionKey(KEY_BACKSPACE)) == Result::Edited);
        CPPUNIT_ASSERT(LineEditing::apply(input, Key::character(0x7f)) == Result::Edited);
        CPPUNIT_ASSERT(input.text() == L"on");
        CPPUNIT_ASSERT(LineEditing::apply(input, control('a')) == Result::Edited);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), input.cursor());
        CPPUNIT_ASSERT(LineEditing::apply(input, Key::functionKey(KEY_DC)) == Result::Edited);
        CPPUNIT_ASSERT(input.text() == L"n");
        CPPUNIT_ASSERT(LineEditing::apply(input, control('e')) == Result::Edited);
        CPPUNIT_ASSERT(LineEditing::apply(input, Key::functionKey(KEY_LEFT)) == Result::Edited);
        CPPUNIT_ASSERT(LineEditing::apply(input, control('k')) == Result::Edited);
        CPPUNIT_ASSERT(input.empty());
        typeText(input, L"gone");
        CPPUNIT_ASSERT(LineEditing::apply(input, control('u')) == Result::Edited);
        CPPUNIT_ASSERT(input.empty());
    }

    void testOtherKeysAreLeftToTheWindow()
    {
        InputLine input(100);
        typeText(input, L"x");
        for (const Key& key : {Key::character(L'\r'), Key::character(L'\n'), Key::character(0x1b), control('c'),
                               control('d'), Key::functionKey(KEY_ENTER), Key::functionKey(KEY_PPAGE),
                               Key::functionKey(KEY_UP)})
            CPPUNIT_ASSERT(LineEditing::apply(input, key) == Result::Other);
        CPPUNIT_ASSERT(input.text() == L"x");
    }

    void testCharacterPastTheLimitIsFull()
    {
        InputLine input(4);
        typeText(input, L"\u5929");
        CPPUNIT_ASSERT(LineEditing::apply(input, Key::character(0x6DAF)) == Result::Full);
        CPPUNIT_ASSERT(LineEditing::apply(input, Key::character(L'x')) == Result::Edited);
        CPPUNIT_ASSERT(input.text() == L"\u5929x");
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LineEditingTest);
