#pragma once

#include "CryptoTypes.h"
#include "DaemonProcess.h"
#include "Endpoint.h"
#include "TempDir.h"

#include <memory>
#include <string>
#include <vector>

namespace peerchat::bench {

/// A real indexd (build/bin/indexd, through test::DaemonProcess) for a crowd
/// of simulated users on this host: bound to 127.0.0.1, any free UDP port,
/// its database and identity key in a private temporary directory, and
/// --login-rate 1000000, since every simulated user writes from a loopback
/// address and indexd limits the hellos and auths of one address to 20 a
/// second (docs/PROTOCOL.md, "Hardening"). Everything else is as shipped
/// unless the caller's flags say otherwise (log level information: a line
/// per login, as in production).
/// Killed and reaped when the object goes.
class CrowdIndexd
{
public:
    /// Starts indexd and waits for its ready line (fails as
    /// DaemonProcess::waitReady does); extraFlags come last and win.
    explicit CrowdIndexd(std::vector<std::string> extraFlags = {});

    test::DaemonProcess& process() { return *_process; }
    /// indexd's UDP endpoint, 127.0.0.1:PORT.
    const Endpoint& endpoint() const { return _endpoint; }
    /// indexd's identity key, from its ready line.
    const PublicKey& identity() const { return _identity; }

private:
    test::TempDir _dir;
    std::unique_ptr<test::DaemonProcess> _process;
    Endpoint _endpoint;
    PublicKey _identity{};
};

} // namespace peerchat::bench
