#include "Fingerprint.h"
#include "LocalClient.h"
#include "PeerTestData.h"
#include "ServedUi.h"
#include "StoreFaults.h"
#include "Wait.h"

#include <Poco/JSON/Array.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

using peerchat::ConversationId;
using namespace peerchat;
using namespace std::chrono_literals;
using test::key;
using test::LocalClient;
using test::peer;

namespace {

// The first event named name that is about peer.
LocalClient::Object waitAbout(LocalClient& client, const std::string& name, const std::string& peer)
{
    return client.waitFor([&](const LocalClient::Object& event) {
        return event->optValue<std::string>("event", "") == name && event->optValue<std::string>("peer", "") == peer;
    });
}

} // namespace

/// UiSession through a real local socket (test::ServedUi); the test drives LocalClients.
class UiSessionTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(UiSessionTest);
    CPPUNIT_TEST(testWelcomeCarriesOwnFingerprint);
    CPPUNIT_TEST(testVerifyGivesFingerprintsToCompare);
    CPPUNIT_TEST(testVerifyOfStrangerHasNoPeerKey);
    CPPUNIT_TEST(testTrustPinsOfferedKeyAndTellsEveryClient);
    CPPUNIT_TEST(testTrustWithNothingOfferedIsAnError);
    CPPUNIT_TEST(testRosterAndPresenceCarryTrust);
    CPPUNIT_TEST(testTrustChangeReachesEveryClient);
    CPPUNIT_TEST(testEventsHeldForLateReaderArriveInOrder);
    CPPUNIT_TEST(testClientPastPendingBoundIsDisconnected);
    CPPUNIT_TEST(testRepeatedKeyAnswersSameLineAndStoresNothing);
    CPPUNIT_TEST(testSendOnFullDiskSaysSoAndStoresNothing);
    CPPUNIT_TEST(testSendToAGroupThisPeerdDoesNotKnowIsRefused);
    CPPUNIT_TEST(testGroupCreateAnswersWithTheGroupAndTellsEveryClient);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { _ui = std::make_unique<test::ServedUi>(); }

    void tearDown() override { _ui.reset(); }

    void testWelcomeCarriesOwnFingerprint()
    {
        LocalClient client(_ui->socketPath());
        const auto welcome = client.waitEvent("welcome");
        CPPUNIT_ASSERT(welcome);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), welcome->getValue<std::string>("self"));
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(_ui->identity().publicKey()), welcome->getValue<std::string>("fingerprint"));
    }

    void testVerifyGivesFingerprintsToCompare()
    {
        onLoop([this] {
            _ui->pins().see("bob", key(1));
            _ui->pins().see("bob", key(2));
        });
        LocalClient client = attach();
        client.sendLine(R"({"op":"verify","peer":"bob"})");
        const auto keys = waitAbout(client, "keys", "bob");
        CPPUNIT_ASSERT_MESSAGE("no keys event", keys);
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(_ui->identity().publicKey()), keys->getValue<std::string>("self"));
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(key(1)), keys->getValue<std::string>("pinned"));
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(key(2)), keys->getValue<std::string>("offered"));
        CPPUNIT_ASSERT_EQUAL(std::string("changed"), keys->getValue<std::string>("trust"));
    }

    void testVerifyOfStrangerHasNoPeerKey()
    {
        LocalClient client = attach();
        client.sendLine(R"({"op":"verify","peer":"carol"})");
        const auto keys = waitAbout(client, "keys", "carol");
        CPPUNIT_ASSERT_MESSAGE("no keys event", keys);
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(_ui->identity().publicKey()), keys->getValue<std::string>("self"));
        CPPUNIT_ASSERT_EQUAL(std::string(), keys->getValue<std::string>("pinned"));
        CPPUNIT_ASSERT_EQUAL(std::string(), keys->getValue<std::string>("offered"));
        CPPUNIT_ASSERT_EQUAL(std::string("unverified"), keys->getValue<std::string>("trust"));
    }

    void testTrustPinsOfferedKeyAndTellsEveryClient()
    {
        onLoop([this] {
            _ui->pins().see("bob", key(1));
            _ui->pins().see("bob", key(2));
        });
        LocalClient first = attach();
        LocalClient second = attach();
        first.sendLine(R"({"op":"trust","peer":"bob"})");
        for (LocalClient* client : {&first, &second}) {
            const auto trust = waitAbout(*client, "trust", "bob");
            CPPUNIT_ASSERT_MESSAGE("a client heard nothing of the trust", trust);
            CPPUNIT_ASSERT_EQUAL(std::string("pinned"), trust->getValue<std::string>("trust"));
        }
        onLoop([this] {
            CPPUNIT_ASSERT(_ui->pins().pinned("bob") == key(2));
            CPPUNIT_ASSERT(!_ui->pins().offered("bob"));
        });
        first.sendLine(R"({"op":"verify","peer":"bob"})");
        const auto keys = waitAbout(first, "keys", "bob");
        CPPUNIT_ASSERT(keys);
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(key(2)), keys->getValue<std::string>("pinned"));
        CPPUNIT_ASSERT_EQUAL(std::string(), keys->getValue<std::string>("offered"));
        CPPUNIT_ASSERT_EQUAL(std::string("pinned"), keys->getValue<std::string>("trust"));
    }

    void testTrustWithNothingOfferedIsAnError()
    {
        onLoop([this] { _ui->pins().see("bob", key(1)); });
        LocalClient first = attach();
        LocalClient second = attach();
        first.sendLine(R"({"op":"trust","peer":"bob"})");
        const auto error = first.waitEvent("error");
        CPPUNIT_ASSERT_MESSAGE("no error event", error);
        CPPUNIT_ASSERT_EQUAL(std::string("trust"), error->getValue<std::string>("op"));
        CPPUNIT_ASSERT_EQUAL(std::string("nothing to trust: bob's key has not changed"),
                             error->getValue<std::string>("message"));
        // The error goes to the asking client only, and no trust event to anyone:
        // second's roster reply comes after anything the trust request sent it.
        second.sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(second.waitEvent("roster"));
        CPPUNIT_ASSERT(!second.waitFor([](const LocalClient::Object& event) {
            const std::string name = event->optValue<std::string>("event", "");
            return name == "trust" || name == "error";
        }, 0ms));
        onLoop([this] { CPPUNIT_ASSERT(_ui->pins().pinned("bob") == key(1)); });
    }

    void testRosterAndPresenceCarryTrust()
    {
        onLoop([this] {
            _ui->roster().here("bob", peer("127.0.0.1:5002", Dialect::Peerchat));
            _ui->roster().here("seed", peer("127.0.0.1:5003", Dialect::Seed));
            _ui->pins().see("bob", key(1));
            _ui->pins().see("bob", key(2));
        });
        LocalClient client = attach();
        client.sendLine(R"({"op":"roster"})");
        const auto roster = client.waitEvent("roster");
        CPPUNIT_ASSERT(roster);
        const auto users = roster->getArray("users");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), users->size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), users->getObject(0)->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("changed"), users->getObject(0)->getValue<std::string>("trust"));
        CPPUNIT_ASSERT_EQUAL(std::string("seed"), users->getObject(1)->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("unverified"), users->getObject(1)->getValue<std::string>("trust"));

        onLoop([this] {
            _ui->pins().see("carol", key(3));
            const auto change = _ui->roster().here("carol", peer("127.0.0.1:5004", Dialect::Peerchat));
            _ui->server().presenceChanged(*change);
        });
        const auto presence = client.waitEvent("presence");
        CPPUNIT_ASSERT(presence);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), presence->getObject("user")->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("pinned"), presence->getObject("user")->getValue<std::string>("trust"));
        CPPUNIT_ASSERT_EQUAL(std::string("online"), presence->getObject("user")->getValue<std::string>("state"));

        // carol, still online, shows another state and a message: a presence event says so.
        onLoop([this] {
            Roster::Peer busy = peer("127.0.0.1:5004", Dialect::Peerchat);
            busy.state = PresenceState::Busy;
            busy.status = "in a meeting";
            const auto change = _ui->roster().here("carol", busy);
            CPPUNIT_ASSERT(change && change->statusOnly);
            _ui->server().presenceChanged(*change);
        });
        const auto busy = client.waitEvent("presence");
        CPPUNIT_ASSERT(busy);
        CPPUNIT_ASSERT(busy->getValue<bool>("online"));
        CPPUNIT_ASSERT_EQUAL(std::string("busy"), busy->getObject("user")->getValue<std::string>("state"));
        CPPUNIT_ASSERT_EQUAL(std::string("in a meeting"), busy->getObject("user")->getValue<std::string>("status"));
    }

    void testTrustChangeReachesEveryClient()
    {
        LocalClient first = attach();
        LocalClient second = attach();
        onLoop([this] { _ui->server().trustChanged("bob", local::Trust::Changed); });
        for (LocalClient* client : {&first, &second}) {
            const auto trust = waitAbout(*client, "trust", "bob");
            CPPUNIT_ASSERT_MESSAGE("a client heard nothing of the change", trust);
            CPPUNIT_ASSERT_EQUAL(std::string("changed"), trust->getValue<std::string>("trust"));
        }
    }

    void testEventsHeldForLateReaderArriveInOrder()
    {
        LocalClient client = attach();
        // 3 MB in one turn of the loop, more than the socket takes: most waits in the backlog.
        onLoop([this] {
            for (int i = 0; i < 200; ++i) {
                _ui->server().broadcast(local::ErrorEvent{std::to_string(i), std::string(15000, 'x')});
            }
            CPPUNIT_ASSERT(_ui->server().backlogBytes() > 2000000);
        });
        for (int i = 0; i < 200; ++i) {
            const auto event = client.waitEvent("error");
            CPPUNIT_ASSERT_MESSAGE("event " + std::to_string(i) + " did not come", event);
            CPPUNIT_ASSERT_EQUAL(std::to_string(i), event->getValue<std::string>("op"));
        }
        std::size_t held = 1;
        CPPUNIT_ASSERT(test::waitUntil([&] {
            onLoop([&] { held = _ui->server().backlogBytes(); });
            return held == 0;
        }));
    }

    void testClientPastPendingBoundIsDisconnected()
    {
        LocalClient stalled = attach();
        stalled.sendLine(R"({"op":"subscribe","peer":"bob"})");
        CPPUNIT_ASSERT(stalled.waitEvent("history"));
        LocalClient reader = attach();
        const local::ErrorEvent filler{"", std::string(60000, 'x')};
        onLoop([&] {
            for (std::size_t queued = 0; queued <= UiSession::kMaxPendingBytes; queued += filler.message.size()) {
                _ui->server().broadcastTo(ConversationId::direct("bob"), filler);
            }
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), _ui->server().attached());
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), _ui->server().backlogBytes());
        });
        CPPUNIT_ASSERT(stalled.waitClosed());
        reader.sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(reader.waitEvent("roster"));
    }

    void testRepeatedKeyAnswersSameLineAndStoresNothing()
    {
        LocalClient sender = attach();
        LocalClient watcher = attach();
        watcher.sendLine(R"({"op":"subscribe","peer":"bob"})");
        CPPUNIT_ASSERT(waitAbout(watcher, "history", "bob"));
        sender.sendLine(R"({"op":"send","to":"bob","text":"only once","key":"K1"})");
        const auto first = sender.waitEvent("sent");
        CPPUNIT_ASSERT_MESSAGE("no sent event", first);
        CPPUNIT_ASSERT_EQUAL(std::string("K1"), first->getValue<std::string>("key"));
        CPPUNIT_ASSERT(watcher.waitEvent("message"));

        sender.sendLine(R"({"op":"send","to":"bob","text":"only once","key":"K1"})");
        const auto again = sender.waitEvent("sent");
        CPPUNIT_ASSERT_MESSAGE("no sent event for the repeat", again);
        CPPUNIT_ASSERT_EQUAL(first->getValue<std::uint64_t>("id"), again->getValue<std::uint64_t>("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("K1"), again->getValue<std::string>("key"));

        // The next line's message comes after anything the repeat would have caused.
        sender.sendLine(R"({"op":"send","to":"bob","text":"marker","key":"K2"})");
        const auto next = watcher.waitEvent("message");
        CPPUNIT_ASSERT(next);
        CPPUNIT_ASSERT_EQUAL(std::string("marker"), next->getObject("line")->getValue<std::string>("text"));
        onLoop([this] {
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), _ui->store().lines.history(ConversationId::direct("bob")).size());
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), _ui->store().outbox.outbox().size());
        });
    }

    void testSendOnFullDiskSaysSoAndStoresNothing()
    {
        LocalClient client = attach();
        onLoop([this] { peerchat::test::failWrites(_ui->store()); });
        const std::string page(4000, 'x');
        client.sendLine(R"({"op":"send","to":"bob","text":")" + page + R"(","key":"K1"})");
        const auto error = client.waitEvent("error");
        CPPUNIT_ASSERT_MESSAGE("no error event", error);
        CPPUNIT_ASSERT_EQUAL(std::string("send"), error->getValue<std::string>("op"));
        CPPUNIT_ASSERT_EQUAL(std::string("K1"), error->getValue<std::string>("key"));
        CPPUNIT_ASSERT_EQUAL(std::string("the line to bob was not sent: the disk holding :memory: is full; free some "
                                         "space and send again"),
                             error->getValue<std::string>("message"));
        // The same send, once there is room, is a new line: nothing of the refused one was kept.
        onLoop([this] {
            _ui->store().database.limitPages(1000000);
            CPPUNIT_ASSERT(_ui->store().lines.history(ConversationId::direct("bob")).empty());
        });
        client.sendLine(R"({"op":"send","to":"bob","text":")" + page + R"(","key":"K1"})");
        const auto sent = client.waitEvent("sent");
        CPPUNIT_ASSERT_MESSAGE("no sent event once there was room", sent);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), sent->getValue<std::uint64_t>("id"));
    }

    void testSendToAGroupThisPeerdDoesNotKnowIsRefused()
    {
        const std::string id = "00112233445566778899aabbccddeeff";
        LocalClient client = attach();
        client.sendLine(R"({"op":"send","group":")" + id + R"(","text":"hi all","key":"G1"})");
        const auto error = client.waitEvent("error");
        CPPUNIT_ASSERT_MESSAGE("no error event", error);
        CPPUNIT_ASSERT_EQUAL(std::string("send"), error->getValue<std::string>("op"));
        CPPUNIT_ASSERT_EQUAL(std::string("G1"), error->getValue<std::string>("key"));
        CPPUNIT_ASSERT_EQUAL("this peerd knows no group " + id, error->getValue<std::string>("message"));
        // A group's conversation reads like any other: its history, empty.
        client.sendLine(R"({"op":"subscribe","group":")" + id + R"("})");
        const auto history = client.waitEvent("history");
        CPPUNIT_ASSERT_MESSAGE("no history event", history);
        CPPUNIT_ASSERT_EQUAL(id, history->getValue<std::string>("group"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), history->getArray("lines")->size());
        onLoop([this] { CPPUNIT_ASSERT(_ui->store().outbox.outbox().empty()); });
    }

    void testGroupCreateAnswersWithTheGroupAndTellsEveryClient()
    {
        LocalClient maker = attach();
        LocalClient other = attach();
        maker.sendLine(R"({"op":"group-create","name":"天涯 team","req":"g1"})");
        const auto made = maker.waitEvent("group");
        CPPUNIT_ASSERT_MESSAGE("no group event", made);
        CPPUNIT_ASSERT_EQUAL(std::string("g1"), made->getValue<std::string>("req"));
        const auto group = made->getObject("group");
        const std::string id = group->getValue<std::string>("id");
        CPPUNIT_ASSERT(ConversationId::isGroupId(id));
        CPPUNIT_ASSERT_EQUAL(std::string("天涯 team"), group->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(1, group->getValue<int>("version"));
        const auto members = group->getArray("members");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), members->size());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), members->getObject(0)->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("owner"), members->getObject(0)->getValue<std::string>("role"));
        // Every other client hears of it, without the request's id; each roster lists it.
        const auto heard = other.waitEvent("group");
        CPPUNIT_ASSERT_MESSAGE("the other client heard nothing", heard);
        CPPUNIT_ASSERT(!heard->has("req"));
        CPPUNIT_ASSERT_EQUAL(id, heard->getObject("group")->getValue<std::string>("id"));
        other.sendLine(R"({"op":"roster"})");
        const auto roster = other.waitEvent("roster");
        CPPUNIT_ASSERT(roster);
        CPPUNIT_ASSERT_EQUAL(id, roster->getArray("groups")->getObject(0)->getValue<std::string>("id"));
        // The maker hears of it once.
        maker.sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(maker.waitEvent("roster"));
        CPPUNIT_ASSERT(!maker.waitFor([](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "group";
        }, 0ms));
        onLoop([&] {
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), _ui->store().groups.groups().count(id));
        });
        // A name no group may have is refused, and makes no group.
        maker.sendLine(R"({"op":"group-create","name":""})");
        const auto error = maker.waitEvent("error");
        CPPUNIT_ASSERT_MESSAGE("no error event", error);
        const std::string message = error->getValue<std::string>("message");
        CPPUNIT_ASSERT_MESSAGE(message, message.find("a group's name may not be empty") != std::string::npos);
        onLoop([this] { CPPUNIT_ASSERT_EQUAL(std::size_t(1), _ui->store().groups.groups().size()); });
    }

private:
    void onLoop(const std::function<void()>& task) { _ui->onLoop(task); }
    LocalClient attach() { return _ui->attach(); }

    std::unique_ptr<test::ServedUi> _ui;
};

CPPUNIT_TEST_SUITE_REGISTRATION(UiSessionTest);
