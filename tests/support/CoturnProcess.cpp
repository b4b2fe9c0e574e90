#include "CoturnProcess.h"

#include "Wait.h"

#include <Poco/Net/DatagramSocket.h>
#include <cppunit/extensions/HelperMacros.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <unistd.h>

namespace peerchat::test {

namespace {

constexpr const char* kTurnserver = "/usr/bin/turnserver";
constexpr int kRelayPorts = 32;
// Below Linux's ephemeral range (32768-60999), so the relay block does not
// meet the ports other tests' sockets are given; coturn skips a busy port.
constexpr int kRelayLow = 20000;
constexpr int kRelayHigh = 32000;

// A UDP port free on ip right now: coturn binds it a moment later.
std::uint16_t freeUdpPort(const std::string& ip)
{
    Poco::Net::DatagramSocket probe(Poco::Net::SocketAddress(ip, 0));
    return probe.address().port();
}

} // namespace

CoturnProcess::CoturnProcess(Options options) : _options(std::move(options))
{
    // Inside a network namespace the address may not exist here: any port will do there.
    std::uint16_t port = 0;
    try {
        port = freeUdpPort(_options.ip);
    } catch (const Poco::Exception&) {
        port = static_cast<std::uint16_t>(34000 + std::random_device()() % 1000);
    }
    _endpoint = Endpoint(Poco::Net::SocketAddress(_options.ip, port));
    const int relayLow = kRelayLow + static_cast<int>(std::random_device()() % ((kRelayHigh - kRelayLow) / kRelayPorts)) * kRelayPorts;

    std::vector<std::string> args{
        "-n", // no configuration file: nothing of /etc/turnserver.conf
        "--listening-ip=" + _options.ip,
        "--listening-port=" + std::to_string(port),
        "--relay-ip=" + _options.ip,
        "--min-port=" + std::to_string(relayLow),
        "--max-port=" + std::to_string(relayLow + kRelayPorts - 1),
        "--use-auth-secret",
        "--static-auth-secret=" + _options.secret,
        "--realm=" + _options.realm,
        "--max-allocate-lifetime=" + std::to_string(_options.maxLifetime.count()),
        "--no-tls",
        "--no-dtls",
        "--no-tcp",
        "--no-tcp-relay",
        "--no-cli",
        "--allow-loopback-peers",
        "--log-file=stdout",
        "--simple-log",
        "--pidfile=" + _dir.file("turnserver.pid"),
        "--db=" + _dir.file("turndb"),
    };
    _process = std::make_unique<DaemonProcess>(kTurnserver, std::move(args));
    _process->setCommandPrefix(_options.commandPrefix);
}

void CoturnProcess::start(std::chrono::milliseconds timeout)
{
    if (::access(kTurnserver, X_OK) != 0)
        CPPUNIT_FAIL(std::string("coturn is not installed (no ") + kTurnserver + "); run make deps");
    _process->start();
    const bool ready = waitUntil([&] { return listening() || !_process->running(); }, timeout);
    if (!ready || !_process->running()) {
        CPPUNIT_FAIL("turnserver did not listen on " + _endpoint.toString() + (_process->running() ? " in time" : " (it exited)")
                     + "; its log:\n" + _process->log());
    }
}

bool CoturnProcess::listening() const
{
    // /proc/net/udp prints an IPv4 socket as the address's bytes in host order
    // (0100007F for 127.0.0.1 on little-endian) and the port, in hex.
    const Poco::Net::IPAddress host = _endpoint.host();
    const auto* bytes = static_cast<const std::uint8_t*>(host.addr());
    char local[16];
    std::snprintf(local, sizeof local, "%02X%02X%02X%02X:%04X", bytes[3], bytes[2], bytes[1], bytes[0], _endpoint.port());
    std::ifstream table("/proc/" + std::to_string(_process->pid()) + "/net/udp");
    std::string line;
    while (std::getline(table, line)) {
        if (line.find(local) != std::string::npos) return true;
    }
    return false;
}

} // namespace peerchat::test
