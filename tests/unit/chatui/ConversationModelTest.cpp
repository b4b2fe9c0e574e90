#include "ConversationModel.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::ConversationId;
using peerchat::chatui::ConversationModel;
namespace local = peerchat::local;

namespace {

const ConversationId kBob = ConversationId::direct("bob");

local::ChatLine line(std::uint64_t id, const std::string& peer, const std::string& from, const std::string& text)
{
    local::ChatLine l;
    l.id = id;
    l.conversation = ConversationId::direct(peer);
    l.from = from;
    l.outgoing = from != peer;
    l.sentTime = "12:00:00";
    l.receivedAtMs = 1795000000000 + static_cast<std::int64_t>(id);
    l.text = text;
    return l;
}

local::ChatLine ownLine(std::uint64_t id, const std::string& peer, const std::string& text, local::LineState state)
{
    local::ChatLine l = line(id, peer, "alice", text);
    l.state = state;
    return l;
}

std::string states(const ConversationModel& model)
{
    std::string out;
    for (const auto& l : model.lines())
        out += std::to_string(l.id) + "=" + std::string(local::LocalProtocol::lineStateName(l.state)) + " ";
    return out;
}

std::string texts(const ConversationModel& model)
{
    std::string out;
    for (const auto& l : model.lines()) out += std::to_string(l.id) + "=" + l.text + " ";
    return out;
}

} // namespace

class ConversationModelTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ConversationModelTest);
    CPPUNIT_TEST(testHistoryReplacesLines);
    CPPUNIT_TEST(testHistoryInPartsIsJoined);
    CPPUNIT_TEST(testFreshHistoryReplacesHeldLines);
    CPPUNIT_TEST(testEmptyHistoryClearsLines);
    CPPUNIT_TEST(testMessageAppendsLine);
    CPPUNIT_TEST(testMessageAlreadyInHistoryIsIgnored);
    CPPUNIT_TEST(testOtherPeersLinesAreIgnored);
    CPPUNIT_TEST(testDisconnectedWaitsForNewHistory);
    CPPUNIT_TEST(testStatusSetsStateOfItsLine);
    CPPUNIT_TEST(testStatusForUnknownIdIsIgnored);
    CPPUNIT_TEST(testStatusForOtherPeerIsIgnored);
    CPPUNIT_TEST(testCountCountsLinesInState);
    CPPUNIT_TEST(testUnverifiedLinesKeepTheirFlag);
    CPPUNIT_TEST_SUITE_END();

