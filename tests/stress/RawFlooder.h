#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace peerchat::stress {

/// Floods one UDP endpoint on loopback through a raw socket (IPPROTO_RAW, so
/// any source address can be written), on a thread of its own, for a set
/// time: as fast as one core sends (batches through sendmmsg) or at a set
/// rate. Sources are random addresses in 127.1.0.0-127.254.255.255 (never
/// 127.0.0.x, where the real users are; whatever a daemon answers stays on
/// lo) with random ports, or one fixed endpoint. Needs root or CAP_NET_RAW.
class RawFlooder
{
public:
    /// The payload of the nth datagram (from 0), sent from source ("a.b.c.d:port").
    using PayloadMaker = std::function<std::string(const std::string& source, std::uint64_t n)>;

    struct Plan
    {
        std::string target;                 ///< "127.0.0.1:PORT"
        std::vector<std::string> payloads;  ///< sent in turn, unless makePayload is set
        PayloadMaker makePayload;           ///< builds each datagram's payload (for rated floods)
        std::string source;                 ///< one fixed "a.b.c.d:port"; empty: random sources
        double perSecond = 0;               ///< 0: as fast as it goes
        std::chrono::milliseconds duration{0};
    };

    /// count payloads of size random bytes each.
    static std::vector<std::string> garbage(std::size_t count, std::size_t size);

    /// Starts flooding at once; throws when the raw socket cannot be opened.
    explicit RawFlooder(Plan plan);
    /// Stops the flood and waits for its thread.
    ~RawFlooder();
    RawFlooder(const RawFlooder&) = delete;
    RawFlooder& operator=(const RawFlooder&) = delete;

    /// Waits until the flood's time is up (or a stop request cut it short).
    void wait();

    std::uint64_t sent() const { return _sent; }
    /// Payload bytes sent.
    std::uint64_t sentBytes() const { return _sentBytes; }
    /// How long it has flooded so far (all of it after wait()).
    double seconds() const;
    /// Datagrams a second, over seconds().
    double rate() const;
    /// Why the flood stopped early; empty when it did not. Read after wait().
    const std::string& error() const { return _error; }

private:
    void run();
    void floodFast();
    void floodPaced();
    std::int64_t elapsedUs() const;

    Plan _plan;
    sockaddr_in _target{};
    std::optional<sockaddr_in> _fixedSource;
    int _fd = -1;
    std::atomic<bool> _stop{false};
    std::atomic<std::uint64_t> _sent{0};
    std::atomic<std::uint64_t> _sentBytes{0};
    std::atomic<std::int64_t> _elapsedUs{0};
    std::chrono::steady_clock::time_point _start;
    std::string _error;
    // Last, so that it starts once everything it uses is there.
    std::thread _thread;
};

} // namespace peerchat::stress
