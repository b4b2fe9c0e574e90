#include "OwnStatus.h"
#include "PeerStore.h"

#include "TempDir.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace peerchat;
using peerchat::test::TempDir;
using std::chrono::minutes;
using State = PresenceState;

class OwnStatusTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(OwnStatusTest);
    CPPUNIT_TEST(testOnlineWithoutMessageAtFirst);
    CPPUNIT_TEST(testStateAndMessageOutliveARestart);
    CPPUNIT_TEST(testMessageOfMoreThan140CharactersIsRefused);
    CPPUNIT_TEST(testIdleOnlineIdentityGoesAwayUntilUsed);
    CPPUNIT_TEST(testAutoAwayOffBusyOrInvisibleNeverGoesAway);
    CPPUNIT_TEST(testSettingsKeepStateTokens);
    CPPUNIT_TEST_SUITE_END();

public:
    void testOnlineWithoutMessageAtFirst()
    {
        PeerStore store(100);
        const OwnStatus status(store.settings, minutes(0), {});
        CPPUNIT_ASSERT(status.state() == State::Online && status.text().empty() && !status.autoAway());
    }

    void testStateAndMessageOutliveARestart()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            PeerStore store(path, 100);
            OwnStatus status(store.settings, minutes(0), {});
            CPPUNIT_ASSERT(status.set(State::Away, "back at 3, 你好", {}).empty());
        }
        PeerStore store(path, 100);
        const OwnStatus status(store.settings, minutes(0), {});
        CPPUNIT_ASSERT(status.state() == State::Away);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3, 你好"), status.text());
    }

    void testMessageOfMoreThan140CharactersIsRefused()
    {
        PeerStore store(100);
        OwnStatus status(store.settings, minutes(0), {});
        std::string text;
        for (int i = 0; i < 140; ++i) text += "天";
        CPPUNIT_ASSERT(status.set(State::Busy, text, {}).empty());
        CPPUNIT_ASSERT(!status.set(State::Online, text + "x", {}).empty());
        CPPUNIT_ASSERT(!status.set(State::Online, "\xff", {}).empty());
        // Refused: nothing changed.
        CPPUNIT_ASSERT(status.state() == State::Busy && status.text() == text);
    }

    void testIdleOnlineIdentityGoesAwayUntilUsed()
    {
        PeerStore store(100);
        const OwnStatus::TimePoint start{};
        OwnStatus status(store.settings, minutes(5), start);
        CPPUNIT_ASSERT(status.awayAt() == start + minutes(5));
        CPPUNIT_ASSERT(!status.idle(start + minutes(4)));
        CPPUNIT_ASSERT(!status.active(start + minutes(4)));
        CPPUNIT_ASSERT(status.awayAt() == start + minutes(9));
        CPPUNIT_ASSERT(status.idle(start + minutes(9)));
        CPPUNIT_ASSERT(status.state() == State::Away && status.autoAway());
        CPPUNIT_ASSERT(!status.awayAt());
        CPPUNIT_ASSERT(status.active(start + minutes(20)));
        CPPUNIT_ASSERT(status.state() == State::Online && !status.autoAway());
        // Away by itself is not kept: a restart comes back online.
        status.idle(start + minutes(25));
        const OwnStatus restarted(store.settings, minutes(5), start + minutes(26));
        CPPUNIT_ASSERT(restarted.state() == State::Online);
    }

    void testAutoAwayOffBusyOrInvisibleNeverGoesAway()
    {
        PeerStore store(100);
        const OwnStatus::TimePoint start{};
        OwnStatus off(store.settings, minutes(0), start);
        CPPUNIT_ASSERT(!off.awayAt() && !off.idle(start + minutes(1000)));
        OwnStatus busy(store.settings, minutes(1), start);
        busy.set(State::Busy, "", start);
        CPPUNIT_ASSERT(!busy.idle(start + minutes(10)) && busy.state() == State::Busy);
        busy.set(State::Invisible, "", start);
        CPPUNIT_ASSERT(!busy.idle(start + minutes(10)) && busy.state() == State::Invisible);
    }

    void testSettingsKeepStateTokens()
    {
        PeerStore store(100);
        OwnStatus status(store.settings, minutes(0), {});
        for (const auto& [state, token] : {std::pair{State::Online, "online"}, std::pair{State::Away, "away"},
                                           std::pair{State::Busy, "busy"}, std::pair{State::Invisible, "invisible"}}) {
            CPPUNIT_ASSERT(status.set(state, "", {}).empty());
            CPPUNIT_ASSERT_EQUAL(std::string(token), store.settings.settings().at(OwnStatus::kStateSetting));
        }
        // A token this peerd does not know leaves the identity online.
        store.settings.saveSettings({{OwnStatus::kStateSetting, "dnd"}});
        CPPUNIT_ASSERT(OwnStatus(store.settings, minutes(0), {}).state() == State::Online);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OwnStatusTest);
