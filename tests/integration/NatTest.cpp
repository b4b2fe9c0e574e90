// Chat across NATs (issue 11), in the NAT lab: indexd in `pub`, alice and
// carol behind one home router (nat1), bob behind another (nat2), each peerd
// in its host and driven through its local socket. Lines must be acked in
// time however the routers map and filter, over the best path there is: a
// shared LAN, then straight through both NATs, then through the TURN relay
// (coturn in pub) where a symmetric NAT defeats punching; and the routers' forgetting,
// loss and rebinding must lose or double nothing. The two users of a chat are
// made contacts first (LabChat::befriend): peerchat users see, and are
// introduced to, their contacts only. Each test builds its own
// lab (tests/support/NetLab): root, nft, conntrack and tcpdump.
#include "LabChat.h"
#include "PacketCapture.h"
#include "SpoofingSender.h"
#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <string>
#include <vector>

using namespace peerchat::test;
using namespace std::chrono_literals;
using Host = NetLab::Host;

class NatTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(NatTest);
    CPPUNIT_TEST(testConeNatsTalkDirectlyInEveryTrial);
    CPPUNIT_TEST(testSameLanTalksOnTheLan);
    CPPUNIT_TEST(testSymmetricNatsTalkThroughRelay);
    CPPUNIT_TEST(testConeAndSymmetricTalkThroughRelay);
    CPPUNIT_TEST(testExpiredMappingsFoundAgain);
    CPPUNIT_TEST(testLossyWanLosesAndDoublesNothing);
    CPPUNIT_TEST(testRebindingNatRecovers);
    CPPUNIT_TEST(testForgedDatagramsMoveNoPathAndAmplifyNothing);
    CPPUNIT_TEST_SUITE_END();

public:
    // cone/cone, 20 trials, each with two new users (new keys, new ports,
    // new mappings): a line each way acked within 2 s, path direct, and the
    // lines went from one router's public address to the other's, and none
    // to the relay.
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
            chat.befriend({a, b});
            chat.deliver(a, b, "trial " + n + " to " + b, 2s);
            chat.deliver(b, a, "trial " + n + " to " + a, 2s);
            CPPUNIT_ASSERT_EQUAL_MESSAGE("trial " + n, std::string("direct"), chat.path(a, b));
            CPPUNIT_ASSERT_EQUAL_MESSAGE("trial " + n, std::string("direct"), chat.path(b, a));
            chat.stop(a);
            chat.stop(b);
        }
        std::size_t wanToWan = 0;
        for (const auto& datagram : chat.captured(capture)) {
            CPPUNIT_ASSERT_MESSAGE("a datagram went to the relay: " + datagram.source + " -> " + datagram.destination,
                                   !chat.toRelay(datagram));
            const std::string source = datagram.source.substr(0, datagram.source.rfind(':'));
            const std::string destination = datagram.destination.substr(0, datagram.destination.rfind(':'));
            if ((source == at.nat1Wan && destination == at.nat2Wan) || (source == at.nat2Wan && destination == at.nat1Wan))
                ++wanToWan;
        }
        CPPUNIT_ASSERT_MESSAGE("no datagram went from one router's public address to the other's",
                               wanToWan >= 2 * kTrials);
    }

    // alice and carol share a LAN behind a router that does not hairpin:
    // their lines go on the LAN (path lan), never out to pub (the relay there included).
    void testSameLanTalksOnTheLan()
    {
        LabChat chat;
        const auto& at = chat.lab().addresses();
        chat.start("alice");
        chat.start("carol");
        chat.befriend({"alice", "carol"});
        PacketCapture capture({}, {"br0", chat.lab().commandIn(Host::Pub)});
        chat.deliver("alice", "carol", "to carol", 2s);
        chat.deliver("carol", "alice", "to alice", 2s);
        CPPUNIT_ASSERT_EQUAL(std::string("lan"), chat.path("alice", "carol"));
        CPPUNIT_ASSERT_EQUAL(std::string("lan"), chat.path("carol", "alice"));
        // What leaves their router goes to indexd and nowhere else.
        const auto atNat1 = [&](const std::string& endpoint) { return endpoint.rfind(at.nat1Wan + ":", 0) == 0; };
        const auto atPub = [&](const std::string& endpoint) { return endpoint.rfind(at.pub + ":", 0) == 0; };
        for (const auto& datagram : chat.captured(capture)) {
            CPPUNIT_ASSERT_MESSAGE("a datagram went to the relay: " + datagram.source + " -> " + datagram.destination,
                                   !chat.toRelay(datagram));
            if (!atNat1(datagram.source) && !atNat1(datagram.destination)) continue;
            CPPUNIT_ASSERT_MESSAGE("alice's or carol's datagram went elsewhere than to indexd: " + datagram.source +
                                       " -> " + datagram.destination,
                                   atPub(datagram.source) || atPub(datagram.destination));
        }
    }

    // Both routers symmetric (a new mapping per destination): no probe gets
    // through, so the peerds fall back to the relay and a line each way is
    // acked within 3 s, path relay.
    void testSymmetricNatsTalkThroughRelay()
    {
        talkThroughRelay({NetLab::NatMode::Symmetric, NetLab::NatMode::Symmetric, true});
    }

    // One router cone, the other symmetric: the same.
    void testConeAndSymmetricTalkThroughRelay()
    {
        talkThroughRelay({NetLab::NatMode::Cone, NetLab::NatMode::Symmetric, true});
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
        chat.befriend({"alice", "bob"});
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
        chat.befriend({"alice", "bob"});
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
        chat.befriend({"alice", "bob"});
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
        chat.befriend({"alice", "bob"});
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

private:
    static void talkThroughRelay(const NetLab::Options& nats)
    {
        LabChat chat(nats);
        chat.start("alice");
        chat.start("bob");
        chat.befriend({"alice", "bob"});
        chat.deliver("alice", "bob", "through the relay to bob", 3s);
        chat.deliver("bob", "alice", "through the relay to alice", 3s);
        CPPUNIT_ASSERT_EQUAL(std::string("relay"), chat.path("alice", "bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("relay"), chat.path("bob", "alice"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(NatTest);
