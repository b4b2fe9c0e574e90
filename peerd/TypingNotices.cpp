#include "TypingNotices.h"

namespace peerchat {

bool TypingNotices::due(Times& times, const std::string& peer, TimePoint now, std::chrono::seconds every)
{
    const auto it = times.find(peer);
    if (it != times.end() && now - it->second < every) return false;
    // Whoever is older than every decides nothing any more.
    if (it == times.end() && times.size() >= kMostRemembered) {
        for (auto old = times.begin(); old != times.end();) old = now - old->second >= every ? times.erase(old) : std::next(old);
    }
    times[peer] = now;
    return true;
}

} // namespace peerchat
