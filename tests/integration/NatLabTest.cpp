// peerchat in the NAT lab (issue 11): indexd in the lab's public host `pub`,
// peerds behind two home NATs (alice and carol behind nat1, bob behind nat2),
// each driven through its local socket, which the namespaces share with the
// test. First the lab itself is checked (a broken lab would pass or fail the
// peerchat tests for the wrong reason), then what peerchat does today: every
// peerd logs in through its NAT and sees the others, its contacts, online at
// their NATs' public addresses. Each test builds its own lab (tests/support/NetLab); it
// needs root, nft, conntrack and tcpdump, and fails saying so without them.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "NetLab.h"
#include "PacketCapture.h"
#include "Wait.h"

#include <Poco/Exception.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <array>
#include <fstream>
#include <map>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

using namespace peerchat::test;
using namespace std::chrono_literals;
using Host = NetLab::Host;
using Poco::Net::DatagramSocket;
using Poco::Net::SocketAddress;

namespace {

// Generous: the lab and sanitized daemons share 2 busy cores with other tests.
constexpr auto kArrival = 10s;
constexpr auto kLogin = 30s;

// A port in pub nothing listens on: datagrams to it show up in a capture and go no further.
constexpr std::uint16_t kClosedPort = 9;

struct Received
{
    std::string payload;
    SocketAddress from;
};

// The next datagram on socket; fails the test when none comes within kArrival.
Received receive(DatagramSocket& socket, const std::string& what)
{
    socket.setReceiveTimeout(Poco::Timespan(std::chrono::duration_cast<std::chrono::microseconds>(kArrival).count()));
    std::array<char, 2048> buffer{};
    SocketAddress from;
    try {
        const int size = socket.receiveFrom(buffer.data(), static_cast<int>(buffer.size()), from);
        return {std::string(buffer.data(), static_cast<std::size_t>(size)), from};
    } catch (const Poco::TimeoutException&) {
        CPPUNIT_FAIL("no datagram within " + std::to_string(kArrival.count()) + " s: " + what);
    }
    return {};
}

void send(DatagramSocket& socket, const std::string& payload, const SocketAddress& to)
{
    socket.sendTo(payload.data(), static_cast<int>(payload.size()), to);
}

bool namespaceExists(const std::string& name)
{
    struct stat status{};
    return ::stat(("/run/netns/" + name).c_str(), &status) == 0;
}

// A pid no process has: a child that has exited and been reaped.
pid_t deadPid()
{
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    CPPUNIT_ASSERT_MESSAGE("fork failed", child > 0);
    ::waitpid(child, nullptr, 0);
    return child;
}

// The text of a file as a program in host's namespace reads it.
std::string readIn(const NetLab& lab, Host host, const std::string& path)
{
    DaemonProcess cat("/bin/cat", {path});
    cat.setCommandPrefix(lab.commandIn(host));
    cat.start();
    CPPUNIT_ASSERT_EQUAL_MESSAGE("cat " + path + ": " + cat.log(), 0, cat.waitExit());
    return cat.log();
}

std::string readHere(const std::string& path)
{
    std::ifstream file(path);
    std::string text;
    std::getline(file, text);
    return text + "\n";
}

// The users of the lab, where their peerds run, and the public address their NAT gives them.
struct LabUser
{
    std::string name;
    Host host;
    std::string lan;
    std::string wan;
};

std::vector<LabUser> labUsers(const NetLab& lab)
{
    const auto& at = lab.addresses();
    return {{"alice", Host::Alice, at.alice, at.nat1Wan},
            {"bob", Host::Bob, at.bob, at.nat2Wan},
            {"carol", Host::Carol, at.carol, at.nat1Wan}};
}

// name -> endpoint of every user in the roster peerd reports to client.
std::map<std::string, std::string> rosterEndpoints(LocalClient& client)
{
    std::map<std::string, std::string> endpoints;
    const auto users = rosterUsers(client);
    for (std::size_t i = 0; i < users->size(); ++i) {
        const auto user = users->getObject(i);
        endpoints[user->getValue<std::string>("name")] = user->getValue<std::string>("endpoint");
    }
    return endpoints;
}

std::string hostOf(const std::string& endpoint)
{
    return endpoint.substr(0, endpoint.rfind(':'));
}

} // namespace

class NatLabTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(NatLabTest);
    CPPUNIT_TEST(testLabTranslatesOutgoingDatagrams);
    CPPUNIT_TEST(testLabDropsUnsolicitedDatagrams);
    CPPUNIT_TEST(testLabSwitchesToSymmetricMapping);
    CPPUNIT_TEST(testLabLosesDatagramsOnRequest);
    CPPUNIT_TEST(testLabSetsRouterConntrackTimeouts);
    CPPUNIT_TEST(testLabRemovesStaleLabsAndItself);
    CPPUNIT_TEST(testConeNatsRostersShowPublicAddresses);
    CPPUNIT_TEST(testSymmetricNatsRostersShowPublicAddresses);
    CPPUNIT_TEST_SUITE_END();

