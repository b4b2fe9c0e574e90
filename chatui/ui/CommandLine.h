#pragma once

#include "Parsed.h"

#include <string>
#include <vector>

namespace peerchat::chatui {

/// What chatui was asked to do: `chatui [--user NAME | --socket PATH] [PEER]`.
struct Options
{
    std::string user;       ///< whose peerd; empty when only --socket was given
    std::string socketPath; ///< where peerd listens (the user's default when not given)
    std::string peer;       ///< open this conversation; empty opens the roster
    bool help = false;
};

/// Parses chatui's command line; errors say what is wrong and what to pass.
class CommandLine
{
public:
    /// args without the program name; envUser is $USER (may be null).
    static Parsed<Options> parse(const std::vector<std::string>& args, const char* envUser);

    /// The --help text.
    static std::string usage();
};

} // namespace peerchat::chatui
