#pragma once

#include "LocalProtocol.h"

#include <string>

namespace peerchat::chatui {

/// The words chatui uses about presence: the identity's own state and status
/// message, the same in every window, how a contact online shows itself in
/// the roster, and the line that says a peer is typing. Plain text; windows
/// draw it.
class PresenceText
{
public:
    /// The own state, then the message when there is one: "away: back at 3",
    /// "busy", "away (idle)" while away by itself (peerd.autoAwayMinutes).
    static std::string ownState(const local::SelfEvent& status);
    /// Who the identity is and how others see it, for a window's header:
    /// "alice · away: back at 3".
    static std::string ownLine(const std::string& self, const local::SelfEvent& status);
    /// The one-column mark of a contact's state in the roster: "+" online,
    /// "~" away, "-" busy ("" for invisible, which no other user shows).
    static std::string mark(local::PresenceState state);
    /// What a contact's row says of it after its name: the state unless
    /// online, then the status message: "(away) back at 3", "(busy)",
    /// "back at 3", "" for a contact online without a message.
    static std::string peerDetail(local::PresenceState state, const std::string& status);
    /// How a conversation's header tells its peer's presence: "(online)",
    /// "(away)" or "(busy)" while online; "(offline)" for a contact who is
    /// not, "(not a contact)" for anyone else, whose presence indexd never
    /// tells (only seed and .NET users in legacy mode are seen online
    /// without being contacts).
    static std::string peerTag(bool contact, bool online, local::PresenceState state);
    /// The standing note under a conversation whose peer is not online,
    /// saying where lines go: "bob is offline; lines you send wait for
    /// them", or for a non-contact "bob is not a contact (presence hidden);
    /// lines go through indexd"; "" while the peer is online.
    static std::string reachNote(const std::string& peer, bool contact, bool online);
    /// What a conversation shows while its peer is typing: "bob is typing...".
    static std::string typing(const std::string& peer);
};

} // namespace peerchat::chatui
