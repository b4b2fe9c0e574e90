#pragma once

#include "LocalProtocol.h"
#include "Parsed.h"

#include <string>
#include <vector>

namespace peerchat::chatui {

/// A line typed in a window's input, read: a line to send or one of the
/// slash commands. The parse and the /help lists live together so the two
/// cannot drift apart.
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
        Trust,  ///< /trust [NAME]: likewise
        Contact, ///< /add NAME [NOTE], /accept, /decline, /remove, /block, /unblock [NAME]: change says which
        Status   ///< /status STATE [MESSAGE]: presence is STATE, text the message (empty: none)
    };

    Kind kind = Kind::Send;
    /// Send: the line as typed ("//text" sends "/text"); Search: what to look
    /// for, trimmed; Contact (/add): the note, trimmed, empty when none;
    /// Status: the status message, trimmed, empty when none.
    std::wstring text;
    /// Verify, Trust, Contact: the name given, a valid user name; empty when
    /// none was (never for /add).
    std::string peer;
    /// Contact: which contact request the command makes.
    local::ContactChange change = local::ContactChange::Add;
    /// Status: the state to show others.
    local::PresenceState presence = local::PresenceState::Online;

    /// Reads a line as typed (not blank). Refuses unknown commands, arguments
    /// to commands that take none, invalid names, /add without a name, a
    /// note too long, /status without a state or with an unknown one, and a
    /// status message too long, saying what to type.
    static Parsed<ChatCommand> parse(const std::wstring& line);

    /// True when parse() reads line as a command rather than a line to send:
    /// it starts with / (after spaces), but not with //.
    static bool isCommand(const std::wstring& line);

    /// The request a Contact command makes about to (the name given, or the
    /// window's peer when none was).
    local::ContactRequest contactRequest(const std::string& to) const;
    /// The request a Status command makes.
    local::StatusRequest statusRequest() const;

    /// Every command and key of a conversation and what it does, one per line, for /help.
    static std::vector<std::string> help();
    /// Every command and key of the roster, for its /help.
    static std::vector<std::string> rosterHelp();
};

} // namespace peerchat::chatui
