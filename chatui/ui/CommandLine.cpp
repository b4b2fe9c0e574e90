#include "CommandLine.h"

#include "LocalSocketPath.h"
#include "UserName.h"

namespace peerchat::chatui {

namespace {

/// The value of flag given as "--flag=value" or "--flag value"; false when
/// args[i] is another argument. A missing value comes back empty.
bool takeValue(const std::vector<std::string>& args, std::size_t& i, const std::string& flag, std::string& value)
{
    const std::string& arg = args[i];
    if (arg.size() > flag.size() && arg.compare(0, flag.size() + 1, flag + "=") == 0) {
        value = arg.substr(flag.size() + 1);
        return true;
    }
    if (arg != flag) return false;
    if (i + 1 >= args.size()) {
        value.clear();
        return true;
    }
    value = args[++i];
    return true;
}

} // namespace

Parsed<Options> CommandLine::parse(const std::vector<std::string>& args, const char* envUser)
{
    Options options;
    bool userGiven = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        std::string value;
        if (arg == "--help" || arg == "-h") {
            options.help = true;
        } else if (takeValue(args, i, "--user", value)) {
            if (auto why = UserName::check(value); !why.empty())
                return Parsed<Options>::refuse("--user '" + value + "': " + why);
            options.user = value;
            userGiven = true;
        } else if (takeValue(args, i, "--socket", value)) {
            if (value.empty()) return Parsed<Options>::refuse("--socket needs a path");
            options.socketPath = value;
        } else if (arg.size() > 1 && arg[0] == '-') {
            return Parsed<Options>::refuse("unknown option " + arg);
        } else if (options.peer.empty()) {
            if (auto why = UserName::check(arg); !why.empty())
                return Parsed<Options>::refuse("PEER '" + arg + "': " + why);
            options.peer = arg;
        } else {
            return Parsed<Options>::refuse("one PEER at most ('" + options.peer + "' and '" + arg + "')");
        }
    }
    if (options.help) return options;

    if (!userGiven && options.socketPath.empty()) {
        const std::string fromEnv = envUser ? envUser : "";
        if (!UserName::isValid(fromEnv))
            return Parsed<Options>::refuse("whose peerd? $USER is " + (fromEnv.empty() ? "not set" : "'" + fromEnv + "'")
                                           + ", not a peerchat name; pass --user NAME or --socket PATH");
        options.user = fromEnv;
    }
    if (options.socketPath.empty()) options.socketPath = LocalSocketPath::defaultFor(options.user);
    return options;
}

std::string CommandLine::usage()
{
    return "usage: chatui [--user NAME | --socket PATH] [PEER]\n"
           "\n"
           "Attaches to the peerd of NAME (default: $USER) on its local socket.\n"
           "Without PEER it shows the roster: who is online and who wrote to you;\n"
           "with PEER it opens the conversation with PEER.\n"
           "\n"
           "  --user NAME    the identity whose peerd to attach to (its default socket)\n"
           "  --socket PATH  peerd's local socket, when peerd was started with --socket\n"
           "  -h, --help     this text\n"
           "\n"
           "Roster: Up/Down or j/k move, Enter opens a conversation, i shows your\n"
           "key's fingerprint, q quits.\n"
           "Conversation: Enter sends, PgUp/PgDn scroll, /search TEXT finds earlier\n"
           "lines (Esc or /search goes back), Esc goes back to the roster, /quit,\n"
           "Ctrl-D or Ctrl-C close. /whoami shows your key's fingerprint, /verify NAME\n"
           "the fingerprints to compare with NAME, /trust NAME accepts NAME's changed\n"
           "key, /help lists every command. Your lines are marked \u22EF pending,\n"
           "\u21E1 stored, \u2713 delivered, ! not yet delivered (will retry); ? marks a\n"
           "line nobody signed (a seed client's). See docs/CHATUI.md.\n";
}

} // namespace peerchat::chatui
