#include "PeerSettings.h"

#include "Base64.h"
#include "DataPath.h"
#include "KeyFile.h"
#include "LocalSocketPath.h"
#include "SettingsReader.h"
#include "UserName.h"

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>

namespace peerchat {

namespace {

// The user to chat as: required, and a name indexd will take.
std::string readUser(SettingsReader& reader, const std::string& key)
{
    const std::string name = reader.text(key, "");
    if (name.empty()) {
        reader.fail(key, "is required: the name to chat as, e.g. --user alice");
    } else if (const std::string why = UserName::check(name); !why.empty()) {
        reader.fail(key, "'" + name + "' is not a usable name: " + why +
                             " (1-32 bytes of UTF-8, no spaces, no , ; : and no control characters)");
    }
    return name;
}

// indexd's HOST:PORT, the host resolved, the port not 0.
Endpoint readIndex(SettingsReader& reader, const std::string& key, const std::string& defaultValue)
{
    const std::string value = reader.text(key, defaultValue);
    try {
        const Poco::Net::SocketAddress address(value);
        if (address.port() != 0) return Endpoint(address);
    } catch (const Poco::Exception& e) {
        reader.fail(key, "must be indexd's HOST:PORT such as 127.0.0.1:9400, got '" + value + "': " + e.displayText());
        return Endpoint();
    }
    reader.fail(key, "must be indexd's HOST:PORT with a port 1..65535, got '" + value + "'");
    return Endpoint();
}

// indexd's identity key as base64url (indexd prints it as identity= in its
// ready line), or nullopt when not set: peerd then pins the key indexd first shows.
std::optional<PublicKey> readIndexKey(SettingsReader& reader, const std::string& key)
{
    const std::string value = reader.text(key, "");
    if (value.empty()) return std::nullopt;
    PublicKey indexKey{};
    if (!Base64::decodeInto(value, indexKey)) {
        reader.fail(key, "must be indexd's public key: 43 characters of base64url (A-Z a-z 0-9 - _) that decode "
                         "to 32 bytes, as indexd logs it (identity=...) at start; got '" + value + "'");
        return std::nullopt;
    }
    return indexKey;
}

} // namespace

const std::vector<SettingKey>& PeerSettings::keys()
{
    static const std::vector<SettingKey> all{
        {"peerd.user", "user", "NAME", "the name to chat as (required): 1-32 bytes of UTF-8 without spaces, commas, semicolons or colons"},
        {"peerd.index", "index", "HOST:PORT", "indexd's UDP address; a host name is resolved (default 127.0.0.1:9400)"},
        {"peerd.port", "port", "P", "UDP port for logins and chat (default 0 = any free port)"},
        {"peerd.bind", "bind", "ADDR", "numeric address the UDP socket binds to (default 0.0.0.0)"},
        {"peerd.socket", "socket", "PATH",
         "the local socket UIs attach to (default $XDG_RUNTIME_DIR/peerchat/NAME.sock, else "
         "/tmp/peerchat-UID/NAME.sock)"},
        {"peerd.database", "database", "PATH",
         "the SQLite file keeping the conversations, unread marks and outbox (default "
         "$XDG_DATA_HOME/peerchat/NAME.db, else ~/.local/share/peerchat/NAME.db)"},
        {"peerd.key", "key", "FILE",
         "the identity key file, created (mode 0600) on first run; peerd will not start when others can read it "
         "(default $XDG_CONFIG_HOME/peerchat/NAME.key, else ~/.config/peerchat/NAME.key)"},
        {"peerd.indexKey", "index-key", "BASE64",
         "indexd's public key (indexd logs it as identity=... when ready); without it peerd pins the key indexd "
         "first shows (default unset)"},
        {"peerd.legacy", "legacy", "BOOL",
         "also talk to seed and .NET clients in their plain, unauthenticated protocol (default false)", true},
        {"peerd.strangers", "strangers", "HOLD|REFUSE",
         "lines from users who are not contacts: hold (kept and listed apart, under Requests) or refuse (dropped "
         "unseen, the sender not told) (default hold)"},
        {"peerd.typing", "typing", "BOOL",
         "tell the peer of a conversation that you are typing in it, at most once every 3 s (default true)", true},
        {"peerd.autoAwayMinutes", "auto-away-minutes", "N",
         "show away after N minutes in which no window of this identity was used, until one is (default 0 = never)"},
        {"peerd.historyLimit", "history-limit", "N", "lines kept per conversation, oldest dropped first, but none still waiting for its ack (default 10000)"},
        {"peerd.loginRetryMs", "login-retry-ms", "MS",
         "milliseconds between logins until indexd answers (default 2000)"},
        {"peerd.heartbeatMs", "heartbeat-ms", "MS",
         "milliseconds between heartbeats to indexd, give or take 10 %; an unanswered one goes again after a "
         "quarter of that (twice at most); three intervals without an answer mean log in again (default 10000)"},
        {"peerd.retransmitMs", "retransmit-ms", "MS",
         "milliseconds before an unacked line goes out again, doubling up to 8000 (default 300)"},
        {"peerd.giveUpMs", "give-up-ms", "MS",
         "milliseconds without an ack before a line shows failed; it stays queued and is retried (default 60000)"},
        {"peerd.dropReportMs", "drop-report-ms", "MS",
         "milliseconds between the summary lines of dropped datagrams (each one is logged at debug level only) "
         "(default 10000)"},
        {"peerd.faults", "faults", "SPEC",
         "for tests only: drop, duplicate, delay and reorder outgoing datagrams, e.g. "
         "drop=0.3,dup=0.1,reorder=0.1,delay=5,seed=1 (default off)"},
        {"peerd.logLevel", "log-level", "LEVEL",
         "none, fatal, critical, error, warning, notice, information, debug or trace (default information)"},
    };
    return all;
}

Parsed<PeerSettings> PeerSettings::read(const Poco::Util::AbstractConfiguration& config,
                                        const std::set<std::string>& flagKeys)
{
    SettingsReader reader(config, keys(), flagKeys);
    PeerSettings s;
    s.user = readUser(reader, "peerd.user");
    s.index = readIndex(reader, "peerd.index", "127.0.0.1:9400");
    const std::uint16_t port = reader.port("peerd.port", 0);
    const Poco::Net::IPAddress bind = reader.address("peerd.bind", "0.0.0.0");
    s.bind = Poco::Net::SocketAddress(bind, port);
    s.socketPath = reader.text("peerd.socket", s.user.empty() ? "" : LocalSocketPath::defaultFor(s.user));
    if (s.socketPath.empty()) reader.fail("peerd.socket", "must be a path, e.g. /tmp/alice.sock");
    s.database = reader.text("peerd.database", s.user.empty() ? "" : DataPath::defaultFor(s.user + ".db"));
    if (s.database.empty()) reader.fail("peerd.database", "must be a path, e.g. /tmp/alice.db");
    s.keyFile = reader.text("peerd.key", s.user.empty() ? "" : KeyFile::defaultPath(s.user + ".key"));
    if (s.keyFile.empty()) reader.fail("peerd.key", "must be a path, e.g. /home/alice/.config/peerchat/alice.key");
    s.indexKey = readIndexKey(reader, "peerd.indexKey");
    s.legacy = reader.flag("peerd.legacy", false);
    const std::string strangers = reader.text("peerd.strangers", "hold");
    if (strangers == "refuse") {
        s.strangers = Contacts::Strangers::Refuse;
    } else if (strangers != "hold") {
        reader.fail("peerd.strangers", "must be hold or refuse, got '" + strangers + "'");
    }
    s.sendTyping = reader.flag("peerd.typing", true);
    s.autoAway = std::chrono::minutes(reader.number("peerd.autoAwayMinutes", 0, 0, 10080));
    s.historyLimit = reader.number("peerd.historyLimit", 10000, 1, 10000000);
    s.loginRetry = std::chrono::milliseconds(reader.number("peerd.loginRetryMs", 2000, 10, 3600000));
    s.heartbeat = std::chrono::milliseconds(reader.number("peerd.heartbeatMs", 10000, 10, 3600000));
    s.retransmit = std::chrono::milliseconds(reader.number("peerd.retransmitMs", 300, 1, 60000));
    s.giveUp = std::chrono::milliseconds(reader.number("peerd.giveUpMs", 60000, 10, 86400000));
    s.dropReport = std::chrono::milliseconds(reader.number("peerd.dropReportMs", 10000, 10, 86400000));
    const std::string faults = reader.text("peerd.faults", "off");
    if (const Parsed<FaultSettings> parsed = FaultSettings::parse(faults)) {
        s.faults = *parsed;
    } else {
        reader.fail("peerd.faults", "must be off or a fault list, got '" + faults + "': " + parsed.error());
    }
    s.logLevel = reader.logLevel("peerd.logLevel", "information");
    if (!reader.error() && bind.family() != s.index.host().family()) {
        reader.fail("peerd.bind", "'" + bind.toString() + "' cannot reach indexd at " + s.index.toString() +
                                      " (one is IPv4, the other IPv6); bind to an address of indexd's family");
    }
    if (reader.error()) return Parsed<PeerSettings>::refuse(*reader.error());
    return s;
}

} // namespace peerchat
