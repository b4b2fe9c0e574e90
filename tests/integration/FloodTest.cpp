// Floods and abuse at indexd's UDP port (issue 9, rows 2, 3, 4, 5 and 9),
// each at a modest rate for a few seconds against the real indexd on
// loopback: enough to show the mechanism that stops it, not the full-rate
// figures (`make stress`). Forged sources need a raw socket (root or
// CAP_NET_RAW), the byte counts tcpdump (SpoofingSender, PacketCapture).
#include "ChatNetwork.h"
#include "PacketCapture.h"
#include "SecureClient.h"
#include "SeedClient.h"
#include "SpoofingSender.h"
#include "Wait.h"

#include "Base64.h"
#include "Protocol.h"

#include <Poco/Net/DatagramSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

using namespace peerchat;
using namespace peerchat::test;
using namespace std::chrono_literals;

namespace {

// A source somewhere in 127.0.0.0/8 other than 127.0.0.1, with a port.
std::string randomSource(std::mt19937& random)
{
    std::uniform_int_distribution<int> octet(0, 255);
    std::uniform_int_distribution<int> port(1024, 65535);
    return "127." + std::to_string(octet(random)) + "." + std::to_string(octet(random)) + "." +
           std::to_string(octet(random) % 253 + 2) + ":" + std::to_string(port(random));
}

// Every line of log that names needle and is not a drop summary (which names
// the first source of each kind of drop in its interval).
std::vector<std::string> linesNamingOutsideSummaries(const std::string& log, const std::string& needle)
{
    std::vector<std::string> found;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        if (line.find(needle) != std::string::npos && line.find(" in the last ") == std::string::npos)
            found.push_back(line);
    }
    return found;
}

// The first few lines, for a failure message.
std::string firstOf(const std::vector<std::string>& lines)
{
    std::string text;
    for (std::size_t i = 0; i < lines.size() && i < 5; ++i) text += lines[i] + "\n";
    return std::to_string(lines.size()) + " lines, the first:\n" + text;
}

// A peerchat/2 client for name from bindHost, logged in to net's indexd.
std::unique_ptr<SecureClient> loggedIn(ChatNetwork& net, const std::string& name,
                                       const std::string& bindHost = "127.0.0.1")
{
    auto client = std::make_unique<SecureClient>(name, bindHost);
    const auto welcome = client->login(net.index());
    CPPUNIT_ASSERT_MESSAGE(name + " could not log in: " + welcome.error() + "\n" + net.indexd().log(), welcome.ok());
    return client;
}

// A datagram's text for a person: UTF-16LE (its second byte NUL) decoded.
std::string readable(const std::string& bytes)
{
    return bytes.size() > 1 && bytes[1] == '\0' ? fromUtf16le(bytes) + " (in UTF-16LE)" : bytes;
}

// How many of received's presence messages (here, gone) are about name.
std::size_t presenceOf(const SecureClient::Received& received, const std::string& name)
{
    std::size_t count = 0;
    for (const auto& inner : received.bundle) {
        if (const auto* here = std::get_if<Here>(&inner)) count += here->name == name;
        if (const auto* gone = std::get_if<Gone>(&inner)) count += gone->name == name;
    }
    return count;
}

} // namespace

class FloodTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(FloodTest);
    CPPUNIT_TEST(testForgedLegacyLoginsNeitherAnnouncedNorAmplified);
    CPPUNIT_TEST(testLoginNamingAnotherEndpointAnsweredOnlyAtSource);
    CPPUNIT_TEST(testGarbageFromRandomSourcesCountedNotLogged);
    CPPUNIT_TEST(testOversizeDatagramsCountedAfterRateLimitNotLogged);
    CPPUNIT_TEST(testLoginChurnOfOneIdentityLimited);
    CPPUNIT_TEST_SUITE_END();

