#include "PresenceText.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::chatui::PresenceText;
namespace local = peerchat::local;
using local::PresenceState;

class PresenceTextTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PresenceTextTest);
    CPPUNIT_TEST(testOwnStateNamesEveryState);
    CPPUNIT_TEST(testOwnStateAddsTheMessage);
    CPPUNIT_TEST(testOwnStateSaysAwayByItself);
    CPPUNIT_TEST(testOwnLineNamesTheIdentity);
    CPPUNIT_TEST(testMarksTellStatesApart);
    CPPUNIT_TEST(testPeerDetailNamesStateThenMessage);
    CPPUNIT_TEST(testTypingNamesThePeer);
    CPPUNIT_TEST(testPeerTagAndNoteSayWhatIsKnownOfANonContact);
    CPPUNIT_TEST_SUITE_END();

public:
    void testOwnStateNamesEveryState()
    {
        for (const auto& [state, name] : {std::pair{PresenceState::Online, "online"}, std::pair{PresenceState::Away, "away"},
                                          std::pair{PresenceState::Busy, "busy"},
                                          std::pair{PresenceState::Invisible, "invisible"}})
            CPPUNIT_ASSERT_EQUAL(std::string(name), PresenceText::ownState(local::SelfEvent{state, "", false}));
    }

    void testOwnStateAddsTheMessage()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("away: back at 3"),
                             PresenceText::ownState(local::SelfEvent{PresenceState::Away, "back at 3", false}));
        const local::SelfEvent busy{PresenceState::Busy, "in a meeting, then lunch", false};
        CPPUNIT_ASSERT_EQUAL(std::string("busy: in a meeting, then lunch"), PresenceText::ownState(busy));
    }

    void testOwnStateSaysAwayByItself()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("away (idle)"),
                             PresenceText::ownState(local::SelfEvent{PresenceState::Away, "", true}));
        // The message set while online stays while away by itself.
        CPPUNIT_ASSERT_EQUAL(std::string("away (idle): at my desk"),
                             PresenceText::ownState(local::SelfEvent{PresenceState::Away, "at my desk", true}));
    }

    void testOwnLineNamesTheIdentity()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("alice \u00B7 away: back at 3"),
                             PresenceText::ownLine("alice", local::SelfEvent{PresenceState::Away, "back at 3", false}));
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF \u00B7 online"),
                             PresenceText::ownLine("\u5929\u6DAF", local::SelfEvent{PresenceState::Online, "", false}));
    }

    void testMarksTellStatesApart()
    {
        const std::string online = PresenceText::mark(PresenceState::Online);
        const std::string away = PresenceText::mark(PresenceState::Away);
        const std::string busy = PresenceText::mark(PresenceState::Busy);
        for (const std::string& mark : {online, away, busy}) CPPUNIT_ASSERT_EQUAL(std::size_t(1), mark.size());
        CPPUNIT_ASSERT(online != away && away != busy && busy != online);
        CPPUNIT_ASSERT_EQUAL(std::string(), PresenceText::mark(PresenceState::Invisible));
    }

    void testPeerDetailNamesStateThenMessage()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("(away) back at 3"), PresenceText::peerDetail(PresenceState::Away, "back at 3"));
        CPPUNIT_ASSERT_EQUAL(std::string("(busy)"), PresenceText::peerDetail(PresenceState::Busy, ""));
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), PresenceText::peerDetail(PresenceState::Online, "\u5929\u6DAF"));
        CPPUNIT_ASSERT_EQUAL(std::string(), PresenceText::peerDetail(PresenceState::Online, ""));
    }

    void testPeerTagAndNoteSayWhatIsKnownOfANonContact()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("(busy)"), PresenceText::peerTag(true, true, PresenceState::Busy));
        CPPUNIT_ASSERT_EQUAL(std::string("(offline)"), PresenceText::peerTag(true, false, PresenceState::Online));
        // indexd never tells a non-contact's presence: not "offline", which it may not be.
        CPPUNIT_ASSERT_EQUAL(std::string("(not a contact)"), PresenceText::peerTag(false, false, PresenceState::Online));
        // A seed user in legacy mode is seen online without being a contact.
        CPPUNIT_ASSERT_EQUAL(std::string("(online)"), PresenceText::peerTag(false, true, PresenceState::Online));
        CPPUNIT_ASSERT_EQUAL(std::string(), PresenceText::reachNote("sam", false, true));
        CPPUNIT_ASSERT_EQUAL(std::string(), PresenceText::reachNote("bob", true, true));
        CPPUNIT_ASSERT_EQUAL(std::string("bob is offline; lines you send wait for them"),
                             PresenceText::reachNote("bob", true, false));
        CPPUNIT_ASSERT_EQUAL(std::string("bob is not a contact (presence hidden); lines go through indexd"),
                             PresenceText::reachNote("bob", false, false));
    }

    void testTypingNamesThePeer()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("bob is typing..."), PresenceText::typing("bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF is typing..."), PresenceText::typing("\u5929\u6DAF"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PresenceTextTest);
