// Issue 11 item 4: TurnClient against a real coturn on loopback. alice's
// socket speaks TURN to coturn and relays to bob's plain UDP socket, which
// sees only alice's relayed address.
#include "CoturnProcess.h"
#include "NetworkNamespace.h"
#include "Wait.h"

#include "TurnClient.h"
#include "TurnCredentials.h"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Timespan.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace peerchat;
using namespace peerchat::test;
using namespace std::chrono_literals;

namespace {

Poco::Net::DatagramSocket loopbackSocket()
{
    return Poco::Net::DatagramSocket(Poco::Net::SocketAddress("127.0.0.1", 0));
}

/// One UDP socket driving a TurnClient, as peerd's will: what the client
/// produces goes to the server, what comes from the server's endpoint goes
/// to the client, and its timers run on a clock the test may move ahead.
class RelayedSocket
{
public:
    RelayedSocket(const Endpoint& server, const TurnCredentials& credentials,
                  Poco::Net::DatagramSocket socket = loopbackSocket())
        : _socket(std::move(socket)), _client(server, credentials)
    {
    }

    /// Sends, reads and ticks once at steady_clock::now() + skew.
    void pump(std::chrono::seconds skew = 0s)
    {
        const auto now = TurnClient::Clock::now() + skew;
        flush();
        char buffer[65536];
        while (_socket.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) {
            Poco::Net::SocketAddress from;
            const int size = _socket.receiveFrom(buffer, sizeof buffer, from);
            // Only the server's endpoint speaks TURN to us: the source decides, not the bytes.
            if (Endpoint(from) != _client.server()) continue;
            if (auto datagram = _client.receive(std::string_view(buffer, static_cast<std::size_t>(size)), now))
                received.push_back(std::move(*datagram));
        }
        _client.tick(now);
        flush();
    }

    /// Pumps until the client leaves Allocating; true when it is Allocated.
    bool allocate()
    {
        _client.allocate(TurnClient::Clock::now());
        waitUntil([&] {
            pump();
            return _client.state() != TurnClient::State::Allocating;
        }, 12s);
        return _client.state() == TurnClient::State::Allocated;
    }

    bool receivedFrom(const Endpoint& peer, const std::string& payload) const
    {
        for (const auto& datagram : received) {
            if (datagram.peer == peer && datagram.payload == payload) return true;
        }
        return false;
    }

    TurnClient& client() { return _client; }
    Endpoint local() const { return Endpoint(_socket.address()); }

    std::vector<TurnClient::PeerDatagram> received;

private:
    void flush()
    {
        for (const std::string& datagram : _client.takeDatagrams())
            _socket.sendTo(datagram.data(), static_cast<int>(datagram.size()), _client.server().address());
    }

    Poco::Net::DatagramSocket _socket;
    TurnClient _client;
};

/// bob: a plain UDP socket that remembers what reached it and from where.
class PlainSocket
{
public:
    explicit PlainSocket(Poco::Net::DatagramSocket socket = loopbackSocket()) : _socket(std::move(socket)) {}

    /// The next datagram, if one has arrived.
    std::optional<std::pair<Endpoint, std::string>> poll()
    {
        if (!_socket.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) return std::nullopt;
        char buffer[65536];
        Poco::Net::SocketAddress from;
        const int size = _socket.receiveFrom(buffer, sizeof buffer, from);
        return std::make_pair(Endpoint(from), std::string(buffer, static_cast<std::size_t>(size)));
    }

    void sendTo(const std::string& payload, const Endpoint& to)
    {
        _socket.sendTo(payload.data(), static_cast<int>(payload.size()), to.address());
    }

    Endpoint local() const { return Endpoint(_socket.address()); }

private:
    Poco::Net::DatagramSocket _socket;
};

using Arrival = std::pair<Endpoint, std::string>;

// Pumps alice (at her clock plus skew) until bob has a datagram, for up to
// 5 s; the datagram and where it came from, or nullopt.
std::optional<Arrival> pumpUntilBobReceives(RelayedSocket& alice, PlainSocket& bob, std::chrono::seconds skew = 0s)
{
    std::optional<Arrival> arrival;
    waitUntil([&] {
        alice.pump(skew);
        arrival = bob.poll();
        return arrival.has_value();
    }, 5s);
    return arrival;
}

TurnCredentials credentialsFor(const CoturnProcess& coturn, const std::string& name,
                               std::chrono::system_clock::duration validFor = 1h)
{
    return TurnCredentials::mint(coturn.secret(), name, std::chrono::system_clock::now() + validFor);
}

} // namespace

class CoturnTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(CoturnTest);
    CPPUNIT_TEST(testRelayBothWaysThroughChannel);
    CPPUNIT_TEST(testDataIndicationAfterPermission);
    CPPUNIT_TEST(testRefreshKeepsTheRelayAndReleaseFreesIt);
    CPPUNIT_TEST(testShortLifetimeRefreshedInRealTime);
    CPPUNIT_TEST(testRelayInsideANetworkNamespace);
    CPPUNIT_TEST(testWrongSecretFailsWithAReason);
    CPPUNIT_TEST(testExpiredCredentialsFailWithAReason);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { _coturn.start(); }

    void testRelayBothWaysThroughChannel()
    {
        RelayedSocket alice(_coturn.endpoint(), credentialsFor(_coturn, "alice"));
        PlainSocket bob;
        CPPUNIT_ASSERT_MESSAGE(alice.client().error() + "\n" + _coturn.log(), alice.allocate());
        const Endpoint relayed = *alice.client().relayedEndpoint();
        CPPUNIT_ASSERT(relayed != alice.local());
        CPPUNIT_ASSERT_EQUAL(alice.local().toString(), alice.client().mappedEndpoint()->toString());

        CPPUNIT_ASSERT(alice.client().sendToPeer(bob.local(), "hello bob", TurnClient::Clock::now()));
        const auto atBob = pumpUntilBobReceives(alice, bob);
        CPPUNIT_ASSERT_MESSAGE(_coturn.log(), atBob);
        CPPUNIT_ASSERT_EQUAL(relayed.toString(), atBob->first.toString());
        CPPUNIT_ASSERT_EQUAL(std::string("hello bob"), atBob->second);
        CPPUNIT_ASSERT(alice.client().channelBound(bob.local()));

        bob.sendTo("hello alice", relayed);
        CPPUNIT_ASSERT(waitUntil([&] {
            alice.pump();
            return alice.receivedFrom(bob.local(), "hello alice");
        }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{0}, alice.client().dropped());
    }

    void testDataIndicationAfterPermission()
    {
        RelayedSocket alice(_coturn.endpoint(), credentialsFor(_coturn, "alice"));
        PlainSocket bob;
        CPPUNIT_ASSERT_MESSAGE(alice.client().error(), alice.allocate());
        alice.client().permit(bob.local().host(), TurnClient::Clock::now());
        CPPUNIT_ASSERT(waitUntil([&] {
            alice.pump();
            return alice.client().permitted(bob.local().host());
        }, 5s));

        // No channel: coturn wraps bob's datagram in a Data indication.
        bob.sendTo("through a permission", *alice.client().relayedEndpoint());
        CPPUNIT_ASSERT(waitUntil([&] {
            alice.pump();
            return alice.receivedFrom(bob.local(), "through a permission");
        }, 5s));
        CPPUNIT_ASSERT(!alice.client().channelBound(bob.local()));
    }

    void testRefreshKeepsTheRelayAndReleaseFreesIt()
    {
        RelayedSocket alice(_coturn.endpoint(), credentialsFor(_coturn, "alice"));
        PlainSocket bob;
        CPPUNIT_ASSERT_MESSAGE(alice.client().error(), alice.allocate());
        alice.client().sendToPeer(bob.local(), "before", TurnClient::Clock::now());
        CPPUNIT_ASSERT(pumpUntilBobReceives(alice, bob));

        // Nine and a half minutes on, the allocation, permission and channel
        // are all due: each is refreshed, and the next wakeup moves past then.
        const auto skew = std::chrono::seconds(570);
        const auto later = TurnClient::Clock::now() + skew;
        CPPUNIT_ASSERT(waitUntil([&] {
            alice.pump(skew);
            const auto next = alice.client().nextWakeup();
            return next && *next > later + 60s;
        }, 5s));
        CPPUNIT_ASSERT_MESSAGE(alice.client().error(), alice.client().state() == TurnClient::State::Allocated);

        alice.client().sendToPeer(bob.local(), "after the refresh", later);
        const auto atBob = pumpUntilBobReceives(alice, bob, skew);
        CPPUNIT_ASSERT(atBob);
        CPPUNIT_ASSERT_EQUAL(std::string("after the refresh"), atBob->second);

        // Released well inside the 7.75 s it would take to give up: the server answered.
        alice.client().release(later);
        CPPUNIT_ASSERT(waitUntil([&] {
            alice.pump(skew);
            return alice.client().state() == TurnClient::State::Released;
        }, 3s));
    }

    // A coturn that grants at most 6 s (we ask for 600): the allocation is
    // refreshed after 3 s, on the real clock, and 9 s on, past its first
    // lifetime, coturn still relays for it. The credentials were good for
    // 2 s only: coturn checks their expiry when it allocates, not when it
    // refreshes, so they need not outlive the allocation.
    void testShortLifetimeRefreshedInRealTime()
    {
        CoturnProcess::Options options;
        options.maxLifetime = 6s;
        CoturnProcess brief(options);
        brief.start();
        RelayedSocket alice(brief.endpoint(), credentialsFor(brief, "alice", 2s));
        PlainSocket bob;
        const auto start = TurnClient::Clock::now();
        CPPUNIT_ASSERT_MESSAGE(alice.client().error(), alice.allocate());
        const auto firstRefresh = *alice.client().nextWakeup();
        CPPUNIT_ASSERT_MESSAGE("coturn granted more than its 6 s", firstRefresh - start < 4s);
        const auto end = start + 9s;
        waitUntil([&] {
            alice.pump();
            return TurnClient::Clock::now() >= end || alice.client().state() != TurnClient::State::Allocated;
        }, 12s);
        CPPUNIT_ASSERT_MESSAGE(alice.client().error(), alice.client().state() == TurnClient::State::Allocated);
        CPPUNIT_ASSERT(*alice.client().nextWakeup() > firstRefresh + 2s);

        alice.client().sendToPeer(bob.local(), "still relayed", TurnClient::Clock::now());
        const auto atBob = pumpUntilBobReceives(alice, bob);
        CPPUNIT_ASSERT(atBob);
        CPPUNIT_ASSERT_EQUAL(std::string("still relayed"), atBob->second);
    }

    // As the NAT lab will run it: turnserver under ip netns exec, alice and
    // bob in the same namespace, nothing of it on this one's loopback.
    void testRelayInsideANetworkNamespace()
    {
        NetworkNamespace lab;
        CoturnProcess::Options options;
        options.commandPrefix = lab.commandPrefix();
        CoturnProcess inside(options);
        inside.start();
        const Poco::Net::SocketAddress loopback("127.0.0.1", 0);
        RelayedSocket alice(inside.endpoint(), credentialsFor(inside, "alice"), lab.udpSocket(loopback));
        PlainSocket bob(lab.udpSocket(loopback));
        CPPUNIT_ASSERT_MESSAGE(alice.client().error() + "\n" + inside.log(), alice.allocate());

        alice.client().sendToPeer(bob.local(), "in the lab", TurnClient::Clock::now());
        const auto atBob = pumpUntilBobReceives(alice, bob);
        CPPUNIT_ASSERT_MESSAGE(inside.log(), atBob);
        CPPUNIT_ASSERT_EQUAL(alice.client().relayedEndpoint()->toString(), atBob->first.toString());
        bob.sendTo("answered", *alice.client().relayedEndpoint());
        CPPUNIT_ASSERT(waitUntil([&] {
            alice.pump();
            return alice.receivedFrom(bob.local(), "answered");
        }, 5s));
    }

    void testWrongSecretFailsWithAReason()
    {
        RelayedSocket alice(_coturn.endpoint(),
                            TurnCredentials::mint("not-the-secret", "alice", std::chrono::system_clock::now() + 1h));
        CPPUNIT_ASSERT(!alice.allocate());
        CPPUNIT_ASSERT(alice.client().state() == TurnClient::State::Failed);
        CPPUNIT_ASSERT_MESSAGE(alice.client().error(),
                               alice.client().error().find("refused the credentials") != std::string::npos);
    }

    void testExpiredCredentialsFailWithAReason()
    {
        RelayedSocket alice(_coturn.endpoint(), credentialsFor(_coturn, "alice", -1h));
        CPPUNIT_ASSERT(!alice.allocate());
        CPPUNIT_ASSERT(alice.client().state() == TurnClient::State::Failed);
        CPPUNIT_ASSERT_MESSAGE(alice.client().error(),
                               alice.client().error().find("refused the credentials") != std::string::npos);
    }

private:
    CoturnProcess _coturn;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CoturnTest);
