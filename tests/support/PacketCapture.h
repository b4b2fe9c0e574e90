#pragma once

#include "DaemonProcess.h"
#include "TempDir.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace peerchat::test {

/// Where a PacketCapture captures: an interface with Ethernet framing (lo, a
/// bridge, a veth), in the network namespace launcher enters (empty: this
/// one; NetLab::commandIn for a lab host).
struct CaptureInterface
{
    std::string name = "lo";
    std::vector<std::string> launcher{};
};

/// tcpdump capturing the UDP datagrams on an interface (lo, or pub's br0 in
/// the NAT lab) to and from some ports while a test runs, and what it
/// captured: the bytes an eavesdropper on the wire would have.
class PacketCapture
{
public:
    /// One captured UDP datagram over IPv4.
    struct Datagram
    {
        std::string source;       ///< "ADDRESS:PORT", e.g. "127.0.0.1:9400"
        std::string destination;  ///< "ADDRESS:PORT"
        std::string payload;
    };

    /// Starts `tcpdump -i INTERFACE -w FILE udp and (port P ...)` (every UDP
    /// datagram when ports is empty) and waits until it listens. Fails the
    /// test, saying what to do, when tcpdump is missing (`make deps` installs
    /// it) or cannot capture (it needs root or CAP_NET_RAW).
    explicit PacketCapture(const std::vector<int>& ports, const CaptureInterface& where = {});
    ~PacketCapture();
    PacketCapture(const PacketCapture&) = delete;
    PacketCapture& operator=(const PacketCapture&) = delete;

    /// True when bytes show up in the capture file before timeout: a test
    /// sends a marker datagram last and waits for it, so that everything
    /// before it is in the file when it stops.
    bool waitCaptured(const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// Stops tcpdump, which writes out what it holds, and returns every
    /// datagram it captured, in order.
    std::vector<Datagram> stop();

    /// The port of "host:port".
    static int portOf(const std::string& endpoint);

private:
    std::string fileBytes() const;

    TempDir _dir;
    std::unique_ptr<DaemonProcess> _tcpdump;
};

} // namespace peerchat::test
