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
    void lineStateChanged(const std::string& peer, std::uint64_t id, local::LineState state) override
    {
        statuses.push_back({peer, id, state});
    }
    void deliveryProblem(const std::string& peer, const std::string& detail) override
    {
        problems.emplace_back(peer, detail);
    }

    std::vector<std::pair<local::LinkState, std::string>> states;
    std::vector<Roster::Change> presence;
    std::vector<std::pair<local::ChatLine, std::uint32_t>> lines;
    std::vector<local::StatusEvent> statuses;
    std::vector<std::pair<std::string, std::string>> problems;
};

/// indexd's peerchat roster port on the test's loop: writes roster to every
/// connection and closes it, counting connections.
class RosterServer
{
public:
    explicit RosterServer(EventLoop& loop) : _loop(loop), _socket(Poco::Net::SocketAddress("127.0.0.1", 0))
    {
        _loop.watch(_socket.impl()->sockfd(), EventLoop::Readable, [this](short) {
            Poco::Net::StreamSocket connection = _socket.acceptConnection();
            ++connections;
            connection.sendBytes(roster.data(), static_cast<int>(roster.size()));
            connection.close();
        });
    }
    ~RosterServer() { _loop.unwatch(_socket.impl()->sockfd()); }

    std::uint16_t port() const { return _socket.address().port(); }

