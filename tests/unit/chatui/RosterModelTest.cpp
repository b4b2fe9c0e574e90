#include "RosterModel.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::ConversationId;
using peerchat::chatui::RosterModel;
namespace local = peerchat::local;

namespace {

const ConversationId kBob = ConversationId::direct("bob");

const std::string kFingerprint = "3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3";

local::UserInfo user(const std::string& name, local::Trust trust = local::Trust::Pinned)
{
    return local::UserInfo{name, "127.0.0.1:5001", "peerchat/2", trust};
}

local::ContactInfo contact(const std::string& name, local::Relation relation = local::Relation::Contact,
                           bool blocked = false, const std::string& note = "")
{
    return local::ContactInfo{name, relation, blocked, note, 1795000000000};
}

/// Everyone as a contact: the roster lists only contacts, requests and the like.
std::vector<local::ContactInfo> contacts(std::initializer_list<const char*> names)
{
    std::vector<local::ContactInfo> result;
    for (const char* name : names) result.push_back(contact(name));
    return result;
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

std::string sectionName(RosterModel::Section section)
{
    switch (section) {
    case RosterModel::Section::ContactsOnline: return "[online]";
    case RosterModel::Section::ContactsOffline: return "[offline]";
    case RosterModel::Section::Requests: return "[requests]";
    case RosterModel::Section::Asked: return "[asked]";
    case RosterModel::Section::Blocked: return "[blocked]";
    }
    return "[?]";
}

/// The list as sections and names: "[online] bob [requests] erin(note):2".
std::string listing(const RosterModel& model)
{
    std::string out;
    const auto entries = model.entries();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& entry = entries[i];
        if (i == 0 || entries[i - 1].section != entry.section) out += (out.empty() ? "" : " ") + sectionName(entry.section);
        out += " " + entry.name + (entry.note.empty() ? "" : "(" + entry.note + ")") +
               (entry.unread ? ":" + std::to_string(entry.unread) : "");
    }
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
    CPPUNIT_TEST(testStrangerWhoWroteIsHeldAsRequest);
    CPPUNIT_TEST(testStrangersPeerdHoldsAreRequestsInALaterWindow);
    CPPUNIT_TEST(testDisconnectedForgetsRosterKeepsSelf);
    CPPUNIT_TEST(testOtherEventsChangeNothing);
    CPPUNIT_TEST(testRosterAndPresenceCarryTrust);
    CPPUNIT_TEST(testTrustEventChangesTrust);
    CPPUNIT_TEST(testPathFromRosterAndPathEvents);
    CPPUNIT_TEST(testStateAndStatusFromRosterAndPresence);
    CPPUNIT_TEST(testTrustOutlivesPresence);
    CPPUNIT_TEST(testDisconnectedForgetsTrust);
    CPPUNIT_TEST(testRosterListsSectionsInOrder);
    CPPUNIT_TEST(testOnlineNonContactIsNotListed);
    CPPUNIT_TEST(testRequestCarriesItsNote);
    CPPUNIT_TEST(testContactEventsMoveUsersBetweenSections);
    CPPUNIT_TEST(testContactEventReportsWhatChanged);
    CPPUNIT_TEST(testBlockedUsersAreListedLast);
    CPPUNIT_TEST(testStrangerWhoWroteBecomesContact);
    CPPUNIT_TEST(testNothingListedBeforeRoster);
    CPPUNIT_TEST(testDisconnectedForgetsContactsKeepsWhoWrote);
    CPPUNIT_TEST(testSelfEventSetsOwnStatus);
    CPPUNIT_TEST(testDisconnectedForgetsOwnStatus);
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
        model.apply(local::RosterEvent{{user("bob"), user("\u5929\u6DAF")}, {{"bob", 2}}, contacts({"bob", "\u5929\u6DAF"})});
        CPPUNIT_ASSERT(model.rosterLoaded());
        CPPUNIT_ASSERT_EQUAL(std::string("bob:2 \u5929\u6DAF "), names(model));
        CPPUNIT_ASSERT(model.isOnline("bob"));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), model.unread("bob"));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), model.unread("carol"));
    }

    void testPresenceAddsAndRemovesUsers()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {}, contacts({"alice", "bob"})});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob [offline] alice"), listing(model));
        CPPUNIT_ASSERT(model.apply(local::PresenceEvent{user("alice"), true}).changed);
        CPPUNIT_ASSERT_EQUAL(std::string("[online] alice bob"), listing(model));
        model.apply(local::PresenceEvent{user("bob"), false});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] alice [offline] bob"), listing(model));
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
        auto change = model.apply(local::UnreadEvent{kBob, 1});
        CPPUNIT_ASSERT(change.changed);
        CPPUNIT_ASSERT(change.unreadRose);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), change.peer);
        change = model.apply(local::UnreadEvent{kBob, 2});
        CPPUNIT_ASSERT(change.unreadRose);
        CPPUNIT_ASSERT_EQUAL(std::string("bob:2 "), names(model));
    }

    void testUnreadReadIsNotARise()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {{"bob", 3}}});
        const auto change = model.apply(local::UnreadEvent{kBob, 0});
        CPPUNIT_ASSERT(change.changed);
        CPPUNIT_ASSERT(!change.unreadRose);
        CPPUNIT_ASSERT_EQUAL(std::string("bob "), names(model));
        CPPUNIT_ASSERT(!model.apply(local::UnreadEvent{kBob, 0}).changed);
    }

    void testStrangerWhoWroteIsHeldAsRequest()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob"), user("carol")}, {}, contacts({"bob"})});
        // carol is online, and no contact: not listed until she writes.
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob"), listing(model));
        model.apply(local::UnreadEvent{ConversationId::direct("carol"), 1});
        model.apply(local::PresenceEvent{user("carol"), false});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob [requests] carol:1"), listing(model));
        CPPUNIT_ASSERT_EQUAL(std::string("bob carol(off):1 "), names(model));
        // Read, her lines are still there: she stays held as a request.
        model.apply(local::UnreadEvent{ConversationId::direct("carol"), 0});
        CPPUNIT_ASSERT(model.wrote("carol"));
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob [requests] carol"), listing(model));
        CPPUNIT_ASSERT(!model.entries()[1].online);
        CPPUNIT_ASSERT(model.entries()[1].relation == local::Relation::None);
    }

    void testStrangersPeerdHoldsAreRequestsInALaterWindow()
    {
        RosterModel model;
        // A window opened after carol's lines were read: peerd names her as held.
        model.apply(local::RosterEvent{{user("bob")}, {}, contacts({"bob"}), {"carol"}});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob [requests] carol"), listing(model));
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
        CPPUNIT_ASSERT(!model.apply(local::SentEvent{kBob, 4}).changed);
        CPPUNIT_ASSERT(!model.apply(local::HistoryEvent{kBob, {}}).changed);
        CPPUNIT_ASSERT(!model.apply(local::ErrorEvent{"send", "bob is not online"}).changed);
        CPPUNIT_ASSERT(!model.apply(local::KeysEvent{"bob", kFingerprint, kFingerprint, "", local::Trust::Pinned}).changed);
    }

    void testRosterAndPresenceCarryTrust()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob"), user("carol", local::Trust::Changed), user("sam", local::Trust::Unverified)},
                                       {},
                                       contacts({"bob", "carol", "sam"})});
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
        model.apply(local::RosterEvent{{user("bob")}, {}, contacts({"bob"})});
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
        model.apply(local::RosterEvent{{bob, user("carol")}, {}, contacts({"bob", "carol"})});
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

    void testStateAndStatusFromRosterAndPresence()
    {
        RosterModel model;
        local::UserInfo bob = user("bob");
        bob.state = local::PresenceState::Away;
        bob.status = "back at 3";
        model.apply(local::RosterEvent{{bob, user("carol")}, {}, contacts({"bob", "carol", "dave"})});
        CPPUNIT_ASSERT(model.state("bob") == local::PresenceState::Away);
        const auto entries = model.entries();
        CPPUNIT_ASSERT(entries[0].state == local::PresenceState::Away);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3"), entries[0].status);
        CPPUNIT_ASSERT(entries[1].state == local::PresenceState::Online && entries[1].status.empty());
        // A contact online who changes its state or message: the same user, shown anew.
        local::UserInfo busy = user("carol");
        busy.state = local::PresenceState::Busy;
        busy.status = "in a meeting";
        CPPUNIT_ASSERT(model.apply(local::PresenceEvent{busy, true}).changed);
        CPPUNIT_ASSERT(model.entries()[1].state == local::PresenceState::Busy);
        CPPUNIT_ASSERT_EQUAL(std::string("in a meeting"), model.entries()[1].status);
        // Offline, what it showed is gone with it.
        model.apply(local::PresenceEvent{bob, false});
        CPPUNIT_ASSERT(model.state("bob") == local::PresenceState::Online);
        CPPUNIT_ASSERT(model.entries()[1].name == "bob" && model.entries()[1].status.empty());
        CPPUNIT_ASSERT(model.state("dave") == local::PresenceState::Online);
    }

    void testTrustOutlivesPresence()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {}});
        model.apply(local::TrustEvent{"bob", local::Trust::Changed});
        model.apply(local::PresenceEvent{user("bob"), false});
        CPPUNIT_ASSERT(model.trust("bob") == local::Trust::Changed);
        // Offline with unread lines, bob is listed with the changed key.
        model.apply(local::UnreadEvent{kBob, 1});
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

    void testRosterListsSectionsInOrder()
    {
        RosterModel model;
        model.apply(welcome("alice", local::LinkState::Online));
        using local::Relation;
        model.apply(local::RosterEvent{
            {user("carol"), user("bob"), user("erin"), user("olga"), user("mallory")},
            {{"frank", 2}, {"carol", 1}},
            {contact("dave"), contact("carol"), contact("mallory", Relation::None, true), contact("bob"),
             contact("gina", Relation::Asked, false, "hi gina"), contact("erin", Relation::AskedMe, false, "hi, it's erin"),
             contact("\u5929\u6DAF", Relation::AskedMe)}});
        // Contacts online, offline, then requests (asked and wrote), users asked, blocked; each by name.
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob carol:1 [offline] dave [requests] erin(hi, it's erin) frank:2 "
                                         "\u5929\u6DAF [asked] gina(hi gina) [blocked] mallory"),
                             listing(model));
        const auto entries = model.entries();
        CPPUNIT_ASSERT(entries[0].online && !entries[2].online);
        CPPUNIT_ASSERT(entries[3].relation == Relation::AskedMe);
        CPPUNIT_ASSERT(entries[4].relation == Relation::None);
    }

    void testOnlineNonContactIsNotListed()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob"), user("olga")}, {}, contacts({"bob"})});
        model.apply(local::PresenceEvent{user("pat"), true});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob"), listing(model));
        CPPUNIT_ASSERT(model.isOnline("olga") && model.isOnline("pat"));
        // Asked by the user, an online user waits under asked, not under contacts.
        model.apply(local::ContactEvent{contact("pat", local::Relation::Asked)});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob [asked] pat"), listing(model));
    }

    void testRequestCarriesItsNote()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {}, {}});
        const auto change = model.apply(
            local::ContactEvent{contact("bob", local::Relation::AskedMe, false, "hi alice, it's bob, from the 3rd floor")});
        CPPUNIT_ASSERT(change.changed);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), change.peer);
        CPPUNIT_ASSERT_EQUAL(std::string("[requests] bob(hi alice, it's bob, from the 3rd floor)"), listing(model));
        CPPUNIT_ASSERT(model.contact("bob").relation == local::Relation::AskedMe);
        CPPUNIT_ASSERT_EQUAL(std::string("hi alice, it's bob, from the 3rd floor"), model.contact("bob").note);
    }

    void testContactEventsMoveUsersBetweenSections()
    {
        using local::Relation;
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {}, {}});
        model.apply(local::ContactEvent{contact("bob", Relation::AskedMe, false, "hi")});
        CPPUNIT_ASSERT_EQUAL(std::string("[requests] bob(hi)"), listing(model));
        model.apply(local::ContactEvent{contact("bob", Relation::Contact)});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob"), listing(model));
        model.apply(local::PresenceEvent{user("bob"), false});
        CPPUNIT_ASSERT_EQUAL(std::string("[offline] bob"), listing(model));
        // Removed, bob leaves the list: he never wrote.
        model.apply(local::ContactEvent{contact("bob", Relation::None)});
        CPPUNIT_ASSERT_EQUAL(std::string(""), listing(model));
        CPPUNIT_ASSERT(model.contact("bob").relation == Relation::None);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), model.contact("bob").name);
        model.apply(local::ContactEvent{contact("bob", Relation::Asked, false, "again?")});
        CPPUNIT_ASSERT_EQUAL(std::string("[asked] bob(again?)"), listing(model));
    }

    void testContactEventReportsWhatChanged()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{}, {}, {contact("bob", local::Relation::Asked)}});
        CPPUNIT_ASSERT(!model.apply(local::ContactEvent{contact("bob", local::Relation::Asked)}).changed);
        CPPUNIT_ASSERT(model.apply(local::ContactEvent{contact("bob", local::Relation::Contact)}).changed);
        CPPUNIT_ASSERT(model.apply(local::ContactEvent{contact("bob", local::Relation::Contact, true)}).changed);
        CPPUNIT_ASSERT(!model.apply(local::ContactEvent{contact("bob", local::Relation::Contact, true)}).unreadRose);
        // What peerd says of the identity itself is no row.
        model.apply(welcome("alice", local::LinkState::Online));
        model.apply(local::RosterEvent{{}, {}, {}});
        CPPUNIT_ASSERT(!model.apply(local::ContactEvent{contact("alice", local::Relation::Contact)}).changed);
        CPPUNIT_ASSERT_EQUAL(std::string(""), listing(model));
    }

    void testBlockedUsersAreListedLast()
    {
        using local::Relation;
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob"), user("mallory")}, {{"mallory", 3}}, contacts({"bob", "zed"})});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob [offline] zed [requests] mallory:3"), listing(model));
        // A blocked contact, and a blocked stranger who wrote, go to the end, whatever else they are.
        model.apply(local::ContactEvent{contact("mallory", Relation::None, true)});
        model.apply(local::ContactEvent{contact("bob", Relation::Contact, true)});
        CPPUNIT_ASSERT_EQUAL(std::string("[offline] zed [blocked] bob mallory:3"), listing(model));
        model.apply(local::ContactEvent{contact("bob", Relation::Contact, false)});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob [offline] zed [blocked] mallory:3"), listing(model));
    }

    void testStrangerWhoWroteBecomesContact()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("carol")}, {{"carol", 1}}, {}});
        CPPUNIT_ASSERT_EQUAL(std::string("[requests] carol:1"), listing(model));
        model.apply(local::ContactEvent{contact("carol", local::Relation::Asked)});
        CPPUNIT_ASSERT_EQUAL(std::string("[asked] carol:1"), listing(model));
        model.apply(local::ContactEvent{contact("carol")});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] carol:1"), listing(model));
    }

    void testNothingListedBeforeRoster()
    {
        RosterModel model;
        model.apply(welcome("alice", local::LinkState::Online));
        model.apply(local::ContactEvent{contact("bob")});
        model.apply(local::UnreadEvent{ConversationId::direct("carol"), 1});
        CPPUNIT_ASSERT(model.entries().empty());
        // The roster says it all afresh.
        model.apply(local::RosterEvent{{}, {}, contacts({"dave"})});
        CPPUNIT_ASSERT_EQUAL(std::string("[offline] dave [requests] carol"), listing(model));
    }

    void testDisconnectedForgetsContactsKeepsWhoWrote()
    {
        RosterModel model;
        model.apply(local::RosterEvent{{user("bob")}, {{"carol", 2}}, contacts({"bob"})});
        model.disconnected();
        CPPUNIT_ASSERT(model.contact("bob").relation == local::Relation::None);
        CPPUNIT_ASSERT(model.entries().empty());
        // carol's lines outlive the connection; the next roster has no unread count for her (read elsewhere).
        model.apply(local::RosterEvent{{user("bob")}, {}, contacts({"bob"})});
        CPPUNIT_ASSERT_EQUAL(std::string("[online] bob [requests] carol"), listing(model));
    }

    void testSelfEventSetsOwnStatus()
    {
        using local::PresenceState;
        RosterModel model;
        model.apply(welcome("alice", local::LinkState::Online));
        CPPUNIT_ASSERT(!model.ownStatus());
        CPPUNIT_ASSERT(model.apply(local::SelfEvent{PresenceState::Online, "", false}).changed);
        CPPUNIT_ASSERT(model.ownStatus()->state == PresenceState::Online);
        // Set in another window: every window hears it.
        CPPUNIT_ASSERT(model.apply(local::SelfEvent{PresenceState::Away, "back at 3", false}).changed);
        CPPUNIT_ASSERT(model.ownStatus()->state == PresenceState::Away);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3"), model.ownStatus()->text);
        CPPUNIT_ASSERT(!model.ownStatus()->away);
        CPPUNIT_ASSERT(!model.apply(local::SelfEvent{PresenceState::Away, "back at 3", false}).changed);
        // Away by itself is a change of its own, and says nothing of the roster.
        const auto change = model.apply(local::SelfEvent{PresenceState::Away, "back at 3", true});
        CPPUNIT_ASSERT(change.changed && !change.unreadRose && change.peer.empty());
        CPPUNIT_ASSERT(model.ownStatus()->away);
        CPPUNIT_ASSERT(model.entries().empty());
    }

    void testDisconnectedForgetsOwnStatus()
    {
        RosterModel model;
        model.apply(welcome("alice", local::LinkState::Online));
        model.apply(local::SelfEvent{local::PresenceState::Busy, "in a meeting", false});
        model.disconnected();
        // The next connection says it again after its welcome; until then it is not known.
        CPPUNIT_ASSERT(!model.ownStatus());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), model.self());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterModelTest);
