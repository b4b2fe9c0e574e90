#include "RosterModel.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::chatui::RosterModel;
namespace local = peerchat::local;

namespace {

const std::string kFingerprint = "3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3";

local::UserInfo user(const std::string& name, local::Trust trust = local::Trust::Pinned)
{
    return local::UserInfo{name, "127.0.0.1:5001", "peerchat/2", trust};
}

local::WelcomeEvent welcome(const std::string& self, local::LinkState state)
{
    return local::WelcomeEvent{1, self, state, "127.0.0.1:4000", kFingerprint};
}

std::string trusts(const RosterModel& model)
{
    std::string out;
    for (const auto& entry : model.entries())
        out += entry.name + "=" + std::string(local::LocalProtocol::trustName(entry.trust)) + " ";
    return out;
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
    CPPUNIT_TEST(testRosterAndPresenceCarryTrust);
    CPPUNIT_TEST(testTrustEventChangesTrust);
    CPPUNIT_TEST(testPathFromRosterAndPathEvents);
    CPPUNIT_TEST(testTrustOutlivesPresence);
    CPPUNIT_TEST(testDisconnectedForgetsTrust);
    CPPUNIT_TEST_SUITE_END();

public:
    void testWelcomeSetsIdentityAndState()
    {
        RosterModel model;
        CPPUNIT_ASSERT(!model.welcomed());
        const auto change = model.apply(welcome("\u5929\u6DAF", local::LinkState::Online));
        CPPUNIT_ASSERT(change.changed);
        CPPUNIT_ASSERT(model.welcomed());
        CPPUNIT_ASSERT(!model.rosterLoaded());
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), model.self());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:4000"), model.index());
        CPPUNIT_ASSERT_EQUAL(kFingerprint, model.fingerprint());
        CPPUNIT_ASSERT(model.linkState() == local::LinkState::Online);
    }

    void testStateEventChangesLinkState()
    {
        RosterModel model;
        model.apply(welcome("alice", local::LinkState::Connecting));
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
        model.apply(welcome("alice", local::LinkState::Online));
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
        model.apply(welcome("alice", local::LinkState::Online));
        model.apply(local::RosterEvent{{user("bob")}, {{"bob", 1}}});
        model.disconnected();
        CPPUNIT_ASSERT(!model.welcomed());
        CPPUNIT_ASSERT(!model.rosterLoaded());
        CPPUNIT_ASSERT(model.entries().empty());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), model.self());
        CPPUNIT_ASSERT_EQUAL(kFingerprint, model.fingerprint());
    }

    void testOtherEventsChangeNothing()
    {
        RosterModel model;
        CPPUNIT_ASSERT(!model.apply(local::SentEvent{"bob", 4}).changed);
        CPPUNIT_ASSERT(!model.apply(local::HistoryEvent{"bob", {}}).changed);
        CPPUNIT_ASSERT(!model.apply(local::ErrorEvent{"send", "bob is not online"}).changed);
        CPPUNIT_ASSERT(!model.apply(local::KeysEvent{"bob", kFingerprint, kFingerprint, "", local::Trust::Pinned}).changed);
    }

    void testRosterAndPresenceCarryTrust()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob"), user("carol", local::Trust::Changed), user("sam", local::Trust::Unverified)}, {}});
        CPPUNIT_ASSERT_EQUAL(std::string("bob=pinned carol=changed sam=unverified "), trusts(model));
        CPPUNIT_ASSERT(model.trust("carol") == local::Trust::Changed);
        model.apply(local::PresenceEvent{user("dave", local::Trust::Changed), true});
        CPPUNIT_ASSERT(model.trust("dave") == local::Trust::Changed);
        // A peer peerd said nothing about counts as pinned.
        CPPUNIT_ASSERT(model.trust("erin") == local::Trust::Pinned);
    }

    void testTrustEventChangesTrust()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {}});
        auto change = model.apply(local::TrustEvent{"bob", local::Trust::Changed});
        CPPUNIT_ASSERT(change.changed);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), change.peer);
        CPPUNIT_ASSERT(!change.unreadRose);
        CPPUNIT_ASSERT_EQUAL(std::string("bob=changed "), trusts(model));
        CPPUNIT_ASSERT(!model.apply(local::TrustEvent{"bob", local::Trust::Changed}).changed);
        CPPUNIT_ASSERT(model.apply(local::TrustEvent{"bob", local::Trust::Pinned}).changed);
        CPPUNIT_ASSERT_EQUAL(std::string("bob=pinned "), trusts(model));
    }

    void testPathFromRosterAndPathEvents()
    {
        RosterModel model;
        local::UserInfo bob = user("bob");
        bob.path = local::Path::Direct;
        model.apply(local::RosterEvent{{bob, user("carol")}, {}});
        CPPUNIT_ASSERT(model.path("bob") == local::Path::Direct);
        CPPUNIT_ASSERT(model.path("carol") == local::Path::None);
        auto change = model.apply(local::PathEvent{"carol", local::Path::Lan});
        CPPUNIT_ASSERT(change.changed);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), change.peer);
        CPPUNIT_ASSERT(model.entries()[1].path == local::Path::Lan);
        CPPUNIT_ASSERT(!model.apply(local::PathEvent{"carol", local::Path::Lan}).changed);
        // A path event for someone offline changes nothing; going offline forgets the path.
        CPPUNIT_ASSERT(!model.apply(local::PathEvent{"dave", local::Path::Relay}).changed);
        CPPUNIT_ASSERT(model.path("dave") == local::Path::None);
        model.apply(local::PresenceEvent{user("bob"), false});
        CPPUNIT_ASSERT(model.path("bob") == local::Path::None);
    }

    void testTrustOutlivesPresence()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {}});
        model.apply(local::TrustEvent{"bob", local::Trust::Changed});
        model.apply(local::PresenceEvent{user("bob"), false});
        CPPUNIT_ASSERT(model.trust("bob") == local::Trust::Changed);
        // Offline with unread lines, bob is listed with the changed key.
        model.apply(local::UnreadEvent{"bob", 1});
        CPPUNIT_ASSERT_EQUAL(std::string("bob=changed "), trusts(model));
        // A key change for a user who is not online is kept too.
        model.apply(local::TrustEvent{"carol", local::Trust::Changed});
        CPPUNIT_ASSERT(model.trust("carol") == local::Trust::Changed);
    }

    void testDisconnectedForgetsTrust()
    {
        RosterModel model;
        model.apply(local::TrustEvent{"bob", local::Trust::Changed});
        model.disconnected();
        CPPUNIT_ASSERT(model.trust("bob") == local::Trust::Pinned);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterModelTest);