    std::string roster;
    int connections = 0;

private:
    EventLoop& _loop;
    Poco::Net::ServerSocket _socket;
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
    CPPUNIT_TEST(testSendToPeerchatPeerGoesAsMsg);
    CPPUNIT_TEST(testSendUsesUtf16ForDotNetPeer);
    CPPUNIT_TEST(testSendToSeedPeerIsOneTalkMarkedSent);
    CPPUNIT_TEST(testSendToSelfRefused);
    CPPUNIT_TEST(testSendBeforeRosterWaitsForIt);
    CPPUNIT_TEST(testMsgResentWithBackoffUntilAcked);
    CPPUNIT_TEST(testAckMarksDeliveredUpToSeq);
    CPPUNIT_TEST(testAckFromWrongSourceIgnored);
    CPPUNIT_TEST(testGiveUpMarksFailedAndKeepsTrying);
    CPPUNIT_TEST(testSendToOfflinePeerGoesToIndex);
    CPPUNIT_TEST(testStoreResentUntilStored);
    CPPUNIT_TEST(testFullLeavesLineQueuedAndReportsOnce);
    CPPUNIT_TEST(testQueuedLinesGoDirectWhenPeerLogsIn);
    CPPUNIT_TEST(testQueuedLinesTalkedOnceWhenPeerIsSeed);
    CPPUNIT_TEST(testLinesToPeerThatLeftGoToIndex);
    CPPUNIT_TEST(testOutboxLeftInStoreGoesOutAfterStart);
    CPPUNIT_TEST(testMsgDeliveredAndAcked);
    CPPUNIT_TEST(testDuplicateMsgAckedNotDeliveredTwice);
    CPPUNIT_TEST(testOutOfOrderMsgHeldThenDelivered);
    CPPUNIT_TEST(testMsgFromIndexDeliveredAndAckedToIndex);
    CPPUNIT_TEST(testMsgFromWrongSourceDropped);
    CPPUNIT_TEST(testHeartbeatCarriesPresenceSeq);
    CPPUNIT_TEST(testSilentIndexMeansRelogin);
    CPPUNIT_TEST(testReloginFromIndexLogsInAgain);
    CPPUNIT_TEST(testPresenceGapRefetchesRoster);
    CPPUNIT_TEST(testOldPresenceIgnored);
    CPPUNIT_TEST(testSeenNewerRefetchesRoster);
    CPPUNIT_TEST(testRosterRefetchReportsWhoLeftAndCame);
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
        makeLink(settings());
    }

    void tearDown() override
    {
        _link.reset();
        _rosterServer.reset();
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
        WireLink::Settings quick = settings();
        quick.loginRetry = 10ms;
        makeLink(quick);
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

    void testSendToPeerchatPeerGoesAsMsg()
    {
        goOnline({{"bob", kBob, "peerchat/1"}});
        const auto line = _link->sendTalk("bob", "你好, world");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), line->id);
        CPPUNIT_ASSERT(line->outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), line->from);
        CPPUNIT_ASSERT(line->state == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT(_sink.sent[0].to == kBob);
        const std::string stream = streamTo("bob");
        CPPUNIT_ASSERT(std::regex_match(_sink.sent[0].bytes,
                                        std::regex("msg,[0-9a-f]+,1,[0-2][0-9]:[0-5][0-9]:[0-5][0-9],alice,你好, world")));
        CPPUNIT_ASSERT_EQUAL("msg," + stream + ",1," + line->sentTime + ",alice,你好, world", _sink.sent[0].bytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->history("bob").size());
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), _store->unread("bob"));

        CPPUNIT_ASSERT(_link->sendTalk("bob", "two").ok());
        CPPUNIT_ASSERT_EQUAL("msg," + stream + ",2,", _sink.sent[1].bytes.substr(0, stream.size() + 7));
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
        CPPUNIT_ASSERT(line->state == local::LineState::Sent);
        CPPUNIT_ASSERT(_store->outbox().empty());
    }

    void testSendToSeedPeerIsOneTalkMarkedSent()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {5ms, 10ms, 50ms};
        goOnline(quick, {{"seed1", kBob, "seed"}});
        const auto line = _link->sendTalk("seed1", "hello, seed");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT(line->state == local::LineState::Sent);
        CPPUNIT_ASSERT(stateOf("seed1", 1) == local::LineState::Sent);
        CPPUNIT_ASSERT(_store->outbox().empty());
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > 1; }, 100ms));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL("talk," + line->sentTime + ",alice,hello, seed", _sink.sent[0].bytes);
        CPPUNIT_ASSERT(_sink.sent[0].to == kBob);
    }

    void testSendToSelfRefused()
    {
        const auto line = _link->sendTalk("alice", "hello");
        CPPUNIT_ASSERT(!line.ok());
        CPPUNIT_ASSERT(line.error().find("yourself") != std::string::npos);
        CPPUNIT_ASSERT(_sink.sent.empty());
    }

    void testSendBeforeRosterWaitsForIt()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {5ms, 10ms, 60000ms};
        makeLink(quick);
        _link->start();
        _sink.sent.clear();
        const auto line = _link->sendTalk("bob", "early");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT(line->state == local::LineState::Pending);
        // Without a roster bob's whereabouts are unknown: nothing goes anywhere yet.
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return !sentStartingWith("msg,").empty() ||
                                                        !sentStartingWith("store,").empty(); }, 100ms));

        RosterServer server(*_loop);
        server.roster = RosterCodec::encode({{"bob", kBob, "peerchat/1"}}, RosterFormat::Peerchat);
        deliver("Accept," + std::to_string(server.port()), kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("msg,").empty(); }, 5s));
        CPPUNIT_ASSERT(sentStartingWith("msg,")[0].to == kBob);
        CPPUNIT_ASSERT(sentStartingWith("store,").empty());
    }

    void testMsgResentWithBackoffUntilAcked()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {20ms, 80ms, 60000ms};
        goOnline(quick, {{"bob", kBob, "peerchat/1"}});
        const auto begin = std::chrono::steady_clock::now();
        CPPUNIT_ASSERT(_link->sendTalk("bob", "again and again").ok());
        std::vector<std::chrono::steady_clock::duration> at;
        CPPUNIT_ASSERT(runUntil(*_loop, [&] {
            while (at.size() < _sink.sent.size()) at.push_back(std::chrono::steady_clock::now() - begin);
            return _sink.sent.size() >= 5;
        }, 5s));
        for (const auto& datagram : _sink.sent) {
            CPPUNIT_ASSERT_EQUAL(_sink.sent[0].bytes, datagram.bytes);
            CPPUNIT_ASSERT(datagram.to == kBob);
        }
        // 0, 20, 60, 140, 220 ms: each wait twice the last, at most 80 ms.
        CPPUNIT_ASSERT(at[1] >= 20ms && at[2] >= 60ms && at[3] >= 140ms && at[4] >= 220ms);
        CPPUNIT_ASSERT(at[4] - at[3] < at[3] - at[2] + 40ms);

        deliver("ack,bob," + streamTo("bob") + ",1", kBob);
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Delivered);
        const std::size_t sentBefore = _sink.sent.size();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > sentBefore; }, 200ms));
        CPPUNIT_ASSERT(_store->outbox().empty());
    }

    void testAckMarksDeliveredUpToSeq()
    {
        goOnline({{"bob", kBob, "peerchat/1"}});
        for (int i = 1; i <= 3; ++i) CPPUNIT_ASSERT(_link->sendTalk("bob", "line " + std::to_string(i)).ok());
        const std::string stream = streamTo("bob");
        deliver("ack,bob," + stream + ",2", kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.statuses.size());
        CPPUNIT_ASSERT(hasStatus("bob", 1, local::LineState::Delivered));
        CPPUNIT_ASSERT(hasStatus("bob", 2, local::LineState::Delivered));
        CPPUNIT_ASSERT(stateOf("bob", 3) == local::LineState::Pending);
        deliver("ack,bob," + stream + ",2", kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.statuses.size());
        deliver("ack,bob," + stream + ",3", kBob);
        CPPUNIT_ASSERT(hasStatus("bob", 3, local::LineState::Delivered));
        CPPUNIT_ASSERT(_store->outbox().empty());
    }

    void testAckFromWrongSourceIgnored()
    {
        goOnline({{"bob", kBob, "peerchat/1"}, {"carol", endpoint("127.0.0.1:5004"), "peerchat/1"}});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "for bob").ok());
        const std::string stream = streamTo("bob");
        deliver("ack,bob," + stream + ",1", endpoint("127.0.0.1:5004"));
        deliver("ack,bob," + stream + ",1", kIndex);
        deliver("ack,bob," + stream + ",1", endpoint("127.0.0.2:5002"));
        deliver("ack,carol," + stream + ",1", endpoint("127.0.0.1:5004"));
        deliver("ack,mallory," + stream + ",1", kBob);
        CPPUNIT_ASSERT(_listener.statuses.empty());
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->outbox().size());
    }

    void testGiveUpMarksFailedAndKeepsTrying()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {10ms, 20ms, 100ms};
        goOnline(quick, {{"bob", kBob, "peerchat/1"}});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "anyone?").ok());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return hasStatus("bob", 1, local::LineState::Failed); }, 5s));
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Failed);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->outbox().size());
        const std::size_t sentBefore = _sink.sent.size();
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _sink.sent.size() > sentBefore; }, 5s));
        CPPUNIT_ASSERT_EQUAL(_sink.sent[0].bytes, _sink.sent.back().bytes);

        deliver("ack,bob," + streamTo("bob") + ",1", kBob);
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Delivered);
    }

    void testSendToOfflinePeerGoesToIndex()
    {
        goOnline({});
        const auto line = _link->sendTalk("bob", "while you were out, 你好");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT(line->state == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT(_sink.sent[0].to == kIndex);
        const std::string stream = streamTo("bob");
        CPPUNIT_ASSERT_EQUAL("store,bob," + stream + ",1," + line->sentTime + ",alice,while you were out, 你好",
                             _sink.sent[0].bytes);

        deliver("stored,bob," + stream + ",1", kIndex);
        CPPUNIT_ASSERT(hasStatus("bob", 1, local::LineState::Stored));
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Stored);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->outbox().size());
    }

    void testStoreResentUntilStored()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {10ms, 20ms, 60000ms};
        goOnline(quick, {});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "keep it").ok());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _sink.sent.size() >= 3; }, 5s));
        for (const auto& datagram : _sink.sent) {
            CPPUNIT_ASSERT_EQUAL(_sink.sent[0].bytes, datagram.bytes);
            CPPUNIT_ASSERT(datagram.to == kIndex);
        }
        // Only indexd says what it keeps.
        deliver("stored,bob," + streamTo("bob") + ",1", kBob);
        CPPUNIT_ASSERT(_listener.statuses.empty());
        deliver("stored,bob," + streamTo("bob") + ",1", kIndex);
        const std::size_t sentBefore = _sink.sent.size();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > sentBefore; }, 150ms));
        CPPUNIT_ASSERT(!hasStatus("bob", 1, local::LineState::Failed));
    }

    void testFullLeavesLineQueuedAndReportsOnce()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {10ms, 20ms, 60000ms};
        goOnline(quick, {});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "one").ok());
        CPPUNIT_ASSERT(_link->sendTalk("bob", "two").ok());
        const std::string stream = streamTo("bob");
        deliver("full,bob," + stream + ",1", kIndex);
        deliver("full,bob," + stream + ",2", kIndex);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.problems.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), _listener.problems[0].first);
        CPPUNIT_ASSERT_EQUAL(std::string("bob's mailbox at indexd is full: your lines to bob wait in the outbox and "
                                         "go out when bob is online"),
                             _listener.problems[0].second);
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _store->outbox().size());
        const std::size_t sentBefore = _sink.sent.size();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > sentBefore; }, 100ms));

        deliver("login,bob,127.0.0.1:5002,peerchat/1", kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("msg,").size() >= 2; }, 5s));
    }

    void testQueuedLinesGoDirectWhenPeerLogsIn()
    {
        goOnline({});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "first").ok());
        CPPUNIT_ASSERT(_link->sendTalk("bob", "second").ok());
        const std::string stream = streamTo("bob");
        deliver("stored,bob," + stream + ",1", kIndex);
        deliver("stored,bob," + stream + ",2", kIndex);
        _sink.sent.clear();

        deliver("login,bob,127.0.0.1:5002,peerchat/1", kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("msg,").size() >= 2; }, 5s));
        const auto msgs = sentStartingWith("msg,");
        CPPUNIT_ASSERT(msgs[0].to == kBob);
        CPPUNIT_ASSERT_EQUAL("msg," + stream + ",1,", msgs[0].bytes.substr(0, stream.size() + 7));
        CPPUNIT_ASSERT_EQUAL("msg," + stream + ",2,", msgs[1].bytes.substr(0, stream.size() + 7));
        deliver("ack,bob," + stream + ",2", kBob);
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Delivered);
        CPPUNIT_ASSERT(stateOf("bob", 2) == local::LineState::Delivered);
    }

    void testQueuedLinesTalkedOnceWhenPeerIsSeed()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {10ms, 20ms, 60000ms};
        goOnline(quick, {});
        CPPUNIT_ASSERT(_link->sendTalk("seed1", "first").ok());
        CPPUNIT_ASSERT(_link->sendTalk("seed1", "second").ok());
        _sink.sent.clear();

        deliver("login,seed1,127.0.0.1:5002", kIndex);
        const auto talks = sentStartingWith("talk,");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), talks.size());
        CPPUNIT_ASSERT(talks[0].to == kBob);
        CPPUNIT_ASSERT(std::regex_match(talks[0].bytes, std::regex("talk,[0-9:]+,alice,first")));
        CPPUNIT_ASSERT(std::regex_match(talks[1].bytes, std::regex("talk,[0-9:]+,alice,second")));
        CPPUNIT_ASSERT(hasStatus("seed1", 1, local::LineState::Sent));
        CPPUNIT_ASSERT(hasStatus("seed1", 2, local::LineState::Sent));
        CPPUNIT_ASSERT(stateOf("seed1", 2) == local::LineState::Sent);
        CPPUNIT_ASSERT(_store->outbox().empty());
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > 2; }, 100ms));
    }

    void testLinesToPeerThatLeftGoToIndex()
    {
        goOnline({{"bob", kBob, "peerchat/1"}});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "are you still there?").ok());
        CPPUNIT_ASSERT(sentStartingWith("store,").empty());
        deliver("logout,bob,127.0.0.1:5002", kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("store,").empty(); }, 5s));
        CPPUNIT_ASSERT(sentStartingWith("store,")[0].to == kIndex);
    }

    void testOutboxLeftInStoreGoesOutAfterStart()
    {
        _store->enqueue("bob", "alice", "11:00:00", 1, "from before");
        const OutboxEntry kept = _store->enqueue("carol", "alice", "11:00:01", 2, "kept by indexd");
        _store->setState("carol", kept.lineId, local::LineState::Stored);
        goOnline({{"bob", kBob, "peerchat/1"}});
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("msg,").empty(); }, 5s));
        CPPUNIT_ASSERT_EQUAL("msg," + streamTo("bob") + ",1,11:00:00,alice,from before",
                             sentStartingWith("msg,")[0].bytes);
        // carol's line is at indexd already: it waits for carol.
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return !sentStartingWith("store,").empty(); }, 100ms));
    }

    void testMsgDeliveredAndAcked()
    {
        goOnline({{"bob", kBob, "peerchat/1"}});
        deliver("msg,b0b,1,12:00:01,bob,hi, alice", kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        const local::ChatLine& line = _listener.lines[0].first;
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), line.peer);
        CPPUNIT_ASSERT_EQUAL(std::string("hi, alice"), line.text);
        CPPUNIT_ASSERT_EQUAL(std::string("12:00:01"), line.sentTime);
        CPPUNIT_ASSERT(line.state == local::LineState::Received);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), _listener.lines[0].second);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,1"), _sink.sent[0].bytes);
        CPPUNIT_ASSERT(_sink.sent[0].to == kBob);
    }

    void testDuplicateMsgAckedNotDeliveredTwice()
    {
        goOnline({{"bob", kBob, "peerchat/1"}});
        deliver("msg,b0b,1,12:00:01,bob,one", kBob);
        deliver("msg,b0b,2,12:00:02,bob,two", kBob);
        deliver("msg,b0b,1,12:00:01,bob,one", kBob);
        deliver("msg,b0b,2,12:00:02,bob,two", kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _store->history("bob").size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,1"), _sink.sent[0].bytes);
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,2"), _sink.sent[1].bytes);
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,2"), _sink.sent[2].bytes);
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,2"), _sink.sent[3].bytes);
    }

    void testOutOfOrderMsgHeldThenDelivered()
    {
        goOnline({{"bob", kBob, "peerchat/1"}});
        deliver("msg,b0b,3,12:00:03,bob,three", kBob);
        deliver("msg,b0b,2,12:00:02,bob,two", kBob);
        CPPUNIT_ASSERT(_listener.lines.empty());
        // Nothing of the stream is delivered yet, so there is no position to ack.
        CPPUNIT_ASSERT(_sink.sent.empty());
        deliver("msg,b0b,1,12:00:01,bob,one", kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("one"), _listener.lines[0].first.text);
        CPPUNIT_ASSERT_EQUAL(std::string("two"), _listener.lines[1].first.text);
        CPPUNIT_ASSERT_EQUAL(std::string("three"), _listener.lines[2].first.text);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(3), _listener.lines[2].second);
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,3"), _sink.sent.back().bytes);

        deliver("msg,b0b,5,12:00:05,bob,five", kBob);
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,3"), _sink.sent.back().bytes);
        deliver("msg,b0b,4,12:00:04,bob,four", kBob);
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,5"), _sink.sent.back().bytes);
        CPPUNIT_ASSERT_EQUAL(std::string("five"), _listener.lines.back().first.text);
    }

    void testMsgFromIndexDeliveredAndAckedToIndex()
    {
        goOnline({});
        deliver("msg,c0c,1,09:00:00,carol,left while you were out", kIndex);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), _listener.lines[0].first.peer);
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,c0c,1"), _sink.sent.back().bytes);
        CPPUNIT_ASSERT(_sink.sent.back().to == kIndex);

        // carol comes online and sends the same line directly: acked, not shown again.
        deliver("login,carol,127.0.0.1:5004,peerchat/1", kIndex);
        deliver("msg,c0c,1,09:00:00,carol,left while you were out", endpoint("127.0.0.1:5004"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,c0c,1"), _sink.sent.back().bytes);
        CPPUNIT_ASSERT(_sink.sent.back().to == endpoint("127.0.0.1:5004"));
    }

    void testMsgFromWrongSourceDropped()
    {
        goOnline({{"bob", kBob, "peerchat/1"}});
        deliver("msg,b0b,1,12:00:01,bob,spoofed", endpoint("127.0.0.1:6666"));
        deliver("msg,b0b,1,12:00:01,bob,spoofed", endpoint("127.0.0.2:5002"));
        deliver("msg,b0b,1,12:00:01,mallory,stranger", endpoint("127.0.0.1:6666"));
        deliver("msg,b0b,1,12:00:01,alice,myself", kBob);
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT(_store->history("bob").empty());
    }

    void testHeartbeatCarriesPresenceSeq()
    {
        WireLink::Settings quick = settings();
        quick.heartbeat = 20ms;
        goOnline(quick, {{"bob", kBob, "peerchat/1"}}, 7);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), _link->presenceSeq());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("alive,").empty(); }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,7"), sentStartingWith("alive,")[0].bytes);
        CPPUNIT_ASSERT(sentStartingWith("alive,")[0].to == kIndex);
        deliver("seen,7", kIndex);
        deliver("login,carol,127.0.0.1:5004,peerchat/1,8", kIndex);
        const std::size_t before = sentStartingWith("alive,").size();
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("alive,").size() > before; }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,8"), sentStartingWith("alive,").back().bytes);
    }

    void testSilentIndexMeansRelogin()
    {
        WireLink::Settings quick = settings();
        quick.heartbeat = 10ms;
        quick.loginRetry = 10000ms;
        goOnline(quick, {{"bob", kBob, "peerchat/1"}});
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _link->state() == local::LinkState::Connecting; }, 5s));
        CPPUNIT_ASSERT(_listener.states.back().second.find("no answer from indexd at 127.0.0.1:9400 for") == 0);
        CPPUNIT_ASSERT_EQUAL(std::string("login,alice,127.0.0.1:5001,peerchat/1"), _sink.sent.back().bytes);
        CPPUNIT_ASSERT(sentStartingWith("alive,").size() >= 2);

        deliver("Accept," + std::to_string(_rosterServer->port()), kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _link->state() == local::LinkState::Online; }, 5s));
        CPPUNIT_ASSERT_EQUAL(2, _rosterServer->connections);
    }

    void testReloginFromIndexLogsInAgain()
    {
        goOnline({{"bob", kBob, "peerchat/1"}});
        deliver("relogin,bob", kIndex);
        deliver("relogin,alice", kBob);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(_sink.sent.empty());

        deliver("relogin,alice", kIndex);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
        CPPUNIT_ASSERT_EQUAL(std::string("login,alice,127.0.0.1:5001,peerchat/1"), _sink.sent.back().bytes);
        // indexd restarted: its roster has carol now, not bob, and counts from 1 again.
        _rosterServer->roster = RosterCodec::encode({{"alice", kSelf, "peerchat/1"},
                                                     {"carol", endpoint("127.0.0.1:5004"), "peerchat/1"}},
                                                    RosterFormat::Peerchat, 1);
        deliver("Accept," + std::to_string(_rosterServer->port()), kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _link->state() == local::LinkState::Online; }, 5s));
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _link->presenceSeq());
        deliver("login,dave,127.0.0.1:5005,peerchat/1,2", kIndex);
        CPPUNIT_ASSERT(_roster->find("dave") != nullptr);
    }

    void testPresenceGapRefetchesRoster()
    {
        goOnline({{"bob", kBob, "peerchat/1"}}, 5);
        deliver("login,carol,127.0.0.1:5004,peerchat/1,6", kIndex);
        CPPUNIT_ASSERT_EQUAL(1, _rosterServer->connections);
        // 7 was lost: dave is applied and the roster read again, which knows of erin too.
        _rosterServer->roster = RosterCodec::encode({{"alice", kSelf, "peerchat/1"},
                                                     {"bob", kBob, "peerchat/1"},
                                                     {"carol", endpoint("127.0.0.1:5004"), "peerchat/1"},
                                                     {"dave", endpoint("127.0.0.1:5005"), "peerchat/1"},
                                                     {"erin", endpoint("127.0.0.1:5006"), "peerchat/1"}},
                                                    RosterFormat::Peerchat, 8);
        deliver("login,dave,127.0.0.1:5005,peerchat/1,8", kIndex);
        CPPUNIT_ASSERT(_roster->find("dave") != nullptr);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _roster->find("erin") != nullptr; }, 5s));
        CPPUNIT_ASSERT_EQUAL(2, _rosterServer->connections);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(8), _link->presenceSeq());
    }

    void testOldPresenceIgnored()
    {
        goOnline({{"bob", kBob, "peerchat/1"}}, 5);
        deliver("logout,bob,127.0.0.1:5002,5", kIndex);
        deliver("logout,bob,127.0.0.1:5002,4", kIndex);
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        deliver("logout,bob,127.0.0.1:5002,6", kIndex);
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        deliver("login,bob,127.0.0.1:5002,peerchat/1,6", kIndex);
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT_EQUAL(1, _rosterServer->connections);
    }

    void testSeenNewerRefetchesRoster()
    {
        goOnline({{"bob", kBob, "peerchat/1"}}, 5);
        deliver("seen,5", kIndex);
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _rosterServer->connections > 1; }, 50ms));
        _rosterServer->roster = RosterCodec::encode({{"alice", kSelf, "peerchat/1"}}, RosterFormat::Peerchat, 9);
        deliver("seen,9", kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _roster->find("bob") == nullptr; }, 5s));
        CPPUNIT_ASSERT_EQUAL(2, _rosterServer->connections);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(9), _link->presenceSeq());
        deliver("seen,9", kIndex);
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _rosterServer->connections > 2; }, 50ms));
    }

    void testRosterRefetchReportsWhoLeftAndCame()
    {
        goOnline({{"bob", kBob, "peerchat/1"}, {"carol", endpoint("127.0.0.1:5004"), "peerchat/1"}}, 3);
        _rosterServer->roster = RosterCodec::encode({{"alice", kSelf, "peerchat/1"},
                                                     {"carol", endpoint("127.0.0.1:5004"), "peerchat/1"},
                                                     {"dave", endpoint("127.0.0.1:5005"), "peerchat/1"}},
                                                    RosterFormat::Peerchat, 10);
        deliver("seen,10", kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _listener.presence.size() >= 2; }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.presence.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), _listener.presence[0].name);
        CPPUNIT_ASSERT(!_listener.presence[0].online);
        CPPUNIT_ASSERT_EQUAL(std::string("dave"), _listener.presence[1].name);
        CPPUNIT_ASSERT(_listener.presence[1].online);
        // Still online: a refetch is no new login.
        CPPUNIT_ASSERT(_listener.states.empty());
    }

