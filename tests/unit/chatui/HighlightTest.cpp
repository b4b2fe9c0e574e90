#include "Highlight.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::chatui::Highlight;

namespace {

/// The text with each highlighted character in brackets: "[lunch] at noon".
std::wstring shown(const Highlight& highlight, const std::wstring& text)
{
    const auto marked = highlight.mark(text);
    std::wstring out;
    bool inside = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool on = !marked.empty() && marked[i];
        if (on != inside) out += on ? L'[' : L']';
        inside = on;
        out += text[i];
    }
    if (inside) out += L']';
    return out;
}

} // namespace

class HighlightTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(HighlightTest);
    CPPUNIT_TEST(testMarkFlagsEveryOccurrence);
    CPPUNIT_TEST(testMarkFlagsCjk);
    CPPUNIT_TEST(testMarkDoesNotOverlapOccurrences);
    CPPUNIT_TEST(testMarkMatchesCase);
    CPPUNIT_TEST(testMarkWithoutOccurrenceFlagsNothing);
    CPPUNIT_TEST(testEmptyQueryMarksNothing);
    CPPUNIT_TEST_SUITE_END();

public:
    void testMarkFlagsEveryOccurrence()
    {
        CPPUNIT_ASSERT(shown(Highlight(L"lunch"), L"lunch? lunch!") == L"[lunch]? [lunch]!");
    }

    void testMarkFlagsCjk()
    {
        CPPUNIT_ASSERT(shown(Highlight(L"\u4E16\u754C"), L"\u4F60\u597D\u4E16\u754C!") == L"\u4F60\u597D[\u4E16\u754C]!");
    }

    void testMarkDoesNotOverlapOccurrences()
    {
        CPPUNIT_ASSERT(shown(Highlight(L"aa"), L"aaa b aaaa") == L"[aa]a b [aaaa]");
    }

    void testMarkMatchesCase()
    {
        CPPUNIT_ASSERT(shown(Highlight(L"Lunch"), L"lunch or Lunch") == L"lunch or [Lunch]");
        CPPUNIT_ASSERT(shown(Highlight(L"\u00E9t\u00E9"), L"\u00C9T\u00C9 \u00E9t\u00E9") == L"\u00C9T\u00C9 [\u00E9t\u00E9]");
    }

    void testMarkWithoutOccurrenceFlagsNothing()
    {
        const auto marked = Highlight(L"dinner").mark(L"lunch");
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), marked.size());
        for (bool on : marked) CPPUNIT_ASSERT(!on);
    }

    void testEmptyQueryMarksNothing()
    {
        CPPUNIT_ASSERT(Highlight().empty());
        CPPUNIT_ASSERT(Highlight().mark(L"lunch").empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HighlightTest);