public:
    // alice's datagram reaches pub from nat1's public address with its port
    // kept (cone), and one to bob's router shows up on pub's br0 as WAN to WAN.
    void testLabTranslatesOutgoingDatagrams()
    {
        NetLab lab;
        const auto& at = lab.addresses();
        PacketCapture capture({}, {"br0", lab.commandIn(Host::Pub)});
        auto pub = lab.udpSocketIn(Host::Pub, SocketAddress(at.pub, 0));
        auto alice = lab.udpSocketIn(Host::Alice, SocketAddress(at.alice, 0));
        const std::uint16_t alicePort = alice.address().port();

        send(alice, "to bob's router", SocketAddress(at.nat2Wan, kClosedPort));
        send(alice, "to pub", pub.address());
        const auto got = receive(pub, "alice's datagram to pub");
        CPPUNIT_ASSERT_EQUAL(std::string("to pub"), got.payload);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("the source pub sees", SocketAddress(at.nat1Wan, alicePort).toString(),
                                     got.from.toString());

        CPPUNIT_ASSERT(capture.waitCaptured("to pub"));
        bool wanToWan = false;
        for (const auto& datagram : capture.stop()) {
            wanToWan |= datagram.payload == "to bob's router" &&
                        datagram.source == SocketAddress(at.nat1Wan, alicePort).toString() &&
                        datagram.destination == SocketAddress(at.nat2Wan, kClosedPort).toString();
        }
        CPPUNIT_ASSERT_MESSAGE("no datagram from nat1's to nat2's public address on pub's br0", wanToWan);
    }

    // A datagram from pub to alice's public address with no mapping is dropped:
    // the marker sent after alice opened the mapping is the first she gets.
    void testLabDropsUnsolicitedDatagrams()
    {
        NetLab lab;
        const auto& at = lab.addresses();
        auto pub = lab.udpSocketIn(Host::Pub, SocketAddress(at.pub, 0));
        auto alice = lab.udpSocketIn(Host::Alice, SocketAddress(at.alice, 0));
        const SocketAddress alicePublic(at.nat1Wan, alice.address().port());

        send(pub, "unsolicited", alicePublic);
        send(alice, "opening", pub.address());
        const auto opening = receive(pub, "alice's datagram that opens her mapping");
        CPPUNIT_ASSERT_EQUAL_MESSAGE("alice's mapping, where the unsolicited datagram went", alicePublic.toString(),
                                     opening.from.toString());
        send(pub, "marker", alicePublic);
        CPPUNIT_ASSERT_EQUAL(std::string("marker"), receive(alice, "pub's marker after the mapping").payload);
    }

    // setNat: one socket of alice's appears from one port to both of pub's
    // addresses behind a cone NAT, and from two behind a symmetric one.
    void testLabSwitchesToSymmetricMapping()
    {
        NetLab lab;
        const auto& at = lab.addresses();
        auto pub = lab.udpSocketIn(Host::Pub, SocketAddress(at.pub, 0));
        auto pub2 = lab.udpSocketIn(Host::Pub, SocketAddress(at.pub2, 0));
        auto alice = lab.udpSocketIn(Host::Alice, SocketAddress(at.alice, 0));
        const auto mappedPorts = [&] {
            send(alice, "probe", pub.address());
            send(alice, "probe", pub2.address());
            return std::make_pair(receive(pub, "probe to S").from.port(), receive(pub2, "probe to S2").from.port());
        };

        const auto cone = mappedPorts();
        CPPUNIT_ASSERT_EQUAL_MESSAGE("cone: one mapping for every destination", cone.first, cone.second);
        lab.setNat({NetLab::NatMode::Symmetric, NetLab::NatMode::Symmetric, true});
        const auto symmetric = mappedPorts();
        CPPUNIT_ASSERT_MESSAGE("symmetric: a mapping per destination, yet both came from port " +
                                   std::to_string(symmetric.first),
                               symmetric.first != symmetric.second);
    }

    // setLoss(99) drops nearly all of alice's datagrams to pub (99 in 100
    // expected, at random: a bound that random loss meets but a missing rule
    // does not); after setLoss(0) her marker arrives.
    void testLabLosesDatagramsOnRequest()
    {
        constexpr int kSent = 200;
        constexpr int kArrivedAtMost = 20;
        NetLab lab;
        const auto& at = lab.addresses();
        auto pub = lab.udpSocketIn(Host::Pub, SocketAddress(at.pub, 0));
        auto alice = lab.udpSocketIn(Host::Alice, SocketAddress(at.alice, 0));

        lab.setLoss(99);
        for (int i = 0; i < kSent; ++i) send(alice, "lossy", pub.address());
        lab.setLoss(0);
        send(alice, "marker", pub.address());
        int arrived = 0;
        while (receive(pub, "alice's marker after the loss ended").payload != "marker") ++arrived;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(arrived) + " of " + std::to_string(kSent) + " arrived at 99% loss",
                               arrived <= kArrivedAtMost);
    }

    // setUdpTimeouts changes nat1's conntrack timeouts, and neither nat2's nor this host's.
    void testLabSetsRouterConntrackTimeouts()
    {
        const std::string unreplied = "/proc/sys/net/netfilter/nf_conntrack_udp_timeout";
        const std::string replied = "/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream";
        const std::string hereBefore = readHere(unreplied) + readHere(replied);
        NetLab lab;
        const std::string nat2Before = readIn(lab, Host::Nat2, unreplied) + readIn(lab, Host::Nat2, replied);

        lab.setUdpTimeouts(Host::Nat1, 5s, 10s);
        CPPUNIT_ASSERT_EQUAL(std::string("5\n"), readIn(lab, Host::Nat1, unreplied));
        CPPUNIT_ASSERT_EQUAL(std::string("10\n"), readIn(lab, Host::Nat1, replied));
        CPPUNIT_ASSERT_EQUAL(nat2Before, readIn(lab, Host::Nat2, unreplied) + readIn(lab, Host::Nat2, replied));
        CPPUNIT_ASSERT_EQUAL(hereBefore, readHere(unreplied) + readHere(replied));
    }

    // A lab left by a test process that died is removed when the next lab is
    // built, and a lab is gone once its object is.
    void testLabRemovesStaleLabsAndItself()
    {
        const std::string stale = "pc" + std::to_string(deadPid()) + "x0-";
        DaemonProcess up(NetLab::script(), {"up"}, {{"NETLAB_PREFIX", stale}});
        up.start();
        CPPUNIT_ASSERT_EQUAL_MESSAGE("netlab up for the stale lab: " + up.log(), 0, up.waitExit(60s));
        CPPUNIT_ASSERT(namespaceExists(stale + "pub"));

        std::string prefix;
        {
            NetLab lab;
            prefix = lab.prefix();
            CPPUNIT_ASSERT_MESSAGE("the stale lab is still there", !namespaceExists(stale + "pub"));
            CPPUNIT_ASSERT(!namespaceExists(stale + "bob"));
            CPPUNIT_ASSERT(namespaceExists(lab.namespaceOf(Host::Carol)));
        }
        for (const char* host : {"pub", "nat1", "nat2", "alice", "bob", "carol"})
            CPPUNIT_ASSERT_MESSAGE(prefix + host + " outlived its lab", !namespaceExists(prefix + host));
    }

    void testConeNatsRostersShowPublicAddresses()
    {
        checkRostersShowPublicAddresses({NetLab::NatMode::Cone, NetLab::NatMode::Cone, true});
    }

    void testSymmetricNatsRostersShowPublicAddresses()
    {
        checkRostersShowPublicAddresses({NetLab::NatMode::Symmetric, NetLab::NatMode::Symmetric, true});
    }

