// peerd's local socket flooded by its own user's clients (issue 9, rows 11
// and 12): more clients than peerd has file descriptors for, and clients
// that stop reading while events stream in. A real indexd and real peerds;
// the clients are raw sockets and LocalClients of the same uid.
#include "ChatNetwork.h"
#include "Sanitizers.h"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace peerchat::test;
using namespace std::chrono_literals;

namespace {

// A connection to the local socket at path that sends nothing and reads
// nothing. The connect waits at most 2 s for room in peerd's backlog.
std::unique_ptr<Poco::Net::StreamSocket> connectIdle(const std::string& path)
{
    auto socket = std::make_unique<Poco::Net::StreamSocket>(Poco::Net::SocketAddress::UNIX_LOCAL);
    socket->setSendTimeout(Poco::Timespan(2, 0));
    socket->connect(Poco::Net::SocketAddress(Poco::Net::SocketAddress::UNIX_LOCAL, path));
    return socket;
}

// The soft limit on open files of process pid, as /proc/PID/limits gives it.
std::string softOpenFileLimit(pid_t pid)
{
    std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
    std::string line;
    while (std::getline(limits, line)) {
        if (line.rfind("Max open files", 0) != 0) continue;
        std::istringstream fields(line.substr(std::string("Max open files").size()));
        std::string soft;
        fields >> soft;
        return soft;
    }
    CPPUNIT_FAIL("no open-file limit in /proc/" + std::to_string(pid) + "/limits");
    return {};
}

// Waits for a state event on client saying state.
bool waitState(LocalClient& client, const std::string& state, std::chrono::milliseconds timeout = 10s)
{
    return client.waitFor(
               [&](const LocalClient::Object& event) {
                   return event->optValue<std::string>("event", "") == "state" &&
                          event->getValue<std::string>("state") == state;
               },
               timeout) != nullptr;
}

// Waits for the unread event on client that counts count lines from peer.
bool waitUnread(LocalClient& client, const std::string& peer, int count, std::chrono::milliseconds timeout)
{
    return client.waitFor(
               [&](const LocalClient::Object& event) {
                   return event->optValue<std::string>("event", "") == "unread" &&
                          event->getValue<std::string>("peer") == peer && event->getValue<int>("count") >= count;
               },
               timeout) != nullptr;
}

std::string kib(std::size_t value)
{
    return std::to_string(value) + " KiB";
}

} // namespace

class LocalFloodTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LocalFloodTest);
    CPPUNIT_TEST(testClientsPastDescriptorLimitAreRefusedWithoutSpinning);
    CPPUNIT_TEST(testClientsPastDescriptorLimitLoweredWhileRunning);
    CPPUNIT_TEST(testSoftDescriptorLimitRaisedToHard);
    CPPUNIT_TEST(testClientsThatDoNotReadHoldBoundedMemory);
    CPPUNIT_TEST_SUITE_END();

public:
    // Row 11: 300 idle clients at nofile 256. peerd used to spin in accept,
    // leave new windows without a welcome, and fail to read the roster once
    // indexd restarted, for want of a descriptor.
    void testClientsPastDescriptorLimitAreRefusedWithoutSpinning()
    {
        ChatNetwork net;
        net.startPeerd("bob", kQuick);
        auto alice = net.peerdProcess("alice", kQuick);
        alice->limitOpenFiles(256, 256);
        alice->start();
        alice->waitReady();
        assertServedPastDescriptorLimit(net, alice.get());
    }

    // The same with the limit lowered while peerd runs (prlimit): peerd
    // still keeps descriptors for itself, the cap is not the one of its start.
    void testClientsPastDescriptorLimitLoweredWhileRunning()
    {
        ChatNetwork net;
        net.startPeerd("bob", kQuick);
        auto alice = net.peerdProcess("alice", kQuick);
        alice->start();
        alice->waitReady();
        alice->limitOpenFiles(256, 256);
        assertServedPastDescriptorLimit(net, alice.get());
    }

    // peerd takes the descriptors its hard limit allows, not only the shell's soft limit.
    void testSoftDescriptorLimitRaisedToHard()
    {
        ChatNetwork net;
        auto alice = net.peerdProcess("alice");
        alice->limitOpenFiles(256, 1024);
        alice->start();
        alice->waitReady();
        CPPUNIT_ASSERT_EQUAL(std::string("1024"), softOpenFileLimit(alice->pid()));
    }

    // Row 12: 200 clients that stop reading while lines stream in. peerd used
    // to hold every event for each of them (RSS 12 -> 81 MB, kept after they
    // went) and answered a roster request in 1.8 s.
    void testClientsThatDoNotReadHoldBoundedMemory()
    {
        ChatNetwork net;
        net.startPeerd("alice", {}, environmentForMemoryMeasurement());
        net.startPeerd("bob");
        auto watcher = net.attachOnline("alice");
        auto bob = net.attachOnline("bob");
        // Contacts, so that bob's lines come to alice straight, as the lines of a contact.
        CPPUNIT_ASSERT(befriend(*watcher, "alice", *bob, "bob"));
        DaemonProcess& alice = net.peerd("alice");
        const std::size_t baseline = alice.residentKiB();

        // Each takes its welcome and the reply to its subscribe, then reads no more.
        std::vector<std::unique_ptr<LocalClient>> stalled;
        for (int i = 0; i < 200; ++i) {
            stalled.push_back(net.attach("alice"));
            subscribeTo(*stalled.back(), "bob");
        }

        // 300 lines of 4 KB: about 1.2 MB of message events for every stalled client.
        constexpr int kLines = 300;
        for (int i = 0; i < kLines; ++i) bob->sendLine(sendRequest("alice", std::to_string(i) + std::string(4000, 'x')));

        std::size_t peak = baseline;
        const auto sampleUntilUnread = [&](int count) {
            return waitUntil([&] {
                peak = std::max(peak, alice.residentKiB());
                return waitUnread(*watcher, "bob", count, 20ms);
            }, 60s);
        };
        CPPUNIT_ASSERT_MESSAGE("a third of the lines did not reach alice:\n" + alice.log(),
                               sampleUntilUnread(kLines / 3));
        // Asked while the lines still come: peerd answers once it has handled
        // the datagrams it read before the request (up to 256 lines at a time).
        const auto asked = std::chrono::steady_clock::now();
        watcher->sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT_MESSAGE("no roster reply", watcher->waitEvent("roster", 10s));
        const auto replyMs =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - asked).count();
        CPPUNIT_ASSERT_MESSAGE("the roster reply took " + std::to_string(replyMs) + " ms", replyMs < 1500);
        CPPUNIT_ASSERT_MESSAGE("not every line reached alice:\n" + alice.log(), sampleUntilUnread(kLines));
        // AddressSanitizer's redzones and shadow memory about double what each allocation costs.
        const std::size_t boundKiB = kSanitized ? 128 * 1024 : 64 * 1024;
        CPPUNIT_ASSERT_MESSAGE("peerd grew from " + kib(baseline) + " to " + kib(peak),
                               peak < baseline + boundKiB);

        stalled.clear();
        // Giving the memory back is glibc's malloc_trim; AddressSanitizer's
        // allocator keeps freed pages, so only a build without it can show this.
        if (!kSanitized) {
            std::size_t after = 0;
            const bool givenBack = waitUntil([&] {
                after = alice.residentKiB();
                return after < baseline + 16 * 1024;
            });
            CPPUNIT_ASSERT_MESSAGE("peerd kept " + kib(after) + " after the stalled clients went (it had " +
                                       kib(baseline) + " before them, " + kib(peak) + " at most)",
                                   givenBack);
        }
        CPPUNIT_ASSERT(alice.running());
        CPPUNIT_ASSERT(rosterNames(*watcher) == std::vector<std::string>{"bob"});
    }

