#pragma once

#include "Parsed.h"

#include <string>
#include <vector>

namespace peerchat::chatui {

/// A line typed in a conversation's input, read: a line to send or one of
/// the slash commands. The parse and the /help list live together so the
/// two cannot drift apart.
struct ChatCommand
{
    enum class Kind
    {
        Send,   ///< text is the line to send
        Quit,   ///< /quit
        Search, ///< /search [TEXT]: text is what to look for (empty: back to the conversation)
        Help,   ///< /help
        Whoami, ///< /whoami
        Verify, ///< /verify [NAME]: peer is NAME (empty: the conversation's peer)
        Trust   ///< /trust [NAME]: likewise
    };

    Kind kind = Kind::Send;
    /// Send: the line as typed ("//text" sends "/text"); Search: what to look for, trimmed.
    std::wstring text;
    /// Verify, Trust: the name given, a valid user name; empty when none was.
    std::string peer;

    /// Reads a line as typed (not blank). Refuses unknown commands, arguments
    /// to commands that take none and invalid names, saying what to type.
    static Parsed<ChatCommand> parse(const std::wstring& line);

    /// Every command and key of a conversation and what it does, one per line, for /help.
    static std::vector<std::string> help();
};

} // namespace peerchat::chatui
