#include "ConversationStore.h"
#include "DatagramSink.h"
#include "EventLoop.h"
#include "Fingerprint.h"
#include "KeyPins.h"
#include "LocalClient.h"
#include "PeerTestData.h"
#include "Roster.h"
#include "SigningKey.h"
#include "TempDir.h"
#include "UiServer.h"
#include "WireLink.h"

#include <Poco/JSON/Array.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

using namespace peerchat;
using namespace std::chrono_literals;
using test::key;
using test::LocalClient;
using test::peer;

namespace {

/// Drops every datagram: these tests never log in.
class NullSink : public DatagramSink
{
public:
    void sendTo(std::string_view, const Endpoint&) override {}
};

// The first event named name that is about peer.
LocalClient::Object waitAbout(LocalClient& client, const std::string& name, const std::string& peer)
{
    return client.waitFor([&](const LocalClient::Object& event) {
        return event->optValue<std::string>("event", "") == name && event->optValue<std::string>("peer", "") == peer;
    });
}

} // namespace

/// UiSession through a real local socket: a UiServer and a WireLink that never
/// logs in, on a loop of their own thread; the test drives LocalClients.
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
    CPPUNIT_TEST(testRepeatedKeyAnswersSameLineAndStoresNothing);
    CPPUNIT_TEST(testSendOnFullDiskSaysSoAndStoresNothing);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _server = std::make_unique<UiServer>(_loop, _roster, _store, _pins, _identity.publicKey(), "alice",
                                             _dir.file("alice.sock"));
        WireLink::Settings settings;
        settings.self = "alice";
        settings.index = Endpoint::parse("127.0.0.1:9").value();
        _wire = std::make_unique<WireLink>(_loop, _sink, _roster, _store, _pins, _identity, *_server, settings,
                                           [](const std::string&) {});
        _server->serve(*_wire);
        _thread = std::thread([this] { _loop.run(); });
    }

    void tearDown() override
    {
        if (!_thread.joinable()) return;
        onLoop([this] { _server->stop("test over"); });
        _loop.stop();
        _thread.join();
    }

    void testWelcomeCarriesOwnFingerprint()
    {
        LocalClient client(_dir.file("alice.sock"));
        const auto welcome = client.waitEvent("welcome");
        CPPUNIT_ASSERT(welcome);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), welcome->getValue<std::string>("self"));
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(_identity.publicKey()), welcome->getValue<std::string>("fingerprint"));
    }

    void testVerifyGivesFingerprintsToCompare()
    {
        onLoop([this] {
            _pins.see("bob", key(1));
            _pins.see("bob", key(2));
        });
        LocalClient client = attach();
        client.sendLine(R"({"op":"verify","peer":"bob"})");
        const auto keys = waitAbout(client, "keys", "bob");
        CPPUNIT_ASSERT_MESSAGE("no keys event", keys);
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(_identity.publicKey()), keys->getValue<std::string>("self"));
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
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(_identity.publicKey()), keys->getValue<std::string>("self"));
        CPPUNIT_ASSERT_EQUAL(std::string(), keys->getValue<std::string>("pinned"));
        CPPUNIT_ASSERT_EQUAL(std::string(), keys->getValue<std::string>("offered"));
        CPPUNIT_ASSERT_EQUAL(std::string("unverified"), keys->getValue<std::string>("trust"));
    }

    void testTrustPinsOfferedKeyAndTellsEveryClient()
    {
        onLoop([this] {
            _pins.see("bob", key(1));
            _pins.see("bob", key(2));
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
            CPPUNIT_ASSERT(_pins.pinned("bob") == key(2));
            CPPUNIT_ASSERT(!_pins.offered("bob"));
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
        onLoop([this] { _pins.see("bob", key(1)); });
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
        onLoop([this] { CPPUNIT_ASSERT(_pins.pinned("bob") == key(1)); });
    }

    void testRosterAndPresenceCarryTrust()
    {
        onLoop([this] {
            _roster.login("bob", peer("127.0.0.1:5002", Dialect::Peerchat));
            _roster.login("seed", peer("127.0.0.1:5003", Dialect::Seed));
            _pins.see("bob", key(1));
            _pins.see("bob", key(2));
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
            _pins.see("carol", key(3));
            const auto change = _roster.login("carol", peer("127.0.0.1:5004", Dialect::Peerchat));
            _server->presenceChanged(*change);
        });
        const auto presence = client.waitEvent("presence");
        CPPUNIT_ASSERT(presence);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), presence->getObject("user")->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("pinned"), presence->getObject("user")->getValue<std::string>("trust"));
    }

    void testTrustChangeReachesEveryClient()
    {
        LocalClient first = attach();
        LocalClient second = attach();
        onLoop([this] { _server->trustChanged("bob", local::Trust::Changed); });
        for (LocalClient* client : {&first, &second}) {
            const auto trust = waitAbout(*client, "trust", "bob");
            CPPUNIT_ASSERT_MESSAGE("a client heard nothing of the change", trust);
            CPPUNIT_ASSERT_EQUAL(std::string("changed"), trust->getValue<std::string>("trust"));
        }
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
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), _store.history("bob").size());
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), _store.outbox().size());
        });
    }

    void testSendOnFullDiskSaysSoAndStoresNothing()
    {
        LocalClient client = attach();
        onLoop([this] { _store.limitPages(1); });
        const std::string page(4000, 'x');
        client.sendLine(R"({"op":"send","to":"bob","text":")" + page + R"(","key":"K1"})");
        const auto error = client.waitEvent("error");
        CPPUNIT_ASSERT_MESSAGE("no error event", error);
        CPPUNIT_ASSERT_EQUAL(std::string("send"), error->getValue<std::string>("op"));
        CPPUNIT_ASSERT_EQUAL(std::string("K1"), error->getValue<std::string>("key"));
        CPPUNIT_ASSERT_EQUAL(std::string("the line to bob was not sent: the disk holding :memory: is full; free some "
                                         "space and send again"),
                             error->getValue<std::string>("message"));
        onLoop([this] { CPPUNIT_ASSERT(_store.history("bob").empty()); });

        // The same send, once there is room, is a new line: nothing of the refused one was kept.
        onLoop([this] { _store.limitPages(1000000); });
        client.sendLine(R"({"op":"send","to":"bob","text":")" + page + R"(","key":"K1"})");
        const auto sent = client.waitEvent("sent");
        CPPUNIT_ASSERT_MESSAGE("no sent event once there was room", sent);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), sent->getValue<std::uint64_t>("id"));
    }

private:
    // Runs task on the loop's thread and waits for it: the state the loop owns
    // is touched from there only.
    void onLoop(const std::function<void()>& task)
    {
        auto done = std::make_shared<std::promise<void>>();
        std::future<void> finished = done->get_future();
        _loop.post([task, done] {
            try {
                task();
                done->set_value();
            } catch (...) {
                done->set_exception(std::current_exception());
            }
        });
        CPPUNIT_ASSERT_MESSAGE("the loop did not run the task", finished.wait_for(10s) == std::future_status::ready);
        finished.get();
    }

    LocalClient attach()
    {
        LocalClient client(_dir.file("alice.sock"));
        CPPUNIT_ASSERT_MESSAGE("no welcome", client.waitEvent("welcome"));
        return client;
    }

    test::TempDir _dir;
    EventLoop _loop;
    Roster _roster{"alice"};
    ConversationStore _store{100};
    KeyPins _pins{_store};
    SigningKey _identity = SigningKey::generate();
    NullSink _sink;
    std::unique_ptr<UiServer> _server;
    std::unique_ptr<WireLink> _wire;
    std::thread _thread;
};

CPPUNIT_TEST_SUITE_REGISTRATION(UiSessionTest);
