#include "StatusText.h"

namespace peerchat::chatui {

std::string StatusText::linkProblem(const WindowHost& host)
{
    if (!host.connected()) return "peerd is unreachable (" + host.connectionProblem() + "); reconnecting...";
    const auto& roster = host.roster();
    if (!roster.welcomed()) return {};
    const std::string detail = roster.linkDetail().empty() ? "" : ": " + roster.linkDetail();
    switch (roster.linkState()) {
    case local::LinkState::Online: return {};
    case local::LinkState::Connecting: return "peerd is logging in to indexd" + detail;
    case local::LinkState::Refused: return "indexd refused the login" + detail;
    case local::LinkState::Stopping: return "peerd is stopping" + detail;
    }
    return {};
}

} // namespace peerchat::chatui
