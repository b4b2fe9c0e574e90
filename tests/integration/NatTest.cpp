// Chat across NATs (issue 11), in the NAT lab: indexd in `pub`, alice and
// carol behind one home router (nat1), bob behind another (nat2), each peerd
// in its host and driven through its local socket. Lines must be acked in
// time however the routers map and filter, over the best path there is: a
// shared LAN, then straight through both NATs; and the routers' forgetting,
// loss and rebinding must lose or double nothing. Each test builds its own
// lab (tests/support/NetLab): root, nft, conntrack and tcpdump.
#include "ChatNetwork.h"
#include "NetLab.h"
#include "PacketCapture.h"
#include "SpoofingSender.h"
#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <memory>
#include <string>
#include <vector>

using namespace peerchat::test;
using namespace std::chrono_literals;
using Host = NetLab::Host;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kLogin = 30s;

// A lab with indexd in pub and a peerd for each of users in its host, each
// with a client attached that sees the others online.
class LabChat
{
public:
    // indexd lets each user log in as often as the trials restart it.
    explicit LabChat(const NetLab::Options& options = {}, std::vector<std::string> peerdFlags = {})
        : _lab(options),
          _net(ChatNetwork::Wire::Secure, {"--logins-per-minute", "1000"},
               {_lab.commandIn(Host::Pub), _lab.addresses().pub}),
          _peerdFlags(std::move(peerdFlags))
    {
    }

    NetLab& lab() { return _lab; }
    ChatNetwork& net() { return _net; }
    LocalClient& client(const std::string& user) { return *_clients.at(user); }

    // Starts (or restarts) user's peerd in host and attaches a client.
    void start(const std::string& user, Host host)
    {
        const auto& at = _lab.addresses();
        const std::map<Host, std::string> addresses{{Host::Alice, at.alice}, {Host::Bob, at.bob}, {Host::Carol, at.carol}};
        _clients.erase(user);
        _subscribed.erase(user);
        _net.place(user, {_lab.commandIn(host), addresses.at(host)});
        _net.startPeerd(user, _peerdFlags);
        _clients[user] = _net.attachOnline(user);
    }

    // alice, bob and carol each in the lab host of the name.
    void start(const std::string& user)
    {
        static const std::map<std::string, Host> hosts{{"alice", Host::Alice}, {"bob", Host::Bob}, {"carol", Host::Carol}};
        start(user, hosts.at(user));
    }