private:
    // indexd in pub, alice, bob and carol in their hosts, each the contact of
    // the two others: every roster shows the two others online at their NAT's
    // public address, and indexd logged each in from there.
    static void checkRostersShowPublicAddresses(const NetLab::Options& options)
    {
        NetLab lab(options);
        ChatNetwork net(ChatNetwork::Wire::Secure, {}, {lab.commandIn(Host::Pub), lab.addresses().pub});
        const auto users = labUsers(lab);
        std::map<std::string, std::unique_ptr<LocalClient>> clients;
        for (const auto& user : users) {
            net.place(user.name, {lab.commandIn(user.host), user.lan});
            net.startPeerd(user.name);
        }
        for (const auto& user : users) clients[user.name] = net.attachOnline(user.name);
        // Only contacts see each other: each adds the two others, as people do.
        for (const auto& user : users) {
            for (const auto& other : users) {
                if (other.name != user.name) clients[user.name]->sendLine(peerRequest("add", other.name));
            }
        }

        for (const auto& viewer : users) {
            std::map<std::string, std::string> endpoints;
            const bool complete = waitUntil([&] {
                endpoints = rosterEndpoints(*clients[viewer.name]);
                return endpoints.size() == users.size() - 1;
            }, kLogin);
            CPPUNIT_ASSERT_MESSAGE(viewer.name + "'s roster never held the two others:\n" + net.peerd(viewer.name).log(),
                                   complete);
            for (const auto& other : users) {
                if (other.name == viewer.name) continue;
                const auto endpoint = endpoints.find(other.name);
                CPPUNIT_ASSERT_MESSAGE(other.name + " is not in " + viewer.name + "'s roster",
                                       endpoint != endpoints.end());
                CPPUNIT_ASSERT_EQUAL_MESSAGE(other.name + "'s address in " + viewer.name + "'s roster", other.wan,
                                             hostOf(endpoint->second));
                CPPUNIT_ASSERT_MESSAGE("indexd did not log " + other.name + " in from " + endpoint->second + ":\n" +
                                           net.indexd().log(),
                                       net.indexd().countInLog("login " + other.name + " at " + endpoint->second + " ") > 0);
            }
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(NatLabTest);