private:
    // Heartbeats and login retries short enough to see indexd restart quickly.
    inline static const std::vector<std::string> kQuick{"--heartbeat-ms", "200", "--login-retry-ms", "100"};

    // alice's peerd at nofile 256 with 300 idle clients: it does not spin,
    // tells a new client why it cannot take it (or takes it), and reads the
    // roster again once indexd restarts, for it kept descriptors for itself.
    static void assertServedPastDescriptorLimit(ChatNetwork& net, DaemonProcess* alice)
    {
        LocalClient watcher(net.socketOf("alice"));
        const auto welcome = watcher.waitEvent("welcome");
        CPPUNIT_ASSERT_MESSAGE("no welcome from alice", welcome);
        CPPUNIT_ASSERT_MESSAGE("alice did not get online:\n" + alice->log(),
                               welcome->getValue<std::string>("state") == "online" || waitState(watcher, "online"));
        // alice sees bob in her roster only once they are contacts.
        auto bob = net.attachOnline("bob");
        CPPUNIT_ASSERT(befriend(watcher, "alice", *bob, "bob"));

        std::vector<std::unique_ptr<Poco::Net::StreamSocket>> idle;
        for (int i = 0; i < 300; ++i) idle.push_back(connectIdle(net.socketOf("alice")));

        // A window to measure in, not a wait for a condition: a peerd that
        // spins uses all of it, one that waits almost none.
        const auto cpuBefore = alice->cpuTime();
        const auto start = std::chrono::steady_clock::now();
        std::this_thread::sleep_for(2s);
        const auto cpu = alice->cpuTime() - cpuBefore;
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        CPPUNIT_ASSERT_MESSAGE("peerd used " + std::to_string(cpu.count()) + " ms of CPU in " +
                                   std::to_string(elapsed.count()) + " ms with 300 idle clients at nofile 256",
                               cpu < elapsed / 10);

        LocalClient late(net.socketOf("alice"));
        const auto answer = late.waitFor(
            [](const LocalClient::Object& event) {
                const std::string name = event->optValue<std::string>("event", "");
                return name == "welcome" || name == "error";
            },
            5s);
        CPPUNIT_ASSERT_MESSAGE("a new client got neither a welcome nor a refusal", answer);
        if (answer->getValue<std::string>("event") == "error") {
            const std::string message = answer->getValue<std::string>("message");
            CPPUNIT_ASSERT_MESSAGE(message, message.find("close a window you do not use") != std::string::npos);
            CPPUNIT_ASSERT_MESSAGE("a refused client stayed connected", late.waitClosed(5s));
        }

        net.restartIndexd(false);
        CPPUNIT_ASSERT_MESSAGE("alice did not notice indexd's restart:\n" + alice->log(),
                               waitState(watcher, "connecting"));
        CPPUNIT_ASSERT_MESSAGE("alice did not get online again:\n" + alice->log(), waitState(watcher, "online", 20s));
        CPPUNIT_ASSERT(waitInRoster(watcher, "bob"));
        CPPUNIT_ASSERT(alice->running());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LocalFloodTest);
