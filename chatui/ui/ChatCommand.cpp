#include "ChatCommand.h"

#include "Protocol.h"
#include "TextLayout.h"
#include "UserName.h"
#include "Utf8.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace peerchat::chatui {

namespace {

std::wstring trimmed(const std::wstring& text)
{
    const auto first = text.find_first_not_of(L' ');
    if (first == std::wstring::npos) return {};
    return text.substr(first, text.find_last_not_of(L' ') - first + 1);
}

/// The contact commands that take an optional NAME, by what they ask.
constexpr std::pair<const char*, local::ContactChange> kNameCommands[] = {
    {"/accept", local::ContactChange::Accept}, {"/decline", local::ContactChange::Decline},
    {"/remove", local::ContactChange::Remove}, {"/block", local::ContactChange::Block},
    {"/unblock", local::ContactChange::Unblock},
};

constexpr local::PresenceState kPresenceStates[] = {local::PresenceState::Online, local::PresenceState::Away,
                                                    local::PresenceState::Busy, local::PresenceState::Invisible};

/// The state named typed ("away", "Away"), or nullopt when it names none.
std::optional<local::PresenceState> presenceNamed(const std::wstring& typed)
{
    std::string name = TextLayout::narrow(typed);
    for (auto& c : name)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    for (const auto state : kPresenceStates)
        if (name == presenceStateToken(state)) return state;
    return std::nullopt;
}

/// /status for /help, the same in both windows.
std::vector<std::string> statusHelp()
{
    return {
        "/status STATE [message]   STATE: online, away, busy or invisible",
        "                  what others see of you, and a message (140 characters at most)",
    };
}

/// The contact commands for /help; NAME shown optional in a conversation, whose peer it defaults to.
std::vector<std::string> contactHelp(bool inConversation)
{
    const std::string name = inConversation ? "[NAME]" : "NAME";
    const auto padded = [](std::string command) {
        command.resize(std::max<std::size_t>(command.size() + 1, 18), ' ');
        return command;
    };
    std::vector<std::string> lines = {
        padded("/add NAME [note]") + "ask NAME to be a contact, with a note (spaces and all)",
        padded("/accept " + name) + "take NAME's request: you are contacts",
        padded("/decline " + name) + "turn NAME's request down",
        padded("/remove " + name) + "end the contact with NAME, or take back your request",
        padded("/block " + name) + "drop NAME's requests and lines from now on; NAME is not told",
        padded("/unblock " + name) + "take the block off",
    };
    if (inConversation) lines.push_back(padded("") + "without NAME: this conversation's peer");
    return lines;
}

} // namespace

