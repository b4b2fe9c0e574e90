// Issue 9 at peerd's UDP port: the attacks of rows 3 (peerd's side), 6 and 7
// tried for real against a real indexd and real peerds on loopback. A
// stranger floods a peerd with garbage and oversize datagrams; an off-path
// attacker forges challenges and refusals from indexd's address
// (SpoofingSender) while a peerd's first login is under way; a plain login
// naming a peerd's endpoint makes indexd refuse it there. Each flood is
// bounded (a few seconds, a few thousand datagrams): it shows the mechanism,
// not the figures.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "LocalClient.h"
#include "SeedClient.h"
#include "SpoofingSender.h"
#include "Wait.h"

#include "Base64.h"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace peerchat::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Bytes nobody could mistake for a message: random, and never starting with a verb.
std::string garbage(std::mt19937& random, std::size_t size)
{
    std::string bytes(size, '\0');
    for (char& byte : bytes) byte = static_cast<char>(random());
    bytes[0] = '\x7f';
    return bytes;
}

// A random 24-byte nonce in base64url, as a challenge or a refusal carries it.
std::string randomNonce(std::mt19937& random)
{
    std::array<std::uint8_t, 24> nonce{};
    for (auto& byte : nonce) byte = static_cast<std::uint8_t>(random());
    return peerchat::Base64::encode(nonce);
}

// Calls sendOne(i) about perSecond times a second on a thread of its own
// until stopped, counting what it sent.
class PacedFlood
{
public:
    PacedFlood(int perSecond, std::function<void(std::size_t)> sendOne)
        : _perSecond(perSecond), _sendOne(std::move(sendOne)), _thread([this] { run(); })
    {
    }
    ~PacedFlood() { stop(); }

    void stop()
    {
        _stop = true;
        if (_thread.joinable()) _thread.join();
    }

    std::size_t sent() const { return _sent; }

private:
    void run()
    {
        const auto start = Clock::now();
        for (std::size_t i = 0; !_stop; ++i) {
            _sendOne(i);
            _sent = i + 1;
            // Sends in bursts of ten, then waits for the schedule to catch up.
            if (i % 10 == 9) {
                std::this_thread::sleep_until(start + std::chrono::microseconds(1000000 * (i + 1) / _perSecond));
            }
        }
    }

    const int _perSecond;
    std::function<void(std::size_t)> _sendOne;
    std::atomic<bool> _stop{false};
    std::atomic<std::size_t> _sent{0};
    // Last, so that it starts once everything it uses is there.
    std::thread _thread;
};

bool isState(const LocalClient::Object& event, const std::string& state)
{
    return event->optValue<std::string>("event", "") == "state" && event->getValue<std::string>("state") == state;
}

// bob's first login, held up: indexd is stopped (SIGSTOP) before bob's peerd
// starts, so bob's hellos wait in indexd's socket until resume().
struct StalledFirstLogin
{
    explicit StalledFirstLogin(const std::vector<std::string>& peerdFlags = {})
    {
        net.indexd().signal(SIGSTOP);
        peerd = &net.startPeerd("bob", peerdFlags);
        bob = net.attach("bob");
        bobUdp = net.udpOf("bob");
    }

    void resume() { net.indexd().signal(SIGCONT); }

    // True once bob is online, within timeout.
    bool online(std::chrono::milliseconds timeout)
    {
        return bob->waitFor([](const LocalClient::Object& event) { return isState(event, "online"); }, timeout) !=
               nullptr;
    }

    // True when bob's peerd was refused (and so stops).
    bool refused() { return bob->waitFor([](const auto& event) { return isState(event, "refused"); }, 0ms) != nullptr; }

    ChatNetwork net;
    DaemonProcess* peerd = nullptr;
    std::unique_ptr<LocalClient> bob;
    std::string bobUdp;
};

} // namespace

class PeerdFloodTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PeerdFloodTest);
    CPPUNIT_TEST(testGarbageAndOversizeFloodLeavesLogSmallAndChatPrompt);
    CPPUNIT_TEST(testForgedChallengesDoNotHoldUpFirstLogin);
    CPPUNIT_TEST(testForgedRefusalsDuringFirstLoginIgnored);
    CPPUNIT_TEST(testLegacyRefusalProvokedAtPeerdsEndpointIgnored);
    CPPUNIT_TEST_SUITE_END();

