#include "SearchResults.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::ConversationId;
using peerchat::chatui::SearchResults;
namespace local = peerchat::local;

namespace {

const ConversationId kBob = ConversationId::direct("bob");

local::ChatLine line(std::uint64_t id, const std::string& from, const std::string& text,
                     local::LineState state = local::LineState::Received)
{
    local::ChatLine l;
    l.id = id;
    l.conversation = kBob;
    l.from = from;
    l.outgoing = from != "bob";
    l.receivedAtMs = 1795000000000 + static_cast<std::int64_t>(id);
    l.text = text;
    l.state = state;
    return l;
}

std::string texts(const SearchResults& results)
{
    std::string out;
    for (const auto& l : results.lines()) out += std::to_string(l.id) + "=" + l.text + " ";
    return out;
}

} // namespace

class SearchResultsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(SearchResultsTest);
    CPPUNIT_TEST(testStartAsksForPeerAndText);
    CPPUNIT_TEST(testFoundBringsLines);
    CPPUNIT_TEST(testFoundWithoutLinesMeansNothingMatched);
    CPPUNIT_TEST(testFoundForAnotherSearchIsIgnored);
    CPPUNIT_TEST(testSearchErrorRefusesSearch);
    CPPUNIT_TEST(testOtherErrorsAreIgnored);
    CPPUNIT_TEST(testStatusSetsStateOfFoundLine);
    CPPUNIT_TEST(testClearEndsSearch);
    CPPUNIT_TEST_SUITE_END();

public:
    void testStartAsksForPeerAndText()
    {
        SearchResults results("bob");
        CPPUNIT_ASSERT(!results.active());
        const local::SearchRequest request = results.start("\u5348\u996D lunch");
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), request.conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::string("\u5348\u996D lunch"), request.text);
        CPPUNIT_ASSERT(results.phase() == SearchResults::Phase::Waiting);
        CPPUNIT_ASSERT(results.active());
        CPPUNIT_ASSERT_EQUAL(std::string("\u5348\u996D lunch"), results.text());
    }

    void testFoundBringsLines()
    {
        SearchResults results("bob");
        results.start("lunch");
        CPPUNIT_ASSERT(results.apply(local::FoundEvent{kBob, "lunch", {line(2, "bob", "lunch?"), line(7, "alice", "lunch!")}}));
        CPPUNIT_ASSERT(results.phase() == SearchResults::Phase::Found);
        CPPUNIT_ASSERT_EQUAL(std::string("2=lunch? 7=lunch! "), texts(results));
        // A second reply to the same search is not waited for.
        CPPUNIT_ASSERT(!results.apply(local::FoundEvent{kBob, "lunch", {}}));
        CPPUNIT_ASSERT_EQUAL(std::string("2=lunch? 7=lunch! "), texts(results));
    }

    void testFoundWithoutLinesMeansNothingMatched()
    {
        SearchResults results("bob");
        results.start("zebra");
        CPPUNIT_ASSERT(results.apply(local::FoundEvent{kBob, "zebra", {}}));
        CPPUNIT_ASSERT(results.phase() == SearchResults::Phase::Found);
        CPPUNIT_ASSERT(results.lines().empty());
    }

    void testFoundForAnotherSearchIsIgnored()
    {
        SearchResults results("bob");
        CPPUNIT_ASSERT(!results.apply(local::FoundEvent{kBob, "lunch", {line(1, "bob", "lunch")}}));
        CPPUNIT_ASSERT(!results.active());
        results.start("lunch");
        results.start("dinner");
        // The reply to the search "dinner" replaced, and one for another conversation.
        CPPUNIT_ASSERT(!results.apply(local::FoundEvent{kBob, "lunch", {line(1, "bob", "lunch")}}));
        CPPUNIT_ASSERT(!results.apply(local::FoundEvent{ConversationId::direct("carol"), "dinner", {line(1, "carol", "dinner")}}));
        CPPUNIT_ASSERT(results.phase() == SearchResults::Phase::Waiting);
        CPPUNIT_ASSERT(results.lines().empty());
        CPPUNIT_ASSERT(results.apply(local::FoundEvent{kBob, "dinner", {line(3, "bob", "dinner")}}));
        CPPUNIT_ASSERT_EQUAL(std::string("3=dinner "), texts(results));
    }

    void testSearchErrorRefusesSearch()
    {
        SearchResults results("bob");
        results.start("lunch");
        CPPUNIT_ASSERT(results.apply(local::ErrorEvent{"search", "the history is not readable"}));
        CPPUNIT_ASSERT(results.phase() == SearchResults::Phase::Refused);
        CPPUNIT_ASSERT_EQUAL(std::string("the history is not readable"), results.refusal());
        CPPUNIT_ASSERT(results.active());
    }

    void testOtherErrorsAreIgnored()
    {
        SearchResults results("bob");
        CPPUNIT_ASSERT(!results.apply(local::ErrorEvent{"search", "late"}));
        results.start("lunch");
        CPPUNIT_ASSERT(!results.apply(local::ErrorEvent{"send", "bob is not online"}));
        CPPUNIT_ASSERT(!results.apply(local::ErrorEvent{"", "bad request"}));
        CPPUNIT_ASSERT(results.phase() == SearchResults::Phase::Waiting);
        CPPUNIT_ASSERT(results.refusal().empty());
    }

    void testStatusSetsStateOfFoundLine()
    {
        SearchResults results("bob");
        results.start("lunch");
        results.apply(local::FoundEvent{kBob, "lunch", {line(2, "bob", "lunch?"),
                                                         line(5, "alice", "lunch!", local::LineState::Pending)}});
        CPPUNIT_ASSERT(results.apply(local::StatusEvent{kBob, 5, local::LineState::Delivered}));
        CPPUNIT_ASSERT(results.lines()[1].state == local::LineState::Delivered);
        CPPUNIT_ASSERT(!results.apply(local::StatusEvent{kBob, 4, local::LineState::Failed}));
        CPPUNIT_ASSERT(!results.apply(local::StatusEvent{ConversationId::direct("carol"), 5, local::LineState::Failed}));
        CPPUNIT_ASSERT(results.lines()[1].state == local::LineState::Delivered);
        CPPUNIT_ASSERT(results.lines()[0].state == local::LineState::Received);
    }

    void testClearEndsSearch()
    {
        SearchResults results("bob");
        results.start("lunch");
        results.apply(local::FoundEvent{kBob, "lunch", {line(2, "bob", "lunch?")}});
        results.clear();
        CPPUNIT_ASSERT(!results.active());
        CPPUNIT_ASSERT(results.phase() == SearchResults::Phase::Idle);
        CPPUNIT_ASSERT(results.lines().empty());
        CPPUNIT_ASSERT(results.text().empty());
        // A reply that comes after is not waited for.
        CPPUNIT_ASSERT(!results.apply(local::FoundEvent{kBob, "lunch", {line(2, "bob", "lunch?")}}));
        CPPUNIT_ASSERT(!results.active());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SearchResultsTest);