public:
    // Row 2: seed logins from forged sources, 200 a second, with users online.
    void testForgedLegacyLoginsNeitherAnnouncedNorAmplified()
    {
        constexpr int kUsers = 10;
        constexpr int kForged = 600;
        constexpr auto kEvery = 5ms;
        ChatNetwork net(ChatNetwork::Wire::Legacy, {"--legacy-proof-ms", "500", "--drop-report-ms", "200"});
        std::vector<std::unique_ptr<SeedClient>> users;
        for (int i = 0; i < kUsers; ++i) {
            users.push_back(std::make_unique<SeedClient>(SeedClient::Mode::Utf8, "127.0.2." + std::to_string(i + 1)));
            CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), users.back()->login("user" + std::to_string(i), net.index()));
        }
        auto watcher = loggedIn(net, "watcher");
        const auto ready = std::make_unique<SeedClient>();
        CPPUNIT_ASSERT(ready->login("ready", net.index()));
        for (auto& user : users) CPPUNIT_ASSERT(user->receiveStartingWith("login,ready,"));
        CPPUNIT_ASSERT(watcher->receiveMatching([](const auto& r) { return presenceOf(r, "ready") > 0; }));

        const std::string index = net.index();
        PacketCapture capture({PacketCapture::portOf(index)});
        SpoofingSender spoof;
        std::mt19937 random(2);
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < kForged; ++i) {
            std::this_thread::sleep_until(start + i * kEvery);
            const std::string source = randomSource(random);
            spoof.send(source, index, "login,forged" + std::to_string(i) + "," + source);
        }
        // A real login after the flood is the next thing everyone hears of:
        // nothing was announced for the forged ones.
        SeedClient last;
        CPPUNIT_ASSERT(last.login("last", index));
        for (auto& user : users)
            CPPUNIT_ASSERT_EQUAL("login,last," + last.endpoint(), user->receive().value_or("nothing"));
        const auto next = watcher->receive();
        CPPUNIT_ASSERT_MESSAGE(next ? next->bytes : "nothing", next && presenceOf(*next, "last") > 0);
        // The roster its login read lists the seed users (not the peerchat
        // watcher) and nobody forged: "NAME,EP;" each, then "end".
        CPPUNIT_ASSERT_EQUAL(static_cast<std::ptrdiff_t>(kUsers + 2),
                             std::count(last.roster().begin(), last.roster().end(), ';'));

        // Bytes: indexd sent no more than it got, the forged logins' Accepts included.
        CPPUNIT_ASSERT(capture.waitCaptured("login,last," + last.endpoint()));
        std::size_t in = 0;
        std::size_t out = 0;
        for (const auto& datagram : capture.stop()) {
            if (datagram.destination == index) in += datagram.payload.size();
            if (datagram.source == index) out += datagram.payload.size();
        }
        std::printf("\nFloodTest: %d forged seed logins, %d users online: %zu bytes in, %zu bytes out (x%.2f)\n",
                    kForged, kUsers + 1, in, out, static_cast<double>(out) / static_cast<double>(in));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(out) + " bytes out for " + std::to_string(in) + " in", out <= in);
        // Unproven, the forged logins are forgotten.
        CPPUNIT_ASSERT(net.indexd().waitForLog("not proven by a roster connection"));
    }

    // Row 3, indexd's side: a .NET login naming bob's endpoint, sent from the
    // attacker's own address while bob's login is under way.
    void testLoginNamingAnotherEndpointAnsweredOnlyAtSource()
    {
        for (const auto wire : {ChatNetwork::Wire::Secure, ChatNetwork::Wire::Legacy}) {
            ChatNetwork net(wire);
            SecureClient bob("bob");
            SeedClient attacker(SeedClient::Mode::Utf8, "127.0.0.2");
            sendHello(bob, net.index(), 1);
            const auto first = bob.awaitChallenge();
            CPPUNIT_ASSERT(first);

            attacker.sendRaw(toUtf16le("login,bob," + bob.endpoint()), net.index());
            // bob's next datagram answers his next hello: indexd sent nothing to the endpoint written in the login.
            sendHello(bob, net.index(), 2);
            const auto next = bob.receive();
            CPPUNIT_ASSERT_MESSAGE(next ? readable(next->bytes) : "nothing",
                                   next && next->message && std::holds_alternative<Challenge>(*next->message));
            // Without legacy mode, refused where it came from; in legacy mode, dropped.
            const auto refused = attacker.receive(wire == ChatNetwork::Wire::Secure ? 5s : 300ms);
            CPPUNIT_ASSERT_EQUAL(wire == ChatNetwork::Wire::Secure ? std::string("refuse,bob,legacy") : "nothing",
                                 refused ? fromUtf16le(*refused) : "nothing");
            // Each challenge echoes the nonce of the hello it answers.
            CPPUNIT_ASSERT(first->echo == nonce(1));
            CPPUNIT_ASSERT(std::get<Challenge>(*next->message).echo == nonce(2));
            CPPUNIT_ASSERT(bob.login(net.index()).ok());
        }
    }

    // Row 4: random garbage from random sources, while a user heartbeats.
    void testGarbageFromRandomSourcesCountedNotLogged()
    {
        constexpr std::size_t kGarbage = 20000;
        ChatNetwork net(ChatNetwork::Wire::Secure, {"--drop-report-ms", "500"});
        auto alice = loggedIn(net, "alice");
        // Answered after indexd logged alice's login.
        CPPUNIT_ASSERT(heartbeat(*alice));
        const std::size_t logBefore = net.indexd().log().size();

        std::atomic<bool> done{false};
        std::thread flood([&] {
            SpoofingSender spoof;
            std::mt19937 random(4);
            std::uniform_int_distribution<int> letter('a', 'z');
            std::string garbage(200, 'x');
            for (std::size_t i = 0; i < kGarbage; ++i) {
                for (char& c : garbage) c = static_cast<char>(letter(random));
                spoof.send(randomSource(random), net.index(), garbage);
            }
            done = true;
        });
        // alice's heartbeats are answered all along.
        std::size_t beats = 0;
        while (!done) {
            CPPUNIT_ASSERT_MESSAGE("heartbeat " + std::to_string(beats) + " went unanswered", heartbeat(*alice));
            ++beats;
        }
        flood.join();
        CPPUNIT_ASSERT(heartbeat(*alice));

        const bool summed = net.indexd().waitForLog("malformed (first from 127.");
        const std::string log = net.indexd().log();
        std::printf("\nFloodTest: %zu garbage datagrams, %zu heartbeats answered meanwhile; indexd's log grew %zu "
                    "bytes\n",
                    kGarbage, beats, log.size() - logBefore);
        const auto perDatagram = linesNamingOutsideSummaries(log.substr(logBefore), "127.");
        CPPUNIT_ASSERT_MESSAGE(firstOf(perDatagram), perDatagram.empty());
        CPPUNIT_ASSERT_MESSAGE("no summary of the drops", summed);
        CPPUNIT_ASSERT_MESSAGE(log.substr(logBefore), log.size() - logBefore < 16 * 1024);
    }

    // Row 5: 60 kB datagrams from one source.
    void testOversizeDatagramsCountedAfterRateLimitNotLogged()
    {
        constexpr int kDatagrams = 300;
        ChatNetwork net(ChatNetwork::Wire::Secure, {"--drop-report-ms", "500"});
        const std::size_t logBefore = net.indexd().log().size();
        Poco::Net::DatagramSocket sender(Poco::Net::SocketAddress("127.0.0.3", 0), false);
        const std::string big(60000, 'x');
        const Poco::Net::SocketAddress index(net.index());
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < kDatagrams; ++i) {
            std::this_thread::sleep_until(start + i * 1ms);
            sender.sendTo(big.data(), static_cast<int>(big.size()), index);
        }
        // Counted as oversize up to the address's rate, rate-limited past it.
        const bool summed = net.indexd().waitForLog("oversize (first from 127.0.0.3") &&
                            net.indexd().waitForLog("rate-limited (first from 127.0.0.3");
        const std::string log = net.indexd().log();
        const auto perDatagram = linesNamingOutsideSummaries(log.substr(logBefore), "127.0.0.3");
        CPPUNIT_ASSERT_MESSAGE(firstOf(perDatagram), perDatagram.empty());
        CPPUNIT_ASSERT_MESSAGE("no summary of the drops", summed);
        CPPUNIT_ASSERT_MESSAGE(log.substr(logBefore), log.size() - logBefore < 8 * 1024);
        // indexd serves on.
        loggedIn(net, "alice");
    }

    // Row 9: one identity logging in and out as fast as its address's rate
    // limit lets it, with users online who hear of each login.
    void testLoginChurnOfOneIdentityLimited()
    {
        // Twenty contacts of the churner, who see each of its logins.
        constexpr int kWatchers = 20;
        constexpr auto kChurn = 3s;
        ChatNetwork net;
        std::vector<std::unique_ptr<SecureClient>> watchers;
        std::vector<std::string> watcherNames;
        for (int i = 0; i < kWatchers; ++i) {
            watcherNames.push_back("watcher" + std::to_string(i));
            watchers.push_back(loggedIn(net, watcherNames.back(), "127.0.1." + std::to_string(i + 1)));
            watchers.back()->declare({"churner", "last"});
        }

        SecureClient churner("churner", "127.0.0.5");
        std::size_t welcomed = 0;
        std::size_t busy = 0;
        const auto start = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - start < kChurn) {
            const auto welcome = churner.login(net.index(), 500ms);
            if (welcome.ok()) {
                ++welcomed;
                churner.declare(watcherNames);
                CPPUNIT_ASSERT(churner.receiveInner("snapshot"));
                churner.logout();
            } else if (welcome.error().rfind("refuse,churner,busy,", 0) == 0) {
                ++busy;
            }
        }

        // What the last watcher heard of the churner, up to a login after the churn.
        auto last = loggedIn(net, "last", "127.0.0.6");
        last->declare(watcherNames);
        std::size_t announcements = 0;
        while (true) {
            const auto received = watchers.back()->receive();
            CPPUNIT_ASSERT_MESSAGE("no here of last", received);
            announcements += presenceOf(*received, "churner");
            if (presenceOf(*received, "last") > 0) break;
        }
        std::printf("\nFloodTest: churn for %lld s: %zu logins welcomed, %zu refused busy; each of %d users heard "
                    "%zu announcements\n",
                    static_cast<long long>(kChurn.count()), welcomed, busy, kWatchers, announcements);
        // indexd's default: six logins a minute per identity, six at once.
        CPPUNIT_ASSERT(welcomed <= 6);
        CPPUNIT_ASSERT(busy >= 1);
        // Each login is told at most as here and gone; logins and logouts
        // within one tick of indexd's (the churner's snapshot comes at once,
        // so a whole cycle fits in one) are one gone.
        CPPUNIT_ASSERT(announcements >= 1 && announcements <= 2 * welcomed);
    }

private:
    // A hello from client with an HNONCE of bytes all seed.
    static void sendHello(SecureClient& client, const std::string& index, unsigned char seed)
    {
        Hello hello{client.name(), "peerchat/3", 0, nonce(seed)};
        const std::size_t bare = Protocol::encode(hello).size();
        hello.padding = bare < Protocol::kMinHelloBytes ? Protocol::kMinHelloBytes - bare : 0;
        client.sendRaw(Protocol::encode(hello), index);
    }

    static Nonce nonce(unsigned char seed)
    {
        Nonce n{};
        n.fill(seed);
        return n;
    }

    // One sealed heartbeat from client answered by a sealed seen, sent again
    // every 500 ms for up to 5 s (a flood may cost the socket some datagrams).
    static bool heartbeat(SecureClient& client)
    {
        for (int attempt = 0; attempt < 10; ++attempt) {
            client.sendToIndex(Alive{client.name(), 0});
            if (client.receiveInner("seen", 500ms)) return true;
        }
        return false;
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FloodTest);
