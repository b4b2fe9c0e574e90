#pragma once

#include "Timers.h"

#include <chrono>
#include <map>
#include <string>

namespace peerchat {

/// The pace of typing notices ("bob is typing"), both ways: the user's
/// typing to a peer goes out at most once per kSendEvery, however often the
/// UIs report it (several windows may, on every key), and a peer's notices
/// reach the UIs at most once per kShowEvery, however often the peer sends
/// them. Nothing is stored; a notice is worth something only for a few
/// seconds. State only: the time is the caller's.
class TypingNotices
{
public:
    using TimePoint = Timers::TimePoint;

    /// The least time between two notices to one peer.
    static constexpr std::chrono::seconds kSendEvery{3};
    /// The least time between two notices from one peer the UIs hear of.
    static constexpr std::chrono::seconds kShowEvery{1};
    /// Peers remembered each way before the stale ones are forgotten.
    static constexpr std::size_t kMostRemembered = 1024;

    /// The user types to peer at now: true when a notice should go.
    bool typing(const std::string& peer, TimePoint now) { return due(_sent, peer, now, kSendEvery); }
    /// The user sent peer a line, which ends "typing" at the peer: the next
    /// notice to peer may go at once.
    void lineSent(const std::string& peer) { _sent.erase(peer); }
    /// A notice came from peer at now: true when the UIs should hear of it.
    bool noticed(const std::string& peer, TimePoint now) { return due(_shown, peer, now, kShowEvery); }

private:
    using Times = std::map<std::string, TimePoint>;

    /// True (and peer's time becomes now) when peer's last time in times is
    /// at least every ago, or it has none.
    static bool due(Times& times, const std::string& peer, TimePoint now, std::chrono::seconds every);

    Times _sent;
    Times _shown;
};

} // namespace peerchat
