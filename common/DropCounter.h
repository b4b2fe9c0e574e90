#pragma once

#include "Endpoint.h"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace peerchat {

/// Why a daemon dropped, or refused, a datagram (or a connection) that came
/// from outside.
enum class DropReason : std::uint8_t
{
    Oversize,     ///< larger than Protocol::kMaxDatagramBytes
    Malformed,    ///< does not decode
    RateLimited,  ///< over its source address's rate limit
    Stranger,     ///< from a source this daemon expects nothing from
    Unauthentic,  ///< a signature, seal or key that does not check out, or a replay
    Unexpected,   ///< well formed, but not taken here or not now
    Refused,      ///< answered with a refusal
    Slow,         ///< a connection cut because it took what it was sent too slowly
    Failed,       ///< not handled for a fault of the daemon's own (its database failed: a full disk)
};

/// Counts the datagrams (or connections) a daemon drops, by reason, so that
/// a flood of bad datagrams costs a counter each and one log line per
/// interval rather than a log line each: the daemon logs takeSummary() from a
/// timer and logs each drop at debug level only. Per reason it keeps the
/// first drop of the interval (its source and what was wrong) as an example
/// for the summary. State only: no clock, no logger.
class DropCounter
{
public:
    /// How many reasons there are.
    static constexpr std::size_t kReasons = static_cast<std::size_t>(DropReason::Failed) + 1;

    /// unit is what is counted, as the summary names one ("datagram",
    /// "connection"); the summary adds an s for more than one.
    explicit DropCounter(std::string unit = "datagram");

    /// The reason as a summary names it ("malformed", "rate-limited").
    static std::string_view name(DropReason reason);

    /// Counts one drop from source; detail says what was wrong and is kept
    /// only when this is the first drop for reason in this interval.
    void count(DropReason reason, const Endpoint& source, std::string_view detail);

    /// True when a count() for reason now would keep its detail, so a caller
    /// can skip building a detail nobody reads.
    bool wantsDetail(DropReason reason) const { return _interval[index(reason)] == 0; }

    /// The drops of the interval that ends now, as one line for a person,
    /// and starts a new interval; empty when nothing was dropped. Example:
    /// "dropped 2041 datagrams in the last 10000 ms: 2000 malformed (first
    /// from 192.0.2.1:5000: unknown verb 'x'), 41 rate-limited (first from
    /// 192.0.2.9:7: ...)".
    std::string takeSummary(std::chrono::milliseconds interval);

    /// Drops counted for reason since construction.
    std::uint64_t total(DropReason reason) const { return _total[index(reason)]; }
    /// Drops counted since construction.
    std::uint64_t total() const;

private:
    struct Example
    {
        std::string source;
        std::string detail;
    };

    static std::size_t index(DropReason reason) { return static_cast<std::size_t>(reason); }

    std::string _unit;
    std::array<std::uint64_t, kReasons> _interval{};
    std::array<std::uint64_t, kReasons> _total{};
    std::array<Example, kReasons> _examples{};
};

} // namespace peerchat
