#include "ConversationStore.h"
#include "DatagramSink.h"
#include "EventLoop.h"
#include "Protocol.h"
#include "Roster.h"
#include "RosterCodec.h"
#include "Utf8.h"
#include "WireLink.h"
#include "WireListener.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

using namespace peerchat;
using namespace std::chrono_literals;

namespace {

Endpoint endpoint(const std::string& text)
{
    return Endpoint::parse(text).value();
}

const Endpoint kIndex = endpoint("127.0.0.1:9400");
const Endpoint kSelf = endpoint("127.0.0.1:5001");
const Endpoint kBob = endpoint("127.0.0.1:5002");
const Endpoint kDotNet = endpoint("127.0.0.1:5003");

/// Keeps every datagram instead of sending it.
class RecordingSink : public DatagramSink
{
public:
    struct Datagram
    {
        std::string bytes;
        Endpoint to;
    };

    void sendTo(std::string_view bytes, const Endpoint& to) override { sent.push_back({std::string(bytes), to}); }

    std::vector<Datagram> sent;
};

/// Keeps every report WireLink makes.
class RecordingListener : public WireListener
{
public:
    void linkStateChanged(local::LinkState state, const std::string& detail) override
    {
        states.emplace_back(state, detail);
    }
    void presenceChanged(const Roster::Change& change) override { presence.push_back(change); }
    void lineReceived(const local::ChatLine& line, std::uint32_t unread) override { lines.emplace_back(line, unread); }

    std::vector<std::pair<local::LinkState, std::string>> states;
    std::vector<Roster::Change> presence;
    std::vector<std::pair<local::ChatLine, std::uint32_t>> lines;
};

// Runs loop until condition holds or timeout passes; true when it held.
bool runUntil(EventLoop& loop, const std::function<bool()>& condition, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::function<void()> check = [&] {
        if (condition() || std::chrono::steady_clock::now() >= deadline) {
            loop.stop();
            return;
        }
        loop.runAfter(5ms, check);
    };
    loop.runAfter(0ms, check);
    loop.run();
    return condition();
}

} // namespace

class WireLinkTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(WireLinkTest);
    CPPUNIT_TEST(testStartSendsLoginWithDialect);
    CPPUNIT_TEST(testLoginResentUntilIndexAnswers);
    CPPUNIT_TEST(testAcceptFetchesRosterAndGoesOnline);
    CPPUNIT_TEST(testPresenceDuringRosterFetchSurvivesOlderSnapshot);
    CPPUNIT_TEST(testLogoutBeforeAcceptStillSent);
    CPPUNIT_TEST(testLogoutWithoutLoginSendsNothing);
    CPPUNIT_TEST(testLogoutAfterRefusalSendsNothing);
    CPPUNIT_TEST(testRefuseTakenReportsAndStops);
    CPPUNIT_TEST(testRefuseNotFromIndexDropped);
    CPPUNIT_TEST(testPresenceFromIndexUpdatesRoster);
    CPPUNIT_TEST(testPresenceNotFromIndexDropped);
    CPPUNIT_TEST(testTalkFromRegisteredEndpointStored);
    CPPUNIT_TEST(testSpoofedTalkDropped);
    CPPUNIT_TEST(testTalkFromStrangerDropped);
    CPPUNIT_TEST(testDotNetTalkAcceptedFromAnyPortOfItsAddress);
    CPPUNIT_TEST(testMalformedDatagramsDropped);
    CPPUNIT_TEST(testSendUsesUtf8ForPeerchatPeer);
    CPPUNIT_TEST(testSendUsesUtf16ForDotNetPeer);
    CPPUNIT_TEST(testSendToOfflineUserRefused);
    CPPUNIT_TEST(testSendToSelfRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _loop = std::make_unique<EventLoop>();
        _sink = RecordingSink();
        _roster = std::make_unique<Roster>("alice");
        _store = std::make_unique<ConversationStore>(100);
        _listener = RecordingListener();
        _refused = false;
        makeLink(2000ms);
    }

    void tearDown() override
    {
        _link.reset();
        _loop.reset();
    }

    void testStartSendsLoginWithDialect()
    {
        _link->start();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::string("login,alice,127.0.0.1:5001,peerchat/1"), _sink.sent[0].bytes);
        CPPUNIT_ASSERT(_sink.sent[0].to == kIndex);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
    }

    void testLoginResentUntilIndexAnswers()
    {
        makeLink(10ms);
        _link->start();
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _sink.sent.size() >= 3; }, 5s));
        for (const auto& datagram : _sink.sent) {
            CPPUNIT_ASSERT_EQUAL(std::string("login,alice,127.0.0.1:5001,peerchat/1"), datagram.bytes);
        }
        CPPUNIT_ASSERT(!_listener.states.empty());
        CPPUNIT_ASSERT(_listener.states[0].first == local::LinkState::Connecting);
        CPPUNIT_ASSERT(_listener.states[0].second.find("no answer from indexd at 127.0.0.1:9400") != std::string::npos);
    }

    void testAcceptFetchesRosterAndGoesOnline()
    {
        Poco::Net::ServerSocket server(Poco::Net::SocketAddress("127.0.0.1", 0));
        const std::string roster = RosterCodec::encode({{"alice", kSelf, "peerchat/1"},
                                                        {"bob", kBob, "peerchat/1"},
                                                        {"dn", kDotNet, "dotnet"}},
                                                       RosterFormat::Peerchat);
        _loop->watch(server.impl()->sockfd(), EventLoop::Readable, [&](short) {
            Poco::Net::StreamSocket connection = server.acceptConnection();
            connection.sendBytes(roster.data(), static_cast<int>(roster.size()));
            connection.close();
        });

        _link->start();
        deliver("Accept," + std::to_string(server.address().port()), kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _link->state() == local::LinkState::Online; }, 5s));
        _loop->unwatch(server.impl()->sockfd());

        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _roster->peers().size());
        CPPUNIT_ASSERT(_roster->find("dn")->dialect == Dialect::DotNet);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.presence.size());
        CPPUNIT_ASSERT(_listener.states.back().first == local::LinkState::Online);

        _link->logout();
        CPPUNIT_ASSERT_EQUAL(std::string("logout,alice,127.0.0.1:5001"), _sink.sent.back().bytes);
        CPPUNIT_ASSERT(_sink.sent.back().to == kIndex);
    }

    void testPresenceDuringRosterFetchSurvivesOlderSnapshot()
    {
        Poco::Net::ServerSocket server(Poco::Net::SocketAddress("127.0.0.1", 0));
        const std::string roster = RosterCodec::encode({{"alice", kSelf, "peerchat/1"}, {"bob", kBob, "peerchat/1"}},
                                                       RosterFormat::Peerchat);
        _loop->watch(server.impl()->sockfd(), EventLoop::Readable, [&](short) {
            // Broadcasts that reach peerd before a snapshot taken without them.
            deliver("login,carol,127.0.0.1:5004,peerchat/1", kIndex);
            deliver("logout,bob,127.0.0.1:5002", kIndex);
            Poco::Net::StreamSocket connection = server.acceptConnection();
            connection.sendBytes(roster.data(), static_cast<int>(roster.size()));
            connection.close();
        });

        _link->start();
        deliver("Accept," + std::to_string(server.address().port()), kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _link->state() == local::LinkState::Online; }, 5s));
        _loop->unwatch(server.impl()->sockfd());

        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT(!_listener.presence.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), _listener.presence.back().name);
        CPPUNIT_ASSERT(!_listener.presence.back().online);
    }

    void testLogoutBeforeAcceptStillSent()
    {
        _link->start();
        _link->logout();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::string("logout,alice,127.0.0.1:5001"), _sink.sent[1].bytes);
        _link->logout();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
    }

    void testLogoutWithoutLoginSendsNothing()
    {
        _link->logout();
        CPPUNIT_ASSERT(_sink.sent.empty());
    }

    void testLogoutAfterRefusalSendsNothing()
    {
        _link->start();
        deliver("refuse,alice,taken", kIndex);
        _link->logout();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
    }

    void testRefuseTakenReportsAndStops()
    {
        _link->start();
        deliver("refuse,alice,taken", kIndex);
        CPPUNIT_ASSERT(_refused);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Refused);
        CPPUNIT_ASSERT(_listener.states.back().first == local::LinkState::Refused);
        CPPUNIT_ASSERT_EQUAL(std::string("indexd refused alice: the name is online from another endpoint; choose "
                                         "another --user or stop the other peerd"),
                             _listener.states.back().second);
    }

    void testRefuseNotFromIndexDropped()
    {
        _link->start();
        deliver("refuse,alice,taken", kBob);
        deliver("refuse,bob,taken", kIndex);
        CPPUNIT_ASSERT(!_refused);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
    }

    void testPresenceFromIndexUpdatesRoster()
    {
        deliver("login,bob,127.0.0.1:5002,peerchat/1", kIndex);
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.presence.size());
        CPPUNIT_ASSERT(_listener.presence[0].online);

        deliver("logout,bob,127.0.0.1:5002", kIndex);
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.presence.size());
        CPPUNIT_ASSERT(!_listener.presence[1].online);
    }

    void testPresenceNotFromIndexDropped()
    {
        deliver("login,mallory,127.0.0.1:6666,peerchat/1", endpoint("127.0.0.1:9401"));
        CPPUNIT_ASSERT(_roster->find("mallory") == nullptr);

        deliver("login,bob,127.0.0.1:5002,peerchat/1", kIndex);
        deliver("logout,bob,127.0.0.1:5002", kBob);
        deliver("logout,bob,127.0.0.1:5002", endpoint("127.0.0.2:9400"));
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.presence.size());
    }

    void testTalkFromRegisteredEndpointStored()
    {
        deliver("login,bob,127.0.0.1:5002,peerchat/1", kIndex);
        deliver("talk,12:00:01,bob,hi, alice", kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        const local::ChatLine& line = _listener.lines[0].first;
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), line.id);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), line.peer);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), line.from);
        CPPUNIT_ASSERT(!line.outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("12:00:01"), line.sentTime);
        CPPUNIT_ASSERT_EQUAL(std::string("hi, alice"), line.text);
        CPPUNIT_ASSERT(line.receivedAtMs > 1600000000000);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), _listener.lines[0].second);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->history("bob").size());
    }

    void testSpoofedTalkDropped()
    {
        deliver("login,bob,127.0.0.1:5002,peerchat/1", kIndex);
        deliver("talk,12:00:01,bob,spoofed", endpoint("127.0.0.1:6666"));
        deliver("talk,12:00:01,bob,spoofed", kIndex);
        deliver("talk,12:00:01,bob,spoofed", endpoint("127.0.0.2:5002"));
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_store->history("bob").empty());
    }

    void testTalkFromStrangerDropped()
    {
        deliver("talk,12:00:01,mallory,hello", endpoint("127.0.0.1:6666"));
        deliver("talk,12:00:01,alice,hello", kSelf);
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_store->history("mallory").empty());
    }

    void testDotNetTalkAcceptedFromAnyPortOfItsAddress()
    {
        deliver("login,dn,127.0.0.1:5003,dotnet", kIndex);
        _link->handleDatagram(Utf8::toUtf16le("talk,3:04:05 PM,dn,你好, alice"), endpoint("127.0.0.1:40000"));
        _link->handleDatagram(Utf8::toUtf16le("talk,3:04:06 PM,dn,spoofed"), endpoint("127.0.0.2:40000"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("你好, alice"), _listener.lines[0].first.text);
        CPPUNIT_ASSERT_EQUAL(std::string("3:04:05 PM"), _listener.lines[0].first.sentTime);
    }

    void testMalformedDatagramsDropped()
    {
        deliver("login,bob,127.0.0.1:5002,peerchat/1", kIndex);
        const std::vector<std::string> junk{
            "",
            "hello",
            "talk",
            "talk,12:00:00",
            "talk,12:00:00,bob,bad \xff utf-8",
            std::string("talk,12:00:00,bob,nul\0inside", 27),
            "talk,12:00:00,bob," + std::string(Protocol::kMaxTextBytes + 1, 'x'),
            std::string(Protocol::kMaxDatagramBytes + 1, 'a'),
            "logout,bob",
            "login,bob,not-an-endpoint",
            "Accept,0",
            "Accept,99999",
            std::string("t\0a\0", 4),
        };
        for (const std::string& bytes : junk) {
            _link->handleDatagram(bytes, kBob);
            _link->handleDatagram(bytes, kIndex);
        }
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _roster->peers().size());
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
    }

    void testSendUsesUtf8ForPeerchatPeer()
    {
        deliver("login,bob,127.0.0.1:5002,peerchat/1", kIndex);
        const auto line = _link->sendTalk("bob", "你好, world");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), line->id);
        CPPUNIT_ASSERT(line->outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), line->from);
        CPPUNIT_ASSERT(_sink.sent.back().to == kBob);
        CPPUNIT_ASSERT(std::regex_match(_sink.sent.back().bytes, std::regex("talk,[0-2][0-9]:[0-5][0-9]:[0-5][0-9],alice,你好, world")));
        CPPUNIT_ASSERT_EQUAL("talk," + line->sentTime + ",alice,你好, world", _sink.sent.back().bytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->history("bob").size());
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), _store->unread("bob"));
    }

    void testSendUsesUtf16ForDotNetPeer()
    {
        deliver("login,dn,127.0.0.1:5003,dotnet", kIndex);
        const auto line = _link->sendTalk("dn", "你好, world");
        CPPUNIT_ASSERT(line.ok());
        const std::string& bytes = _sink.sent.back().bytes;
        CPPUNIT_ASSERT(_sink.sent.back().to == kDotNet);
        CPPUNIT_ASSERT(bytes.size() > 2 && bytes[0] == 't' && bytes[1] == '\0');
        const auto text = Utf8::fromUtf16le(bytes);
        CPPUNIT_ASSERT(text.has_value());
        CPPUNIT_ASSERT_EQUAL("talk," + line->sentTime + ",alice,你好, world", *text);
    }

    void testSendToOfflineUserRefused()
    {
        const auto line = _link->sendTalk("bob", "hello");
        CPPUNIT_ASSERT(!line.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("bob is not online; "), line.error().substr(0, 19));
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT(_store->history("bob").empty());
    }

    void testSendToSelfRefused()
    {
        const auto line = _link->sendTalk("alice", "hello");
        CPPUNIT_ASSERT(!line.ok());
        CPPUNIT_ASSERT(line.error().find("yourself") != std::string::npos);
        CPPUNIT_ASSERT(_sink.sent.empty());
    }

private:
    void makeLink(std::chrono::milliseconds loginRetry)
    {
        WireLink::Settings settings;
        settings.self = "alice";
        settings.index = kIndex;
        settings.loginEndpoint = kSelf;
        settings.loginRetry = loginRetry;
        settings.rosterDeadline = 5000ms;
        _link.reset();
        _link = std::make_unique<WireLink>(*_loop, _sink, *_roster, *_store, _listener, settings,
                                           [this] { _refused = true; });
    }

    void deliver(const std::string& text, const Endpoint& from) { _link->handleDatagram(text, from); }

    std::unique_ptr<EventLoop> _loop;
    RecordingSink _sink;
    std::unique_ptr<Roster> _roster;
    std::unique_ptr<ConversationStore> _store;
    RecordingListener _listener;
    bool _refused = false;
    std::unique_ptr<WireLink> _link;
};

CPPUNIT_TEST_SUITE_REGISTRATION(WireLinkTest);
