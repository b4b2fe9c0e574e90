#pragma once

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace peerchat::test {

/// The NAT lab of tests/netlab/netlab, built for one test and torn down when
/// the object goes away (also when the test fails or throws): indexd's host
/// `pub` on a "public" segment, and two home routers, nat1 (alice and carol
/// behind it, on one LAN) and nat2 (bob), each a masquerading NAT with a home
/// router's WAN firewall; every host is a network namespace. The manual is
/// the lab's README (tests/netlab/README.md says where it is).
///
/// Each lab has its own namespace prefix, pc<pid>x<n>-, so that tests run
/// side by side (ctest -j) do not collide; labs a test process left behind
/// when it died (its pid no longer runs) are removed before a new one is
/// built. It needs root, and nft, conntrack and ip (`make deps`).
class NetLab
{
public:
    enum class Host { Pub, Nat1, Nat2, Alice, Bob, Carol };
    /// cone: endpoint-independent mapping (the port is kept when it is free),
    /// address-and-port-dependent filtering; symmetric: a new random port per
    /// destination. See the lab's README, "NAT variants".
    enum class NatMode { Cone, Symmetric };

    struct Options
    {
        NatMode nat1 = NatMode::Cone;
        NatMode nat2 = NatMode::Cone;
        /// A home router's inbound filter on both routers; without it hole
        /// punching meets the conntrack race of the README.
        bool wanFirewall = true;
    };

    /// The lab's addresses, as `netlab addr` prints them.
    struct Addresses
    {
        std::string pub;      ///< S: indexd's address on br0
        std::string pub2;     ///< S2: pub's second address, for comparing mappings
        std::string nat1Wan;  ///< the public address alice and carol appear from
        std::string nat1Lan;
        std::string nat2Wan;  ///< the public address bob appears from
        std::string nat2Lan;
        std::string alice;
        std::string bob;
        std::string carol;
    };

    /// Removes stale labs, then runs `netlab up` with options. Fails the
    /// test, saying what to do, when it cannot (not root, netlab or a tool
    /// missing, up failed).
    explicit NetLab(const Options& options);
    /// A cone/cone lab with the WAN firewall.
    NetLab();
    /// Runs `netlab down`, which also kills what still runs in the lab.
    ~NetLab();
    NetLab(const NetLab&) = delete;
    NetLab& operator=(const NetLab&) = delete;

    /// The namespace prefix of this lab, e.g. "pc1234x0-".
    const std::string& prefix() const { return _prefix; }
    const Addresses& addresses() const { return _addresses; }
    /// The network namespace of host: prefix() + "alice".
    std::string namespaceOf(Host host) const;
    /// A command prefix that runs a program in host's namespace, `ip netns
    /// exec NS`: it execs the program, so its pid is the program's (for
    /// DaemonProcess::setCommandPrefix, CaptureInterface).
    std::vector<std::string> commandIn(Host host) const;

    /// `netlab nat`: switches both routers' NAT modes and firewall at once,
    /// which also forgets every mapping.
    void setNat(const Options& options);
    /// `netlab flush`: both routers forget their NAT mappings.
    void flush();
    /// `netlab loss`: drops percent (0 to 99: netlab's nft rule refuses
    /// 100) of the datagrams on both WAN links, each way, at random; 0 ends it.
    void setLoss(int percent);
    /// Sets a router's conntrack UDP timeouts: how long a mapping lives
    /// unreplied (nf_conntrack_udp_timeout) and once replied (_stream).
    void setUdpTimeouts(Host router, std::chrono::seconds unreplied, std::chrono::seconds replied);

    /// Runs job on a thread of this process that has entered host's network
    /// namespace; what it throws is thrown here. Sockets it creates stay in
    /// that namespace for good.
    void runIn(Host host, const std::function<void()>& job) const;
    /// A UDP socket in host's namespace bound to address (port 0: any).
    Poco::Net::DatagramSocket udpSocketIn(Host host, const Poco::Net::SocketAddress& address) const;

    /// The netlab script tests run: $PEERCHAT_NETLAB, else the copy in tests/netlab/.
    static std::string script();
private:
    /// Removes the labs of test processes that are no longer running.
    static void removeStaleLabs();
    static std::vector<std::string> natArguments(const Options& options);
    /// Runs netlab with args for the lab named by prefix; its exit status,
    /// and its output in output.
    static int runScript(const std::string& prefix, const std::vector<std::string>& args, std::string& output);
    /// Runs netlab with args for this lab and returns its output; fails the test when it fails.
    std::string run(const std::vector<std::string>& args) const;

    std::string _prefix;
    Addresses _addresses;
};

} // namespace peerchat::test
