#include "ChatCommand.h"

#include "TextLayout.h"
#include "UserName.h"

namespace peerchat::chatui {

namespace {

std::wstring trimmed(const std::wstring& text)
{
    const auto first = text.find_first_not_of(L' ');
    if (first == std::wstring::npos) return {};
    return text.substr(first, text.find_last_not_of(L' ') - first + 1);
}

} // namespace

Parsed<ChatCommand> ChatCommand::parse(const std::wstring& line)
{
    const std::wstring command = trimmed(line);
    ChatCommand result;
    if (command.empty() || command[0] != L'/') {
        result.text = line;
        return result;
    }
    if (command.compare(0, 2, L"//") == 0) {
        result.text = line.substr(line.find(L'/') + 1);
        return result;
    }

    const auto space = command.find(L' ');
    const std::string name = TextLayout::narrow(command.substr(0, space));
    const std::wstring argument = space == std::wstring::npos ? std::wstring() : trimmed(command.substr(space));
    const auto withoutArgument = [&](Kind kind) -> Parsed<ChatCommand> {
        if (!argument.empty()) return Parsed<ChatCommand>::refuse(name + " takes nothing after it");
        result.kind = kind;
        return result;
    };
    const auto withPeer = [&](Kind kind) -> Parsed<ChatCommand> {
        result.kind = kind;
        result.peer = TextLayout::narrow(argument);
        if (result.peer.empty()) return result;
        if (auto why = UserName::check(result.peer); !why.empty())
            return Parsed<ChatCommand>::refuse(name + " NAME: '" + result.peer + "' is not a user name (" + why + ")");
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
    return Parsed<ChatCommand>::refuse("unknown command " + name + "; /help lists the commands, // starts a line with /");
}

std::vector<std::string> ChatCommand::help()
{
    return {
        "Enter           send the line; //text sends /text",
        "/search TEXT    the earlier lines with TEXT; Esc or a bare /search goes back",
        "/whoami         your name and your key's fingerprint",
        "/verify [NAME]  fingerprints of NAME's key (default: this peer) to compare",
        "/trust [NAME]   accept NAME's new key, once you compared it with /verify",
        "/help           this list; Esc closes it",
        "/quit, Ctrl-D   close the window (Esc: back to the roster); Ctrl-C quits",
        "PgUp/PgDn       scroll; Ctrl-U, Ctrl-K, Ctrl-W edit the line",
    };
}

} // namespace peerchat::chatui
