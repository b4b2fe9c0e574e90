#include "NetLab.h"

#include "DaemonProcess.h"
#include "NetworkNamespace.h"
#include "SystemProgram.h"

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

namespace peerchat::test {

namespace {

// How long one netlab command may take; `up` takes a few seconds on 2 busy cores.
constexpr std::chrono::seconds kScriptDeadline{90};
// Where `ip netns` keeps its namespaces, one file per name.
const std::string kNetnsDirectory = "/run/netns";
// Namespaces of labs built by this class: pc<pid>x<n>-<host>.
const std::regex kLabNamespace("(pc([0-9]+)x[0-9]+-)(pub|nat1|nat2|alice|bob|carol)");

std::string hostName(NetLab::Host host)
{
    switch (host) {
    case NetLab::Host::Pub: return "pub";
    case NetLab::Host::Nat1: return "nat1";
    case NetLab::Host::Nat2: return "nat2";
    case NetLab::Host::Alice: return "alice";
    case NetLab::Host::Bob: return "bob";
    case NetLab::Host::Carol: return "carol";
    }
    return "";
}

std::string modeName(NetLab::NatMode mode)
{
    return mode == NetLab::NatMode::Cone ? "cone" : "symmetric";
}

std::string joined(const std::vector<std::string>& words)
{
    std::string text;
    for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
    return text;
}

std::vector<std::string> namespaces()
{
    std::vector<std::string> names;
    DIR* directory = ::opendir(kNetnsDirectory.c_str());
    if (!directory) return names;
    while (const dirent* entry = ::readdir(directory)) names.emplace_back(entry->d_name);
    ::closedir(directory);
    return names;
}

bool processRuns(pid_t pid)
{
    return ::kill(pid, 0) == 0 || errno == EPERM;
}

// The lab's addresses from `netlab addr` (NETLAB_S=198.18.0.1 ...); fails the test when one is missing.
NetLab::Addresses parseAddresses(const std::string& text)
{
    std::map<std::string, std::string> values;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        const auto eq = line.find('=');
        if (line.rfind("NETLAB_", 0) == 0 && eq != std::string::npos) values[line.substr(7, eq - 7)] = line.substr(eq + 1);
    }
    const auto value = [&](const std::string& key) {
        const auto found = values.find(key);
        if (found == values.end()) CPPUNIT_FAIL("`netlab addr` printed no NETLAB_" + key + "; it printed:\n" + text);
        return found->second;
    };
    return {value("S"),        value("S2"),    value("NAT1_WAN"), value("NAT1_LAN"), value("NAT2_WAN"),
            value("NAT2_LAN"), value("ALICE"), value("BOB"),      value("CAROL")};
}

} // namespace

std::string NetLab::script()
{
    const char* chosen = std::getenv("PEERCHAT_NETLAB");
    return chosen && *chosen ? chosen : std::string(PEERCHAT_SOURCE_DIR) + "/tests/netlab/netlab";
}

int NetLab::runScript(const std::string& prefix, const std::vector<std::string>& args, std::string& output)
{
    // netlab finds ip, nft and conntrack on PATH, which may be a user's without the sbin directories.
    const char* path = std::getenv("PATH");
    DaemonProcess netlab(script(), args,
                         {{"NETLAB_PREFIX", prefix}, {"PATH", std::string(path ? path : "/usr/bin:/bin") + ":/usr/sbin:/sbin"}});
    netlab.start();
    const int status = netlab.waitExit(kScriptDeadline);
    output = netlab.log();
    if (status == -1) output += "(netlab did not finish within " + std::to_string(kScriptDeadline.count()) + " s; killed)";
    return status;
}

std::string NetLab::run(const std::vector<std::string>& args) const
{
    std::string output;
    const int status = runScript(_prefix, args, output);
    if (status != 0) {
        CPPUNIT_FAIL("NETLAB_PREFIX=" + _prefix + " " + script() + " " + joined(args) + " failed (exit " +
                     std::to_string(status) + "):\n" + output);
    }
    return output;
}

