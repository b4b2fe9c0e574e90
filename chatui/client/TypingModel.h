#pragma once

#include "LocalProtocol.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace peerchat::chatui {

/// Whether the peer of one conversation is typing to the user, from peerd's
/// typing events: from each notice until kShownFor after it, or until a line
/// from the peer arrives, whichever comes first. Notices are never stored or
/// resent, so one that stops coming simply runs out. State only: the caller
/// passes the time, so a test turns the clock by hand.
class TypingModel
{
public:
    using Clock = std::chrono::steady_clock;

    /// How long one notice shows: peerd forwards one at most every 3 s while
    /// the peer types, so a typist who keeps going never blinks out.
    static constexpr std::chrono::seconds kShownFor{5};

    explicit TypingModel(std::string peer) : _peer(std::move(peer)) {}

    const std::string& peer() const { return _peer; }

    /// A typing event for the peer shows it until now + kShownFor; a message
    /// from the peer (the line they were typing) ends it. Other events, and
    /// notices about other users, change nothing. True when what typing()
    /// says at now changed.
    bool apply(const local::Event& event, Clock::time_point now);

    /// True while the peer is shown typing at now.
    bool typing(Clock::time_point now) const { return _until && now < *_until; }

    /// When the peer stops being shown typing unless another notice comes,
    /// while they are shown at now; else nullopt.
    std::optional<Clock::time_point> endsAt(Clock::time_point now) const;

private:
    std::string _peer;
    /// The end of the last notice; nullopt once a line ended it (or none came).
    std::optional<Clock::time_point> _until;
};

} // namespace peerchat::chatui