private:
    static WireLink::Settings settings()
    {
        WireLink::Settings settings;
        settings.self = "alice";
        settings.index = kIndex;
        settings.loginEndpoint = kSelf;
        settings.loginRetry = 2000ms;
        settings.rosterDeadline = 5000ms;
        settings.heartbeat = 10000ms;
        settings.retransmit = {300ms, 8000ms, 60000ms};
        settings.receiveWindow = 16;
        return settings;
    }

    void makeLink(const WireLink::Settings& settings)
    {
        _link.reset();
        _link = std::make_unique<WireLink>(*_loop, _sink, *_roster, *_store, _listener, settings,
                                           [this] { _refused = true; });
    }

    /// Logs in with settings, indexd's roster holding users (and alice) and
    /// ending with presenceSeq; returns once the link is online, the sink emptied.
    void goOnline(const WireLink::Settings& settings, std::vector<RosterEntry> users, std::uint64_t presenceSeq = 0)
    {
        makeLink(settings);
        users.push_back({"alice", kSelf, "peerchat/1"});
        _rosterServer = std::make_unique<RosterServer>(*_loop);
        _rosterServer->roster = RosterCodec::encode(users, RosterFormat::Peerchat, presenceSeq);
        _link->start();
        deliver("Accept," + std::to_string(_rosterServer->port()), kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _link->state() == local::LinkState::Online; }, 5s));
        _sink.sent.clear();
        _listener.presence.clear();
        _listener.states.clear();
    }

    void goOnline(std::vector<RosterEntry> users, std::uint64_t presenceSeq = 0)
    {
        goOnline(settings(), std::move(users), presenceSeq);
    }

    /// The datagrams sent so far whose text starts with prefix.
    std::vector<RecordingSink::Datagram> sentStartingWith(const std::string& prefix) const
    {
        std::vector<RecordingSink::Datagram> found;
        for (const auto& datagram : _sink.sent) {
            if (datagram.bytes.rfind(prefix, 0) == 0) found.push_back(datagram);
        }
        return found;
    }

    /// The outgoing stream to peer, as the store's outbox names it.
    std::string streamTo(const std::string& peer) const
    {
        for (const OutboxEntry& entry : _store->outbox()) {
            if (entry.peer == peer) return entry.stream;
        }
        CPPUNIT_FAIL("no line to " + peer + " in the outbox");
        return {};
    }

    bool hasStatus(const std::string& peer, std::uint64_t id, local::LineState state) const
    {
        for (const local::StatusEvent& status : _listener.statuses) {
            if (status.peer == peer && status.id == id && status.state == state) return true;
        }
        return false;
    }

    local::LineState stateOf(const std::string& peer, std::uint64_t id) const
    {
        for (const local::ChatLine& line : _store->history(peer)) {
            if (line.id == id) return line.state;
        }
        CPPUNIT_FAIL("no line " + std::to_string(id) + " with " + peer);
        return local::LineState::Received;
    }

    void deliver(const std::string& text, const Endpoint& from) { _link->handleDatagram(text, from); }

    std::unique_ptr<EventLoop> _loop;
    RecordingSink _sink;
    std::unique_ptr<Roster> _roster;
    std::unique_ptr<ConversationStore> _store;
    RecordingListener _listener;
    bool _refused = false;
    std::unique_ptr<RosterServer> _rosterServer;
    std::unique_ptr<WireLink> _link;
};

CPPUNIT_TEST_SUITE_REGISTRATION(WireLinkTest);
