#include "PresenceText.h"

namespace peerchat::chatui {

std::string PresenceText::ownState(const local::SelfEvent& status)
{
    std::string text(presenceStateToken(status.state));
    // Away by itself says so: the user did not choose it, and the next key brings them back.
    if (status.away) text += " (idle)";
    if (!status.text.empty()) text += ": " + status.text;
    return text;
}

std::string PresenceText::ownLine(const std::string& self, const local::SelfEvent& status)
{
    return self + " \u00B7 " + ownState(status);
}

std::string PresenceText::mark(local::PresenceState state)
{
    switch (state) {
    case local::PresenceState::Online: return "+";
    case local::PresenceState::Away: return "~";
    case local::PresenceState::Busy: return "-";
    case local::PresenceState::Invisible: break;
    }
    return {};
}

std::string PresenceText::peerDetail(local::PresenceState state, const std::string& status)
{
    std::string text;
    if (state != local::PresenceState::Online) text = "(" + std::string(presenceStateToken(state)) + ")";
    if (!status.empty()) text += (text.empty() ? "" : " ") + status;
    return text;
}

std::string PresenceText::peerTag(bool contact, bool online, local::PresenceState state)
{
    if (online) return "(" + std::string(presenceStateToken(state)) + ")";
    return contact ? "(offline)" : "(not a contact)";
}

std::string PresenceText::reachNote(const std::string& peer, bool contact, bool online)
{
    if (online) return {};
    if (!contact) return peer + " is not a contact (presence hidden); lines go through indexd";
    return peer + " is offline; lines you send wait for them";
}

std::string PresenceText::typing(const std::string& peer) { return peer + " is typing..."; }

} // namespace peerchat::chatui
