#include "PathText.h"

namespace peerchat::chatui {

std::string PathText::tag(local::Path path)
{
    switch (path) {
    case local::Path::Lan: return "[lan]";
    case local::Path::Direct: return "[direct]";
    case local::Path::Relay: return "[relayed]";
    case local::Path::None: break;
    }
    return {};
}

std::vector<std::string> PathText::help()
{
    return {
        tag(local::Path::Lan) + ", " + tag(local::Path::Direct) + ", " + tag(local::Path::Relay) +
            ": how your lines reach the peer: on your local network, straight through the internet, or "
            "through a relay server (still end-to-end encrypted); no tag: no path found yet",
    };
}

} // namespace peerchat::chatui
