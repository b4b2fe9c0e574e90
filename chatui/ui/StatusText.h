#pragma once

#include "WindowHost.h"

#include <string>

namespace peerchat::chatui {

/// The words every window's status line uses for the state of peerd and of
/// its link to indexd.
class StatusText
{
public:
    /// What is wrong with peerd or its link to indexd, for a person; empty
    /// when peerd is reachable and online.
    static std::string linkProblem(const WindowHost& host);
};

} // namespace peerchat::chatui
