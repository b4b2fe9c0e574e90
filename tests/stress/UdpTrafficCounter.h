#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace peerchat::stress {

/// Counts the UDP datagrams to and from one port on lo as tcpdump sees them
/// (each once), on a thread of its own: an AF_PACKET socket with a BPF filter
/// for that port, which copies only the headers and a payload's first bytes,
/// so that a flood of large datagrams costs it little. Needs root or
/// CAP_NET_RAW.
class UdpTrafficCounter
{
public:
    struct Totals
    {
        std::uint64_t datagramsIn = 0;
        std::uint64_t bytesIn = 0;  ///< UDP payload bytes to the port
        std::uint64_t datagramsOut = 0;
        std::uint64_t bytesOut = 0;  ///< UDP payload bytes from the port
        /// Datagrams from the port whose payload starts with each prefix asked for.
        std::map<std::string, std::uint64_t> outByPrefix;
        /// Datagrams the kernel dropped before this counter read them: the totals are short by that much.
        std::uint64_t missed = 0;
    };

    /// Starts counting at once; outPrefixes (at most 64 bytes each) name the
    /// datagrams sent from the port to count apart, e.g. "login,".
    UdpTrafficCounter(int port, std::vector<std::string> outPrefixes);
    ~UdpTrafficCounter();
    UdpTrafficCounter(const UdpTrafficCounter&) = delete;
    UdpTrafficCounter& operator=(const UdpTrafficCounter&) = delete;

    /// Stops counting and returns the totals.
    Totals stop();

private:
    void run();
    void count(const unsigned char* packet, std::size_t length);

    int _port;
    int _fd = -1;
    std::atomic<bool> _stop{false};
    Totals _totals;
    // Last, so that it starts once everything it uses is there.
    std::thread _thread;
};

} // namespace peerchat::stress
