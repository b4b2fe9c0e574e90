#pragma once

#include "DaemonProcess.h"
#include "Endpoint.h"
#include "TempDir.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace peerchat::test {

/// A real coturn (turnserver) for a test: no configuration file, listening
/// on UDP only at ip and a free port (never 3478), relaying from a random
/// block of 32 ports below the ephemeral range on the same ip, REST-API
/// credentials (use-auth-secret with secret()), realm "peerchat", no TLS,
/// DTLS, TCP or CLI, loopback peers allowed, its pid file and database in a
/// private directory and its log in the DaemonProcess log. Killed when the
/// object goes away.
class CoturnProcess
{
public:
    struct Options
    {
        /// The listening and relay address (IPv4).
        std::string ip = "127.0.0.1";
        /// Runs turnserver under this command, e.g. {"ip", "netns", "exec", "pub"}.
        std::vector<std::string> commandPrefix;
        std::string secret = "peerchat-test-turn-secret";
        std::string realm = "peerchat";
        /// The longest allocation coturn grants, whatever a client asks for.
        std::chrono::seconds maxLifetime{3600};
    };

    explicit CoturnProcess(Options options);
    CoturnProcess() : CoturnProcess(Options{}) {}

    /// Starts turnserver and waits until its UDP listener is bound (read from
    /// /proc/PID/net/udp, which shows the process's own network namespace).
    /// Fails the test with its log when it exits or does not listen in time.
    void start(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// Where clients send: ip and the listening port.
    const Endpoint& endpoint() const { return _endpoint; }
    const std::string& secret() const { return _options.secret; }
    const std::string& realm() const { return _options.realm; }
    /// turnserver's log so far.
    std::string log() const { return _process->log(); }
    DaemonProcess& process() { return *_process; }

private:
    bool listening() const;

    Options _options;
    TempDir _dir;
    Endpoint _endpoint;
    std::unique_ptr<DaemonProcess> _process;
};

} // namespace peerchat::test