void NetLab::removeStaleLabs()
{
    std::set<std::string> stale;
    for (const auto& name : namespaces()) {
        std::smatch match;
        if (std::regex_match(name, match, kLabNamespace) && !processRuns(static_cast<pid_t>(std::stol(match[2]))))
            stale.insert(match[1]);
    }
    for (const auto& prefix : stale) {
        // --force: a lab killed halfway through `up` may lack netlab's marker on some namespace.
        std::string output;
        runScript(prefix, {"down", "--force"}, output);
        for (const auto& name : namespaces()) {
            if (name.rfind(prefix, 0) == 0) {
                // Another test may be removing it right now; a leftover does not stop this test.
                std::cerr << "NetLab: could not remove the stale lab " << prefix << " (namespace " << name
                          << " is left): " << output << std::endl;
                break;
            }
        }
    }
}

NetLab::NetLab() : NetLab(Options{}) {}

NetLab::NetLab(const Options& options)
{
    static std::atomic<int> labs{0};
    _prefix = "pc" + std::to_string(::getpid()) + "x" + std::to_string(labs++) + "-";
    if (::geteuid() != 0) {
        CPPUNIT_FAIL("the NAT lab needs root (network namespaces, veths and nftables); run the NAT tests as root, "
                     "as CI does: sudo ctest -R NatLab");
    }
    if (::access(script().c_str(), X_OK) != 0) {
        CPPUNIT_FAIL("no netlab at " + script() + ": restore tests/netlab/netlab from git, or point PEERCHAT_NETLAB "
                     "at a copy of the lab tool");
    }
    systemProgram("ip", "iproute2");
    systemProgram("nft", "nftables");
    systemProgram("conntrack", "conntrack");
    _addresses = parseAddresses(run({"addr"}));
    removeStaleLabs();
    std::vector<std::string> up{"up"};
    const auto nat = natArguments(options);
    up.insert(up.end(), nat.begin(), nat.end());
    run(up);
}

NetLab::~NetLab()
{
    std::string output;
    if (runScript(_prefix, {"down"}, output) != 0) {
        std::cerr << "NetLab: `NETLAB_PREFIX=" << _prefix << " " << script() << " down` failed; remove the lab by hand "
                  << "with `down --force`:\n" << output << std::endl;
    }
}

std::vector<std::string> NetLab::natArguments(const Options& options)
{
    std::vector<std::string> args{"--nat1", modeName(options.nat1), "--nat2", modeName(options.nat2)};
    if (!options.wanFirewall) args.push_back("--no-wan-firewall");
    return args;
}

std::string NetLab::namespaceOf(Host host) const
{
    return _prefix + hostName(host);
}

std::vector<std::string> NetLab::commandIn(Host host) const
{
    return {systemProgram("ip", "iproute2"), "netns", "exec", namespaceOf(host)};
}

void NetLab::setNat(const Options& options)
{
    std::vector<std::string> args{"nat"};
    const auto nat = natArguments(options);
    args.insert(args.end(), nat.begin(), nat.end());
    run(args);
}

void NetLab::flush()
{
    run({"flush"});
}

void NetLab::setLoss(int percent)
{
    run({"loss", std::to_string(percent)});
}

void NetLab::setUdpTimeouts(Host router, std::chrono::seconds unreplied, std::chrono::seconds replied)
{
    runIn(router, [&] {
        const std::map<std::string, std::chrono::seconds> timeouts{{"nf_conntrack_udp_timeout", unreplied},
                                                                   {"nf_conntrack_udp_timeout_stream", replied}};
        for (const auto& [name, seconds] : timeouts) {
            const std::string path = "/proc/sys/net/netfilter/" + name;
            std::ofstream file(path);
            file << seconds.count() << "\n";
            file.close();
            if (!file) CPPUNIT_FAIL("cannot write " + path + " in " + namespaceOf(router));
        }
    });
}

void NetLab::runIn(Host host, const std::function<void()>& job) const
{
    NetworkNamespace::runIn(namespaceOf(host), job);
}

Poco::Net::DatagramSocket NetLab::udpSocketIn(Host host, const Poco::Net::SocketAddress& address) const
{
    return NetworkNamespace::udpSocketIn(namespaceOf(host), address);
}

} // namespace peerchat::test