public:
    // Row 6: a stranger's garbage and 60 kB datagrams, and garbage forged from
    // indexd's and bob's addresses, at alice's port for three seconds.
    void testGarbageAndOversizeFloodLeavesLogSmallAndChatPrompt()
    {
        ChatPair pair;
        ChatNetwork& net = pair.net;
        DaemonProcess& alice = net.peerd("alice");
        const std::string target = net.udpOf("alice");
        subscribeTo(*pair.alice, "bob");
        const std::size_t logBefore = alice.log().size();

        Poco::Net::DatagramSocket stranger(Poco::Net::SocketAddress("127.0.0.2", 0), false);
        const Poco::Net::SocketAddress to(target);
        SpoofingSender spoof;
        std::mt19937 random(9);
        const std::string small = garbage(random, 200);
        const std::string large = garbage(random, 60000);
        PacedFlood flood(2000, [&](std::size_t i) {
            switch (i % 4) {
            case 0: stranger.sendTo(small.data(), static_cast<int>(small.size()), to); break;
            case 1: stranger.sendTo(large.data(), static_cast<int>(large.size()), to); break;
            case 2: spoof.send(net.index(), target, i % 8 == 2 ? small : large); break;
            default: spoof.send(net.udpOf("bob"), target, "seal," + small.substr(1, 40)); break;
            }
        });
        std::this_thread::sleep_for(1s);
        const auto sentAt = Clock::now();
        pair.bob->sendLine(sendRequest("alice", "during the flood"));
        const bool delivered = waitMessage(*pair.alice, "during the flood") != nullptr;
        CPPUNIT_ASSERT_MESSAGE(alice.log().substr(logBefore, 4096), delivered);
        const auto latency = Clock::now() - sentAt;
        std::this_thread::sleep_for(2s);
        flood.stop();
        CPPUNIT_ASSERT(flood.sent() >= 3000);

        // The marker comes after every datagram of the flood: once it is in,
        // alice has read all of them (or the kernel dropped them).
        pair.bob->sendLine(sendRequest("alice", "after the flood"));
        CPPUNIT_ASSERT(waitMessage(*pair.alice, "after the flood"));
        CPPUNIT_ASSERT_MESSAGE("a line took " + std::to_string(latency / 1ms) + " ms during the flood",
                               latency < 5s);
        const std::size_t growth = alice.log().size() - logBefore;
        CPPUNIT_ASSERT_MESSAGE("alice's log grew by " + std::to_string(growth) + " bytes for " +
                                   std::to_string(flood.sent()) + " datagrams:\n" +
                                   alice.log().substr(logBefore, 4096),
                               growth < 16 * 1024);
        // What was dropped is told in one line per interval (peerd.dropReportMs, 10 s).
        const bool summarised = alice.waitForLog("datagrams in the last 10000 ms", 15s);
        const std::string log = alice.log();
        CPPUNIT_ASSERT_MESSAGE(log, summarised);
        for (const char* reason : {"from strangers", "oversize", "malformed"}) {
            CPPUNIT_ASSERT_MESSAGE(std::string(reason) + " not in the summary:\n" + log,
                                   log.find(reason) != std::string::npos);
        }
        CPPUNIT_ASSERT(alice.running());
    }

    // Row 7: challenges forged from indexd's address, 200 a second, while
    // bob's first login waits for a stalled indexd. Answering them would spend
    // bob's address's rate limit at indexd (and push the real challenge's
    // nonce out of bob's memory).
    void testForgedChallengesDoNotHoldUpFirstLogin()
    {
        StalledFirstLogin login;
        SpoofingSender spoof;
        std::mt19937 random(7);
        PacedFlood flood(200, [&](std::size_t) {
            spoof.send(login.net.index(), login.bobUdp, "challenge,bob," + login.bobUdp + "," + randomNonce(random));
        });
        std::this_thread::sleep_for(1s);
        login.resume();
        const auto resumed = Clock::now();
        const bool online = login.online(15s);
        const auto took = Clock::now() - resumed;
        flood.stop();
        CPPUNIT_ASSERT_MESSAGE("bob not online 15 s after indexd resumed, under " + std::to_string(flood.sent()) +
                                   " forged challenges:\n" + login.peerd->log().substr(0, 4096),
                               online);
        // Within a login retry (2 s) or two.
        CPPUNIT_ASSERT_MESSAGE("bob took " + std::to_string(took / 1ms) + " ms", took < 6s);
        CPPUNIT_ASSERT(flood.sent() >= 200);
        CPPUNIT_ASSERT(login.peerd->running());
    }

    // Row 3, peerd's side: refusals forged from indexd's address while bob's
    // first login is under way, one echoing nothing and one echoing a nonce
    // bob never sent. Nobody signs a refusal; bob takes only one that echoes
    // his own hello or auth.
    void testForgedRefusalsDuringFirstLoginIgnored()
    {
        // At debug level peerd logs every datagram it drops, which shows when it has read these.
        StalledFirstLogin login({"--log-level", "debug"});
        SpoofingSender spoof;
        std::mt19937 random(3);
        const std::string index = login.net.index();
        spoof.send(index, login.bobUdp, "refuse,bob,taken");
        spoof.send(index, login.bobUdp, "refuse,bob,key," + randomNonce(random));
        spoof.send(index, login.bobUdp, "refuse,bob,version");
        CPPUNIT_ASSERT(waitUntil([&] {
            return !login.peerd->running() || login.peerd->countInLog("dropped datagram from " + index) >= 3;
        }));
        CPPUNIT_ASSERT_MESSAGE("a forged refusal stopped bob's peerd:\n" + login.peerd->log(), login.peerd->running());
        CPPUNIT_ASSERT(!login.refused());

        login.resume();
        const bool online = login.online(10s);
        CPPUNIT_ASSERT_MESSAGE(login.peerd->log(), online);
        CPPUNIT_ASSERT(login.peerd->running());
    }

    // Row 3 through indexd itself: a plain UTF-16 login from the attacker's
    // own address naming bob's endpoint, while bob's first login is under
    // way. An indexd that answers the endpoint written in the login sends
    // bob `refuse,bob,legacy`; bob must not take it.
    void testLegacyRefusalProvokedAtPeerdsEndpointIgnored()
    {
        StalledFirstLogin login;
        // Behind bob's first hello in indexd's queue.
        SeedClient attacker(SeedClient::Mode::DotNet, "127.0.0.2");
        attacker.send("login,bob," + login.bobUdp, login.net.index());
        login.resume();
        const bool online = login.online(10s);
        CPPUNIT_ASSERT_MESSAGE(login.peerd->log(), online);
        CPPUNIT_ASSERT(login.peerd->running());
        CPPUNIT_ASSERT(!login.refused());
    }

};

CPPUNIT_TEST_SUITE_REGISTRATION(PeerdFloodTest);