public:
    void testHistoryReplacesLines()
    {
        ConversationModel model("bob");
        CPPUNIT_ASSERT(!model.loaded());
        model.apply(local::MessageEvent{line(1, "bob", "bob", "old")});
        const auto change = model.apply(local::HistoryEvent{kBob, {line(1, "bob", "bob", "hi"), line(2, "bob", "alice", "\u4F60\u597D")}});
        CPPUNIT_ASSERT(change == ConversationModel::Change::Replaced);
        CPPUNIT_ASSERT(model.loaded());
        CPPUNIT_ASSERT_EQUAL(std::string("1=hi 2=\u4F60\u597D "), texts(model));
    }

    void testHistoryInPartsIsJoined()
    {
        ConversationModel model("bob");
        model.apply(local::HistoryEvent{kBob, {line(1, "bob", "bob", "a"), line(2, "bob", "bob", "b")}});
        const auto change = model.apply(local::HistoryEvent{kBob, {line(3, "bob", "alice", "c")}});
        CPPUNIT_ASSERT(change == ConversationModel::Change::Appended);
        CPPUNIT_ASSERT_EQUAL(std::string("1=a 2=b 3=c "), texts(model));
    }

    void testFreshHistoryReplacesHeldLines()
    {
        ConversationModel model("bob");
        model.apply(local::HistoryEvent{kBob, {line(1, "bob", "bob", "a"), line(2, "bob", "bob", "b")}});
        const auto change = model.apply(local::HistoryEvent{kBob, {line(1, "bob", "bob", "a"), line(2, "bob", "bob", "b")}});
        CPPUNIT_ASSERT(change == ConversationModel::Change::Replaced);
        CPPUNIT_ASSERT_EQUAL(std::string("1=a 2=b "), texts(model));
        // After a lost connection, even a history that starts later starts afresh.
        model.disconnected();
        CPPUNIT_ASSERT(model.apply(local::HistoryEvent{kBob, {line(9, "bob", "bob", "z")}}) == ConversationModel::Change::Replaced);
        CPPUNIT_ASSERT_EQUAL(std::string("9=z "), texts(model));
    }

    void testEmptyHistoryClearsLines()
    {
        ConversationModel model("bob");
        model.apply(local::HistoryEvent{kBob, {line(1, "bob", "bob", "a")}});
        model.disconnected();
        CPPUNIT_ASSERT(model.apply(local::HistoryEvent{kBob, {}}) == ConversationModel::Change::Replaced);
        CPPUNIT_ASSERT(model.loaded());
        CPPUNIT_ASSERT(model.lines().empty());
    }

    void testMessageAppendsLine()
    {
        ConversationModel model("bob");
        model.apply(local::HistoryEvent{kBob, {line(1, "bob", "bob", "hi")}});
        CPPUNIT_ASSERT(model.apply(local::MessageEvent{line(2, "bob", "alice", "yo")}) == ConversationModel::Change::Appended);
        CPPUNIT_ASSERT_EQUAL(std::string("1=hi 2=yo "), texts(model));
    }

    void testMessageAlreadyInHistoryIsIgnored()
    {
        ConversationModel model("bob");
        model.apply(local::HistoryEvent{kBob, {line(1, "bob", "bob", "hi"), line(2, "bob", "bob", "again")}});
        CPPUNIT_ASSERT(model.apply(local::MessageEvent{line(2, "bob", "bob", "again")}) == ConversationModel::Change::None);
        CPPUNIT_ASSERT_EQUAL(std::string("1=hi 2=again "), texts(model));
    }

    void testOtherPeersLinesAreIgnored()
    {
        ConversationModel model("bob");
        CPPUNIT_ASSERT(model.apply(local::HistoryEvent{ConversationId::direct("carol"), {line(1, "carol", "carol", "x")}}) == ConversationModel::Change::None);
        CPPUNIT_ASSERT(model.apply(local::MessageEvent{line(1, "carol", "carol", "x")}) == ConversationModel::Change::None);
        CPPUNIT_ASSERT(model.apply(local::UnreadEvent{kBob, 1}) == ConversationModel::Change::None);
        CPPUNIT_ASSERT(model.lines().empty());
    }

    void testDisconnectedWaitsForNewHistory()
    {
        ConversationModel model("bob");
        model.apply(local::HistoryEvent{kBob, {line(1, "bob", "bob", "hi")}});
        model.disconnected();
        CPPUNIT_ASSERT(!model.loaded());
        CPPUNIT_ASSERT_EQUAL(std::string("1=hi "), texts(model));
        // A restarted peerd numbers its lines from 1 again.
        model.apply(local::HistoryEvent{kBob, {}});
        CPPUNIT_ASSERT(model.apply(local::MessageEvent{line(1, "bob", "bob", "new")}) == ConversationModel::Change::Appended);
        CPPUNIT_ASSERT_EQUAL(std::string("1=new "), texts(model));
    }

    void testStatusSetsStateOfItsLine()
    {
        ConversationModel model("bob");
        model.apply(local::HistoryEvent{kBob, {ownLine(1, "bob", "a", local::LineState::Delivered),
                                                line(2, "bob", "bob", "b"),
                                                ownLine(3, "bob", "c", local::LineState::Pending)}});
        model.apply(local::MessageEvent{ownLine(4, "bob", "d", local::LineState::Pending)});
        CPPUNIT_ASSERT(model.apply(local::StatusEvent{kBob, 3, local::LineState::Delivered})
                       == ConversationModel::Change::Restated);
        CPPUNIT_ASSERT(model.apply(local::StatusEvent{kBob, 4, local::LineState::Failed})
                       == ConversationModel::Change::Restated);
        CPPUNIT_ASSERT_EQUAL(std::string("1=delivered 2=received 3=delivered 4=failed "), states(model));
        // The same state again changes nothing; a failed line can still be delivered.
        CPPUNIT_ASSERT(model.apply(local::StatusEvent{kBob, 3, local::LineState::Delivered})
                       == ConversationModel::Change::None);
        CPPUNIT_ASSERT(model.apply(local::StatusEvent{kBob, 4, local::LineState::Delivered})
                       == ConversationModel::Change::Restated);
        CPPUNIT_ASSERT_EQUAL(std::string("1=delivered 2=received 3=delivered 4=delivered "), states(model));
    }

    void testStatusForUnknownIdIsIgnored()
    {
        ConversationModel model("bob");
        CPPUNIT_ASSERT(model.apply(local::StatusEvent{kBob, 1, local::LineState::Delivered})
                       == ConversationModel::Change::None);
        model.apply(local::HistoryEvent{kBob, {ownLine(2, "bob", "a", local::LineState::Pending),
                                                ownLine(4, "bob", "b", local::LineState::Pending)}});
        for (std::uint64_t id : {0, 1, 3, 5, 99})
            CPPUNIT_ASSERT(model.apply(local::StatusEvent{kBob, id, local::LineState::Delivered})
                           == ConversationModel::Change::None);
        CPPUNIT_ASSERT_EQUAL(std::string("2=pending 4=pending "), states(model));
    }

    void testStatusForOtherPeerIsIgnored()
    {
        ConversationModel model("bob");
        model.apply(local::HistoryEvent{kBob, {ownLine(1, "bob", "a", local::LineState::Pending)}});
        CPPUNIT_ASSERT(model.apply(local::StatusEvent{ConversationId::direct("carol"), 1, local::LineState::Delivered})
                       == ConversationModel::Change::None);
        CPPUNIT_ASSERT_EQUAL(std::string("1=pending "), states(model));
    }

    void testCountCountsLinesInState()
    {
        ConversationModel model("bob");
        model.apply(local::HistoryEvent{kBob, {ownLine(1, "bob", "a", local::LineState::Failed),
                                                line(2, "bob", "bob", "b"),
                                                ownLine(3, "bob", "c", local::LineState::Failed),
                                                ownLine(4, "bob", "d", local::LineState::Stored)}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), model.count(local::LineState::Failed));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), model.count(local::LineState::Stored));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), model.count(local::LineState::Pending));
        model.apply(local::StatusEvent{kBob, 1, local::LineState::Delivered});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), model.count(local::LineState::Failed));
    }

    void testUnverifiedLinesKeepTheirFlag()
    {
        ConversationModel model("sam");
        auto plain = line(1, "sam", "sam", "from the seed client");
        plain.verified = false;
        model.apply(local::HistoryEvent{ConversationId::direct("sam"), {plain, ownLine(2, "sam", "hi sam", local::LineState::Sent)}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), model.unverified());
        auto another = line(3, "sam", "sam", "again");
        another.verified = false;
        model.apply(local::MessageEvent{another});
        model.apply(local::MessageEvent{line(4, "sam", "sam", "signed")});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), model.unverified());
        CPPUNIT_ASSERT(!model.lines()[0].verified);
        CPPUNIT_ASSERT(model.lines()[1].verified);
        CPPUNIT_ASSERT(!model.lines()[2].verified);
        CPPUNIT_ASSERT(model.lines()[3].verified);
        // A status changes the state and nothing else.
        model.apply(local::StatusEvent{ConversationId::direct("sam"), 3, local::LineState::Received});
        CPPUNIT_ASSERT(!model.lines()[2].verified);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConversationModelTest);
