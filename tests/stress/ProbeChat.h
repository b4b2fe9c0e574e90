#pragma once

#include "BenchStats.h"
#include "ChatNetwork.h"
#include "LocalClient.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

namespace peerchat::stress {

/// Probe lines between two real peerds, sent through their local sockets as
/// chatui sends them, at random intervals, on a thread of its own: how long
/// each took to show on the other side, which never did, and the presence
/// events that said either user went offline (an expiry at indexd).
class ProbeChat
{
public:
    struct Options
    {
        std::chrono::milliseconds minInterval{100};
        std::chrono::milliseconds maxInterval{200};
        /// Each probe's text is padded with 'x' to this many bytes (short when 0).
        std::size_t textBytes = 0;
        /// Alternate directions; otherwise from a to b only.
        bool bothWays = true;
    };

    /// Attaches to the peerds of a and b in net, which must be online, makes
    /// a and b contacts (test::befriend) and waits until each sees the other
    /// online. Sends nothing yet.
    ProbeChat(test::ChatNetwork& net, std::string a, std::string b, Options options);
    /// Stops the thread (without grace) when finish() was not called.
    ~ProbeChat();
    ProbeChat(const ProbeChat&) = delete;
    ProbeChat& operator=(const ProbeChat&) = delete;

    void start();
    /// Stops sending and waits up to grace for the probes still on their way.
    void finish(std::chrono::milliseconds grace);

    // Read after finish().
    std::size_t sent() const { return _sentAt.size() + _latency.size(); }
    /// Probes that never arrived.
    std::size_t lost() const { return _sentAt.size(); }
    /// Send to arrival, in microseconds.
    bench::Samples& latency() { return _latency; }
    /// Presence events saying a or b went offline, seen at either peerd.
    std::size_t offlineEvents() const { return _offlineEvents; }

private:
    struct Side
    {
        std::string name;
        std::unique_ptr<test::LocalClient> client;
    };

    void run();
    void sendProbe(Side& from, const Side& to);
    void pump(Side& side);

    Options _options;
    Side _a;
    Side _b;
    std::atomic<bool> _finishing{false};
    std::atomic<bool> _stop{false};
    std::chrono::steady_clock::time_point _graceEnd;
    std::uint64_t _next = 1;
    std::map<std::uint64_t, std::chrono::steady_clock::time_point> _sentAt;
    bench::Samples _latency;
    std::size_t _offlineEvents = 0;
    std::thread _thread;
};

} // namespace peerchat::stress
