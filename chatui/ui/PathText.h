#pragma once

#include "LocalProtocol.h"

#include <string>
#include <vector>

namespace peerchat::chatui {

/// The words chatui uses about how lines reach a peer: the tag by a name in
/// the roster and a conversation's header, and what the tags mean.
class PathText
{
public:
    /// "[lan]", "[direct]", "[relayed]"; nothing while no path is known.
    static std::string tag(local::Path path);
    /// What the tags mean, for /help.
    static std::vector<std::string> help();
};

} // namespace peerchat::chatui
