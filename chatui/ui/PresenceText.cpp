#include "PresenceText.h"

namespace peerchat::chatui {

std::string PresenceText::ownState(const local::SelfEvent& status)
{
    std::string text(local::LocalProtocol::presenceStateName(status.state));
    // Away by itself says so: the user did not choose it, and the next key brings them back.
    if (status.away) text += " (idle)";
    if (!status.text.empty()) text += ": " + status.text;
    return text;
}

std::string PresenceText::ownLine(const std::string& self, const local::SelfEvent& status)
{
    return self + " \u00B7 " + ownState(status);
}

std::string PresenceText::typing(const std::string& peer) { return peer + " is typing..."; }

} // namespace peerchat::chatui