    // Stops user's peerd (SIGTERM: it logs out).
    void stop(const std::string& user)
    {
        _clients.erase(user);
        _net.peerd(user).signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, _net.peerd(user).waitExit());
    }

    // Waits until each of users sees all the others online.
    void waitRosters(const std::vector<std::string>& users)
    {
        for (const auto& user : users) {
            const bool all = waitUntil([&] { return rosterNames(client(user)).size() >= users.size() - 1; }, kLogin);
            CPPUNIT_ASSERT_MESSAGE(user + " never saw the others online:\n" + _net.peerd(user).log(), all);
        }
    }

    // Sends text from from to to and returns how long until from's peerd
    // reported it delivered (the ack came) and to's client showed it; fails
    // the test when that takes longer than within.
    std::chrono::milliseconds deliver(const std::string& from, const std::string& to, const std::string& text,
                                      std::chrono::milliseconds within)
    {
        subscribe(from, to);
        subscribe(to, from);
        const auto start = Clock::now();
        const std::string key = "k" + std::to_string(++_sends);
        client(from).sendLine(R"({"op":"send","to":")" + to + R"(","text":")" + text + R"(","key":")" + key + R"("})");
        const auto sent = client(from).waitFor([&](const LocalClient::Object& e) {
            return e->optValue<std::string>("event", "") == "sent" && e->optValue<std::string>("key", "") == key;
        });
        CPPUNIT_ASSERT_MESSAGE("no sent event for " + text, sent);
        const auto id = sent->getValue<std::uint64_t>("id");
        const auto delivered = client(from).waitFor(
            [&](const LocalClient::Object& e) {
                return e->optValue<std::string>("event", "") == "status" && e->getValue<std::string>("peer") == to &&
                       e->getValue<std::uint64_t>("id") == id && e->getValue<std::string>("state") == "delivered";
            },
            within);
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        CPPUNIT_ASSERT_MESSAGE(from + " -> " + to + ": '" + text + "' not acked within " +
                                   std::to_string(within.count()) + " ms\n" + from + ":\n" + _net.peerd(from).log() +
                                   "\n" + to + ":\n" + _net.peerd(to).log() + "\nindexd:\n" + _net.indexd().log(),
                               delivered);
        CPPUNIT_ASSERT_MESSAGE(to + " did not show '" + text + "'", waitMessage(client(to), text, 5s));
        return elapsed;
    }

    // The texts of the lines peer wrote to user, oldest first, as user's
    // peerd keeps them (a fresh client's history).
    std::vector<std::string> received(const std::string& user, const std::string& peer)
    {
        LocalClient fresh(_net.socketOf(user));
        CPPUNIT_ASSERT(fresh.waitEvent("welcome"));
        fresh.sendLine(peerRequest("subscribe", peer));
        std::vector<std::string> texts;
        while (const auto history = fresh.waitEvent("history", 2s)) {
            const auto lines = history->getArray("lines");
            for (std::size_t i = 0; i < lines->size(); ++i) {
                const auto line = lines->getObject(i);
                if (!line->getValue<bool>("outgoing")) texts.push_back(line->getValue<std::string>("text"));
            }
        }
        return texts;
    }

    // What capture holds once everything sent before this call is in it:
    // tcpdump writes its file in its own time, so a marker goes last (from
    // pub's second address to a closed port) and is waited for.
    std::vector<PacketCapture::Datagram> captured(PacketCapture& capture)
    {
        const std::string marker = "marker " + std::to_string(++_markers);
        auto socket = _lab.udpSocketIn(Host::Pub, Poco::Net::SocketAddress(_lab.addresses().pub2, 0));
        socket.sendTo(marker.data(), static_cast<int>(marker.size()),
                      Poco::Net::SocketAddress(_lab.addresses().nat2Wan, 9));
        CPPUNIT_ASSERT_MESSAGE("the capture never saw its marker", capture.waitCaptured(marker));
        return capture.stop();
    }

    // The path user's peerd reports to peer now.
    std::string path(const std::string& user, const std::string& peer)
    {
        const auto users = rosterUsers(client(user));
        for (std::size_t i = 0; i < users->size(); ++i) {
            if (users->getObject(i)->getValue<std::string>("name") == peer)
                return users->getObject(i)->getValue<std::string>("path");
        }
        return "(not online)";
    }

private:
    void subscribe(const std::string& user, const std::string& peer)
    {
        if (!_subscribed[user].insert(peer).second) return;
        subscribeTo(client(user), peer);
    }

    NetLab _lab;
    ChatNetwork _net;
    std::vector<std::string> _peerdFlags;
    std::map<std::string, std::unique_ptr<LocalClient>> _clients;
    std::map<std::string, std::set<std::string>> _subscribed;
    int _sends = 0;
    int _markers = 0;
};

} // namespace

class NatTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(NatTest);
    CPPUNIT_TEST(testConeNatsTalkDirectlyInEveryTrial);
    CPPUNIT_TEST(testSameLanTalksOnTheLan);
    CPPUNIT_TEST(testExpiredMappingsFoundAgain);
    CPPUNIT_TEST(testLossyWanLosesAndDoublesNothing);
    CPPUNIT_TEST(testRebindingNatRecovers);
    CPPUNIT_TEST(testForgedDatagramsMoveNoPathAndAmplifyNothing);
    CPPUNIT_TEST_SUITE_END();

