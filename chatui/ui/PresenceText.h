#pragma once

#include "LocalProtocol.h"

#include <string>

namespace peerchat::chatui {

/// The words chatui uses about presence: the identity's own state and status
/// message, the same in every window, and the line that says a peer is
/// typing. Plain text; windows draw it.
class PresenceText
{
public:
    /// The own state, then the message when there is one: "away: back at 3",
    /// "busy", "away (idle)" while away by itself (peerd.autoAwayMinutes).
    static std::string ownState(const local::SelfEvent& status);
    /// Who the identity is and how others see it, for a window's header:
    /// "alice · away: back at 3".
    static std::string ownLine(const std::string& self, const local::SelfEvent& status);
    /// What a conversation shows while its peer is typing: "bob is typing...".
    static std::string typing(const std::string& peer);
};

} // namespace peerchat::chatui
