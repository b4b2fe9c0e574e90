#include "RosterModel.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::chatui::RosterModel;
namespace local = peerchat::local;

namespace {

local::UserInfo user(const std::string& name)
{
    return local::UserInfo{name, "127.0.0.1:5001", "peerchat/1"};
}

std::string names(const RosterModel& model)
{
    std::string out;
    for (const auto& entry : model.entries())
        out += entry.name + (entry.online ? "" : "(off)") + (entry.unread ? ":" + std::to_string(entry.unread) : "") + " ";
    return out;
}

} // namespace

class RosterModelTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RosterModelTest);
    CPPUNIT_TEST(testWelcomeSetsIdentityAndState);
    CPPUNIT_TEST(testStateEventChangesLinkState);
    CPPUNIT_TEST(testRosterListsUsersWithUnreadCounts);
    CPPUNIT_TEST(testPresenceAddsAndRemovesUsers);
    CPPUNIT_TEST(testPresenceOfSelfIsIgnored);
    CPPUNIT_TEST(testUnreadRiseIsReported);
    CPPUNIT_TEST(testUnreadReadIsNotARise);
    CPPUNIT_TEST(testOfflineUserWithUnreadStaysListed);
    CPPUNIT_TEST(testDisconnectedForgetsRosterKeepsSelf);
    CPPUNIT_TEST(testOtherEventsChangeNothing);
    CPPUNIT_TEST_SUITE_END();

public:
    void testWelcomeSetsIdentityAndState()
    {
        RosterModel model;
        CPPUNIT_ASSERT(!model.welcomed());
        const auto change = model.apply(local::WelcomeEvent{1, "\u5929\u6DAF", local::LinkState::Online, "127.0.0.1:4000"});
        CPPUNIT_ASSERT(change.changed);
        CPPUNIT_ASSERT(model.welcomed());
        CPPUNIT_ASSERT(!model.rosterLoaded());
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), model.self());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:4000"), model.index());
        CPPUNIT_ASSERT(model.linkState() == local::LinkState::Online);
    }

    void testStateEventChangesLinkState()
    {
        RosterModel model;
        model.apply(local::WelcomeEvent{1, "alice", local::LinkState::Connecting, "127.0.0.1:4000"});
        model.apply(local::StateEvent{local::LinkState::Refused, "alice is online elsewhere"});
        CPPUNIT_ASSERT(model.linkState() == local::LinkState::Refused);
        CPPUNIT_ASSERT_EQUAL(std::string("alice is online elsewhere"), model.linkDetail());
    }

    void testRosterListsUsersWithUnreadCounts()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob"), user("\u5929\u6DAF")}, {{"bob", 2}}});
        CPPUNIT_ASSERT(model.rosterLoaded());
        CPPUNIT_ASSERT_EQUAL(std::string("bob:2 \u5929\u6DAF "), names(model));
        CPPUNIT_ASSERT(model.isOnline("bob"));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), model.unread("bob"));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), model.unread("carol"));
    }

    void testPresenceAddsAndRemovesUsers()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {}});
        CPPUNIT_ASSERT(model.apply(local::PresenceEvent{user("alice"), true}).changed);
        CPPUNIT_ASSERT_EQUAL(std::string("alice bob "), names(model));
        model.apply(local::PresenceEvent{user("bob"), false});
        CPPUNIT_ASSERT_EQUAL(std::string("alice "), names(model));
        CPPUNIT_ASSERT(!model.isOnline("bob"));
    }

    void testPresenceOfSelfIsIgnored()
    {
        RosterModel model;
        model.apply(local::WelcomeEvent{1, "alice", local::LinkState::Online, "127.0.0.1:4000"});
        model.apply(local::PresenceEvent{user("alice"), true});
        CPPUNIT_ASSERT_EQUAL(std::string(""), names(model));
    }

    void testUnreadRiseIsReported()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {}});
        auto change = model.apply(local::UnreadEvent{"bob", 1});
        CPPUNIT_ASSERT(change.changed);
        CPPUNIT_ASSERT(change.unreadRose);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), change.peer);
        change = model.apply(local::UnreadEvent{"bob", 2});
        CPPUNIT_ASSERT(change.unreadRose);
        CPPUNIT_ASSERT_EQUAL(std::string("bob:2 "), names(model));
    }

    void testUnreadReadIsNotARise()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {{"bob", 3}}});
        const auto change = model.apply(local::UnreadEvent{"bob", 0});
        CPPUNIT_ASSERT(change.changed);
        CPPUNIT_ASSERT(!change.unreadRose);
        CPPUNIT_ASSERT_EQUAL(std::string("bob "), names(model));
        CPPUNIT_ASSERT(!model.apply(local::UnreadEvent{"bob", 0}).changed);
    }

    void testOfflineUserWithUnreadStaysListed()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob"), user("carol")}, {}});
        model.apply(local::UnreadEvent{"carol", 1});
        model.apply(local::PresenceEvent{user("carol"), false});
        CPPUNIT_ASSERT_EQUAL(std::string("bob carol(off):1 "), names(model));
        model.apply(local::UnreadEvent{"carol", 0});
        CPPUNIT_ASSERT_EQUAL(std::string("bob "), names(model));
    }

    void testDisconnectedForgetsRosterKeepsSelf()
    {
        RosterModel model;
        model.apply(local::WelcomeEvent{1, "alice", local::LinkState::Online, "127.0.0.1:4000"});
        model.apply(local::RosterEvent{{user("bob")}, {{"bob", 1}}});
        model.disconnected();
        CPPUNIT_ASSERT(!model.welcomed());
        CPPUNIT_ASSERT(!model.rosterLoaded());
        CPPUNIT_ASSERT(model.entries().empty());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), model.self());
    }

    void testOtherEventsChangeNothing()
    {
        RosterModel model;
        CPPUNIT_ASSERT(!model.apply(local::SentEvent{"bob", 4}).changed);
        CPPUNIT_ASSERT(!model.apply(local::HistoryEvent{"bob", {}}).changed);
        CPPUNIT_ASSERT(!model.apply(local::ErrorEvent{"send", "bob is not online"}).changed);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterModelTest);
