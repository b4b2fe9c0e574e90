#include "LineMark.h"
#include "TextLayout.h"

#include <cppunit/extensions/HelperMacros.h>

#include <clocale>
#include <set>

using peerchat::chatui::LineMark;
using peerchat::chatui::TextLayout;
namespace local = peerchat::local;

class LineMarkTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LineMarkTest);
    CPPUNIT_TEST(testMarksOfOwnLinesAreDistinctSingleCells);
    CPPUNIT_TEST(testLinesThatCannotBeConfirmedHaveNoMark);
    CPPUNIT_TEST(testLegendExplainsEveryMark);
    CPPUNIT_TEST(testUnverifiedLineIsMarked);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { CPPUNIT_ASSERT(std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr); }

    void testMarksOfOwnLinesAreDistinctSingleCells()
    {
        std::set<wchar_t> glyphs;
        for (auto state : {local::LineState::Pending, local::LineState::Stored, local::LineState::Delivered,
                           local::LineState::Failed}) {
            const wchar_t glyph = LineMark::glyph(state);
            CPPUNIT_ASSERT(glyph != L' ');
            // Drawn as it is: not replaced, one column.
            CPPUNIT_ASSERT(TextLayout::displayChar(glyph) == glyph);
            CPPUNIT_ASSERT_EQUAL(1, TextLayout::charWidth(glyph));
            glyphs.insert(glyph);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), glyphs.size());
        CPPUNIT_ASSERT(LineMark::glyph(local::LineState::Delivered) == L'\u2713');
        CPPUNIT_ASSERT(LineMark::glyph(local::LineState::Failed) == L'!');
    }

    void testLinesThatCannotBeConfirmedHaveNoMark()
    {
        CPPUNIT_ASSERT(LineMark::glyph(local::LineState::Received) == L' ');
        CPPUNIT_ASSERT(LineMark::glyph(local::LineState::Sent) == L' ');
    }

    void testLegendExplainsEveryMark()
    {
        const std::wstring legend = LineMark::legend();
        for (auto [state, word] : {std::pair{local::LineState::Pending, L"pending"},
                                   std::pair{local::LineState::Stored, L"stored"},
                                   std::pair{local::LineState::Delivered, L"delivered"},
                                   std::pair{local::LineState::Failed, L"will retry"}})
            CPPUNIT_ASSERT(legend.find(std::wstring(1, LineMark::glyph(state)) + L" " + word) != std::wstring::npos);
        CPPUNIT_ASSERT(legend.find(L"unverified") == std::wstring::npos);
        CPPUNIT_ASSERT(LineMark::legend(true).find(L"? unverified") != std::wstring::npos);
    }

    void testUnverifiedLineIsMarked()
    {
        local::ChatLine line;
        line.state = local::LineState::Received;
        CPPUNIT_ASSERT(LineMark::glyph(line) == L' ');
        line.verified = false;
        CPPUNIT_ASSERT(LineMark::glyph(line) == L'?');
        CPPUNIT_ASSERT(LineMark::style(line) == peerchat::chatui::Style::Unverified);
        // Distinct from every mark of a state.
        for (auto state : {local::LineState::Pending, local::LineState::Stored, local::LineState::Delivered,
                           local::LineState::Failed, local::LineState::Sent, local::LineState::Received})
            CPPUNIT_ASSERT(LineMark::glyph(state) != LineMark::kUnverified);
        line.verified = true;
        line.outgoing = true;
        line.state = local::LineState::Delivered;
        CPPUNIT_ASSERT(LineMark::glyph(line) == LineMark::glyph(local::LineState::Delivered));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LineMarkTest);