Parsed<ChatCommand> ChatCommand::parse(const std::wstring& line)
{
    ChatCommand result;
    if (!isCommand(line)) {
        // "//text" sends "/text"; any other line goes as typed.
        const auto first = line.find_first_not_of(L' ');
        result.text = first != std::wstring::npos && line.compare(first, 2, L"//") == 0 ? line.substr(first + 1) : line;
        return result;
    }
    const std::wstring command = trimmed(line);

    const auto space = command.find(L' ');
    const std::string name = TextLayout::narrow(command.substr(0, space));
    const std::wstring argument = space == std::wstring::npos ? std::wstring() : trimmed(command.substr(space));
    const auto withoutArgument = [&](Kind kind) -> Parsed<ChatCommand> {
        if (!argument.empty()) return Parsed<ChatCommand>::refuse(name + " takes nothing after it");
        result.kind = kind;
        return result;
    };
    // Takes typed as the command's NAME; returns what to tell the person when it is not a user name.
    const auto takePeer = [&](const std::wstring& typed) -> std::string {
        result.peer = TextLayout::narrow(typed);
        const std::string why = UserName::check(result.peer);
        return why.empty() ? why : name + " NAME: '" + result.peer + "' is not a user name (" + why + ")";
    };
    const auto withPeer = [&](Kind kind) -> Parsed<ChatCommand> {
        result.kind = kind;
        if (argument.empty()) return result;
        if (auto why = takePeer(argument); !why.empty()) return Parsed<ChatCommand>::refuse(why);
        return result;
    };

    if (name == "/quit") return withoutArgument(Kind::Quit);
    if (name == "/help") return withoutArgument(Kind::Help);
    if (name == "/whoami") return withoutArgument(Kind::Whoami);
    if (name == "/verify") return withPeer(Kind::Verify);
    if (name == "/trust") return withPeer(Kind::Trust);
    if (name == "/search") {
        result.kind = Kind::Search;
        result.text = argument;
        return result;
    }
    if (name == "/add") {
        result.kind = Kind::Contact;
        result.change = local::ContactChange::Add;
        if (argument.empty())
            return Parsed<ChatCommand>::refuse("/add NAME [note]: say whom to ask, as in /add bob hi, it's me");
        // NAME is the first word; the note is the rest as typed, commas and all.
        const auto nameEnd = argument.find(L' ');
        if (auto why = takePeer(argument.substr(0, nameEnd)); !why.empty()) return Parsed<ChatCommand>::refuse(why);
        if (nameEnd != std::wstring::npos) result.text = trimmed(argument.substr(nameEnd));
        const std::size_t noteBytes = TextLayout::narrow(result.text).size();
        if (noteBytes > Protocol::kMaxNoteBytes)
            return Parsed<ChatCommand>::refuse("the note to " + result.peer + " is " + std::to_string(noteBytes) +
                                               " bytes; a note holds at most " +
                                               std::to_string(Protocol::kMaxNoteBytes));
        return result;
    }
    if (name == "/status") {
        result.kind = Kind::Status;
        const auto stateEnd = argument.find(L' ');
        const std::wstring state = argument.substr(0, stateEnd);
        if (state.empty())
            return Parsed<ChatCommand>::refuse(
                "/status STATE [message]: say which state (online, away, busy or invisible), as in /status away back at 3");
        const auto presence = presenceNamed(state);
        if (!presence)
            return Parsed<ChatCommand>::refuse("/status: '" + TextLayout::narrow(state) +
                                               "' is no state; say online, away, busy or invisible");
        result.presence = *presence;
        // The message is the rest as typed, commas and all.
        if (stateEnd != std::wstring::npos) result.text = trimmed(argument.substr(stateEnd));
        const std::size_t characters = Utf8::codePoints(TextLayout::narrow(result.text));
        if (characters > Protocol::kMaxStatusCharacters)
            return Parsed<ChatCommand>::refuse("the status message is " + std::to_string(characters) +
                                               " characters; it holds at most " +
                                               std::to_string(Protocol::kMaxStatusCharacters) + ". Nothing was set");
        return result;
    }
    for (const auto& [command, change] : kNameCommands) {
        if (name != command) continue;
        result.change = change;
        return withPeer(Kind::Contact);
    }
    return Parsed<ChatCommand>::refuse("unknown command " + name + "; /help lists the commands, // starts a line with /");
}

bool ChatCommand::isCommand(const std::wstring& line)
{
    const auto first = line.find_first_not_of(L' ');
    return first != std::wstring::npos && line[first] == L'/' && line.compare(first, 2, L"//") != 0;
}

local::ContactRequest ChatCommand::contactRequest(const std::string& to) const
{
    return local::ContactRequest{change, to, change == local::ContactChange::Add ? TextLayout::narrow(text) : ""};
}

local::StatusRequest ChatCommand::statusRequest() const { return local::StatusRequest{presence, TextLayout::narrow(text)}; }

std::vector<std::string> ChatCommand::help()
{
    std::vector<std::string> lines = {
        "Enter             send the line; //text sends /text",
        "/search TEXT      the earlier lines with TEXT; Esc or a bare /search goes back",
        "/whoami           your name and your key's fingerprint",
        "/verify [NAME]    fingerprints of NAME's key (default: this peer) to compare",
        "/trust [NAME]     accept NAME's new key, once you compared it with /verify",
    };
    for (auto& line : contactHelp(true)) lines.push_back(std::move(line));
    for (auto& line : statusHelp()) lines.push_back(std::move(line));
    lines.push_back("/help             this list; Esc closes it");
    lines.push_back("/quit, Ctrl-D     close the window (Esc: back to the roster); Ctrl-C quits");
    lines.push_back("PgUp/PgDn         scroll; Ctrl-U, Ctrl-K, Ctrl-W edit the line");
    return lines;
}

std::vector<std::string> ChatCommand::rosterHelp()
{
    std::vector<std::string> lines = {
        "j/k, Up/Down      move; PgUp/PgDn, g/G (Home/End) by a page, to either end",
        "Enter             open the conversation with the selected user",
        "/                 type a command; Enter runs it, Esc drops it",
        "i, /whoami        your name and your key's fingerprint",
    };
    for (auto& line : contactHelp(false)) lines.push_back(std::move(line));
    for (auto& line : statusHelp()) lines.push_back(std::move(line));
    lines.push_back("/help             this list; Esc closes it");
    lines.push_back("q, /quit          quit chatui");
    return lines;
}

} // namespace peerchat::chatui
