#pragma once

#include <chrono>
#include <optional>

namespace peerchat::chatui {

/// Paces the typing requests of one window: at most one every kEvery,
/// however fast the user types. peerd paces what goes to the peer (one
/// notice every 3 s) and would take a request per key, but a request per key
/// is a write on the socket and a wake of peerd per key for nothing. State
/// only: the caller passes the time.
class TypingPacer
{
public:
    using Clock = std::chrono::steady_clock;

    static constexpr std::chrono::seconds kEvery{1};

    /// A key changed the text being typed at now: true when a typing request
    /// is to go now (then the next may go kEvery later).
    bool due(Clock::time_point now);

private:
    std::optional<Clock::time_point> _lastSent;
};

} // namespace peerchat::chatui