public:
    // cone/cone, 20 trials, each with two new users (new keys, new ports,
    // new mappings): a line each way acked within 2 s, path direct, and the
    // lines went from one router's public address to the other's.
    void testConeNatsTalkDirectlyInEveryTrial()
    {
        constexpr int kTrials = 20;
        LabChat chat;
        const auto& at = chat.lab().addresses();
        PacketCapture capture({}, {"br0", chat.lab().commandIn(Host::Pub)});
        for (int trial = 1; trial <= kTrials; ++trial) {
            const std::string n = std::to_string(trial);
            const std::string a = "a" + n, b = "b" + n;
            chat.start(a, Host::Alice);
            chat.start(b, Host::Bob);
            chat.waitRosters({a, b});
            chat.deliver(a, b, "trial " + n + " to " + b, 2s);
            chat.deliver(b, a, "trial " + n + " to " + a, 2s);
            CPPUNIT_ASSERT_EQUAL_MESSAGE("trial " + n, std::string("direct"), chat.path(a, b));
            CPPUNIT_ASSERT_EQUAL_MESSAGE("trial " + n, std::string("direct"), chat.path(b, a));
            chat.stop(a);
            chat.stop(b);
        }
        std::size_t wanToWan = 0;
        for (const auto& datagram : chat.captured(capture)) {
            const std::string source = datagram.source.substr(0, datagram.source.rfind(':'));
            const std::string destination = datagram.destination.substr(0, datagram.destination.rfind(':'));
            if ((source == at.nat1Wan && destination == at.nat2Wan) || (source == at.nat2Wan && destination == at.nat1Wan))
                ++wanToWan;
        }
        CPPUNIT_ASSERT_MESSAGE("no datagram went from one router's public address to the other's",
                               wanToWan >= 2 * kTrials);
    }

    // alice and carol share a LAN behind a router that does not hairpin:
    // their lines go on the LAN (path lan), never out to pub.
    void testSameLanTalksOnTheLan()
    {
        LabChat chat;
        const auto& at = chat.lab().addresses();
        chat.start("alice");
        chat.start("carol");
        chat.waitRosters({"alice", "carol"});
        PacketCapture capture({}, {"br0", chat.lab().commandIn(Host::Pub)});
        chat.deliver("alice", "carol", "to carol", 2s);
        chat.deliver("carol", "alice", "to alice", 2s);
        CPPUNIT_ASSERT_EQUAL(std::string("lan"), chat.path("alice", "carol"));
        CPPUNIT_ASSERT_EQUAL(std::string("lan"), chat.path("carol", "alice"));
        // What leaves their router goes to indexd and nowhere else.
        const auto atNat1 = [&](const std::string& endpoint) { return endpoint.rfind(at.nat1Wan + ":", 0) == 0; };
        const auto atPub = [&](const std::string& endpoint) { return endpoint.rfind(at.pub + ":", 0) == 0; };
        for (const auto& datagram : chat.captured(capture)) {
            if (!atNat1(datagram.source) && !atNat1(datagram.destination)) continue;
            CPPUNIT_ASSERT_MESSAGE("alice's or carol's datagram went elsewhere than to indexd: " + datagram.source +
                                       " -> " + datagram.destination,
                                   atPub(datagram.source) || atPub(datagram.destination));
        }
    }

    // The routers forget mappings after 5 s unreplied and 10 s replied;
    // after 25 s of silence a line each way is still acked within 3 s. The
    // peerds' heartbeats (4 s) keep their bindings to indexd, as
    // peerd.heartbeatMs below a router's UDP timeout does; the chat path's
    // keepalives (15 s) are slower than these routers forget.
    void testExpiredMappingsFoundAgain()
    {
        LabChat chat({}, {"--heartbeat-ms", "4000"});
        chat.lab().setUdpTimeouts(Host::Nat1, 5s, 10s);
        chat.lab().setUdpTimeouts(Host::Nat2, 5s, 10s);
        chat.lab().flush();
        chat.start("alice");
        chat.start("bob");
        chat.waitRosters({"alice", "bob"});
        chat.deliver("alice", "bob", "before the silence", 3s);
        chat.deliver("bob", "alice", "answer before the silence", 3s);
        std::this_thread::sleep_for(25s);  // the silence is what is tested: the mappings expire in it
        chat.deliver("alice", "bob", "after the silence", 3s);
        chat.deliver("bob", "alice", "answer after the silence", 3s);
    }

    // 20 % loss on both WAN links, each way: 40 lines each way all arrive,
    // once each and in order.
    void testLossyWanLosesAndDoublesNothing()
    {
        constexpr int kLines = 40;
        LabChat chat;
        chat.start("alice");
        chat.start("bob");
        chat.waitRosters({"alice", "bob"});
        chat.lab().setLoss(20);
        std::vector<std::string> expected;
        for (int i = 1; i <= kLines; ++i) expected.push_back("line " + std::to_string(i));
        for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{{"alice", "bob"}, {"bob", "alice"}}) {
            for (const std::string& text : expected)
                chat.client(from).sendLine(R"({"op":"send","to":")" + to + R"(","text":")" + text + R"("})");
            chat.deliver(from, to, "last", 60s);
        }
        chat.lab().setLoss(0);
        expected.push_back("last");
        CPPUNIT_ASSERT(chat.received("bob", "alice") == expected);
        CPPUNIT_ASSERT(chat.received("alice", "bob") == expected);
    }

    // The routers forget every mapping while the peerds run (a router
    // restarted): within two heartbeats indexd has both online again and
    // lines go both ways.
    void testRebindingNatRecovers()
    {
        LabChat chat({}, {"--heartbeat-ms", "1000"});
        chat.start("alice");
        chat.start("bob");
        chat.waitRosters({"alice", "bob"});
        chat.deliver("alice", "bob", "before the flush", 2s);
        chat.lab().flush();
        // Two heartbeats, the time the issue allows, and a line's 3 s.
        chat.deliver("alice", "bob", "after the flush", 5s);
        chat.deliver("bob", "alice", "answer after the flush", 3s);
    }

    // An off-path host on the public segment (pub's second address) replays
    // what it captured and forges what it likes: a plain punch and replayed
    // seals from its own address to indexd and bob, and, with bob's address
    // forged, altered and replayed seals to alice. No path moves, indexd
    // moves nobody, lines still go both ways, and the host gets back no
    // more bytes than it sent (indexd's bare relogin), none from a peerd.
    void testForgedDatagramsMoveNoPathAndAmplifyNothing()
    {
        LabChat chat;
        const auto& at = chat.lab().addresses();
        PacketCapture capture({}, {"br0", chat.lab().commandIn(Host::Pub)});
        chat.start("alice");
        chat.start("bob");
        chat.waitRosters({"alice", "bob"});
        chat.deliver("alice", "bob", "before", 2s);
        chat.deliver("bob", "alice", "answer before", 2s);
        const std::string index = chat.net().index();
        auto attacker = chat.lab().udpSocketIn(Host::Pub, Poco::Net::SocketAddress(at.pub2, 0));
        const auto aliceAt = [&](const std::string& endpoint) { return endpoint.rfind(at.nat1Wan + ":", 0) == 0; };
        const auto bobAt = [&](const std::string& endpoint) { return endpoint.rfind(at.nat2Wan + ":", 0) == 0; };
        std::string aliceToIndex, aliceToBob, bobToAlice, bobEndpoint, aliceEndpoint;
        for (const auto& datagram : chat.captured(capture)) {
            if (datagram.payload.rfind("seal,", 0) != 0) continue;
            if (aliceAt(datagram.source) && datagram.destination == index) aliceToIndex = datagram.payload;
            if (aliceAt(datagram.source) && bobAt(datagram.destination)) aliceToBob = datagram.payload;
            if (bobAt(datagram.source) && aliceAt(datagram.destination)) {
                bobToAlice = datagram.payload;
                bobEndpoint = datagram.source;
                aliceEndpoint = datagram.destination;
            }
        }
        CPPUNIT_ASSERT_MESSAGE("the capture holds no seal of each kind to replay: " +
                                   std::to_string(!aliceToIndex.empty()) + std::to_string(!aliceToBob.empty()) +
                                   std::to_string(!bobToAlice.empty()),
                               !aliceToIndex.empty() && !aliceToBob.empty() && !bobToAlice.empty());
        std::string altered = bobToAlice;
        altered.back() = altered.back() == 'A' ? 'B' : 'A';

        PacketCapture watch({}, {"br0", chat.lab().commandIn(Host::Pub)});
        const std::string self = attacker.address().toString();
        std::size_t sent = 0;
        const auto sendFromAttacker = [&](const std::string& payload, const std::string& to) {
            attacker.sendTo(payload.data(), static_cast<int>(payload.size()), Poco::Net::SocketAddress(to));
            sent += payload.size();
        };
        for (int i = 0; i < 20; ++i) {
            sendFromAttacker("punch,bob", index);
            sendFromAttacker(aliceToIndex, index);
            sendFromAttacker(aliceToBob, bobEndpoint);
        }
        std::unique_ptr<SpoofingSender> spoofer;
        chat.lab().runIn(Host::Pub, [&] { spoofer = std::make_unique<SpoofingSender>(); });
        for (int i = 0; i < 20; ++i) {
            spoofer->send(bobEndpoint, aliceEndpoint, altered);
            spoofer->send(bobEndpoint, aliceEndpoint, bobToAlice);
        }
        chat.deliver("alice", "bob", "after", 2s);
        chat.deliver("bob", "alice", "answer after", 2s);
        CPPUNIT_ASSERT_EQUAL(std::string("direct"), chat.path("alice", "bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("direct"), chat.path("bob", "alice"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), chat.net().indexd().countInLog(" moved from "));

        std::size_t returned = 0;
        for (const auto& datagram : chat.captured(watch)) {
            if (datagram.destination != self) continue;
            CPPUNIT_ASSERT_MESSAGE("a peerd answered the attacker from " + datagram.source,
                                   !aliceAt(datagram.source) && !bobAt(datagram.source));
            returned += datagram.payload.size();
        }
        CPPUNIT_ASSERT_MESSAGE(std::to_string(returned) + " bytes came back for " + std::to_string(sent) + " sent",
                               returned <= sent);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(NatTest);
