#include "IndexSettings.h"

#include "DataPath.h"
#include "KeyFile.h"
#include "SettingsReader.h"

#include <charconv>

namespace peerchat {

namespace {

constexpr std::uint64_t kMebibyte = 1024 * 1024;
constexpr std::uint64_t kDayMs = 24 * 3600 * 1000;
// Bounds of the mailbox's limits: past these a setting is surely a typo.
constexpr std::uint64_t kMaxMailLines = 1000000;
constexpr std::uint64_t kMaxMailBytes = 1024 * 1024 * kMebibyte;

// Reads --turn HOST:PORT ("[2001:db8::1]:3478" for an IPv6 address) and
// --turn-secret-file into s: both or neither. The host is resolved and the
// file read when the service starts (TurnRelay::open).
void readTurn(SettingsReader& reader, IndexSettings& s)
{
    const std::string server = reader.text("indexd.turn", "");
    s.turnSecretFile = reader.text("indexd.turnSecretFile", "");
    if (!server.empty()) {
        const std::size_t colon = server.rfind(':');
        std::string host = colon == std::string::npos ? "" : server.substr(0, colon);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
        const char* end = server.data() + server.size();
        unsigned port = 0;
        const auto parsed = std::from_chars(colon == std::string::npos ? end : server.data() + colon + 1, end, port);
        if (host.empty() || parsed.ec != std::errc() || parsed.ptr != end || port < 1 || port > 65535)
            reader.fail("indexd.turn", "must be HOST:PORT with PORT 1..65535, such as turn.example.org:3478 or "
                                       "[2001:db8::1]:3478, got '" + server + "'");
        else {
            s.turnHost = host;
            s.turnPort = static_cast<std::uint16_t>(port);
        }
    }
    // Absolute, as --key: with --daemon indexd runs from /.
    if (!s.turnSecretFile.empty() && s.turnSecretFile.rfind('/', 0) != 0)
        reader.fail("indexd.turnSecretFile", "must be an absolute path, got '" + s.turnSecretFile + "'");
    if (server.empty() && !s.turnSecretFile.empty())
        reader.fail("indexd.turnSecretFile",
                    "needs --turn HOST:PORT, the TURN server its secret is for; give both or neither");
    if (!server.empty() && s.turnSecretFile.empty())
        reader.fail("indexd.turn", "needs --turn-secret-file FILE, the file holding the TURN server's "
                                   "static-auth-secret; give both or neither");
}

} // namespace

const std::vector<SettingKey>& IndexSettings::keys()
{
    static const std::vector<SettingKey> all{
        {"indexd.port", "port", "P", "UDP port for logins, logouts and presence (default 9400; 0 = any free port)"},
        {"indexd.bind", "bind", "ADDR", "numeric address every socket binds to (default 0.0.0.0)"},
        {"indexd.rosterPort", "roster-port", "P",
         "TCP port of the seed text roster, opened in legacy mode only (default 0 = any free port)"},
        {"indexd.dotnetRosterPort", "dotnet-roster-port", "P",
         "TCP port of the .NET (length-prefixed) roster, opened in legacy mode only (default 0 = any free port)"},
        {"indexd.maxRosterConnections", "max-roster-connections", "N",
         "roster connections served at once per port; when all are taken, one that has stalled (taken nothing for "
         "a while) is cut to make room, else new ones wait their turn (default 256)"},
        {"indexd.rosterPerAddress", "roster-per-address", "N",
         "roster connections served at once per port to one source address; more from it are refused (default 8)"},
        {"indexd.rosterDeadlineMs", "roster-deadline-ms", "MS",
         "a roster connection not finished after this many milliseconds is cut (default 3000)"},
        {"indexd.expireMs", "expire-ms", "MS",
         "a peerchat user not heard from (login or heartbeat) for this many milliseconds is logged out "
         "(default 40000: three missed heartbeats and some)"},
        {"indexd.database", "database", "FILE",
         "SQLite file of the offline mailbox and of the identity key each name belongs to, an absolute path or "
         ":memory: (default $XDG_DATA_HOME/peerchat/indexd.db, else ~/.local/share/peerchat/indexd.db)"},
        {"indexd.mailboxLimit", "mailbox-limit", "N",
         "offline lines held per recipient from all senders; more are refused with full (default 1000; 0 holds "
         "none)"},
        {"indexd.mailPairLines", "mail-pair-lines", "N",
         "offline lines held from one sender for one recipient (default 500)"},
        {"indexd.mailPairBytes", "mail-pair-bytes", "BYTES",
         "bytes of offline lines (sealed) held from one sender for one recipient (default 2097152 = 2 MiB)"},
        {"indexd.mailSenderLines", "mail-sender-lines", "N",
         "offline lines held from one sender for everyone (default 2000)"},
        {"indexd.mailSenderBytes", "mail-sender-bytes", "BYTES",
         "bytes of offline lines (sealed) held from one sender for everyone (default 8388608 = 8 MiB)"},
        {"indexd.mailboxBytes", "mailbox-bytes", "BYTES",
         "bytes of offline lines (sealed) held in all (default 268435456 = 256 MiB)"},
        {"indexd.mailExpireMs", "mail-expire-ms", "MS",
         "an offline line not delivered this many milliseconds after it was stored is removed; its sender still "
         "holds it (default 2592000000 = 30 days)"},
        {"indexd.redeliverMs", "redeliver-ms", "MS",
         "an offline line not acked after this many milliseconds is sent again (default 1000)"},
        {"indexd.key", "key", "FILE",
         "indexd's identity key, an absolute path, created with mode 0600 when missing (default "
         "$XDG_CONFIG_HOME/peerchat/indexd.key, else ~/.config/peerchat/indexd.key)"},
        {"indexd.legacy", "legacy", "true|false",
         "let seed and .NET clients log in without authentication, and open their roster ports (default false)",
         true},
        {"indexd.turn", "turn", "HOST:PORT",
         "the TURN relay (coturn with use-auth-secret) peerchat/3 users fall back to behind symmetric NATs; each is "
         "sent credentials for it after its login, valid 12 hours; HOST is resolved once, at start (default none: no "
         "relay; needs --turn-secret-file)"},
        {"indexd.turnSecretFile", "turn-secret-file", "FILE",
         "the file holding the relay's static-auth-secret (one line, an absolute path, mode 0600), which the "
         "credentials are made with (default none; needs --turn)"},
        {"indexd.loginRate", "login-rate", "N",
         "unauthenticated datagrams (hello, auth, seed logins, seals that do not open) taken per second from one "
         "address, twice that in a burst; more are dropped (default 20)"},
        {"indexd.rateTableSize", "rate-table-size", "N",
         "addresses (and identity keys) the rates are tracked for; when full, the longest idle is forgotten "
         "(default 65536)"},
        {"indexd.loginsPerMinute", "logins-per-minute", "N",
         "logins announced taken per minute from one identity key (seed and .NET logins: from one "
         "address), as many at once; more are refused with busy (default 6)"},
        {"indexd.legacyProofMs", "legacy-proof-ms", "MS",
         "a seed or .NET login waits this many milliseconds for a roster connection from its address, which puts it "
         "online; then it is forgotten (default 10000)"},
        {"indexd.faults", "faults", "SPEC",
         "misbehave on purpose, for tests: drop=RATE,dup=RATE,reorder=RATE,delay=MS,seed=N (default off)"},
        {"indexd.dropReportMs", "drop-report-ms", "MS",
         "datagrams dropped or refused and roster connections refused or cut are summed up in one warning this "
         "often, each one logged at debug level only (default 10000)"},
        {"indexd.logLevel", "log-level", "LEVEL",
         "none, fatal, critical, error, warning, notice, information, debug or trace (default information)"},
    };
    return all;
}

Parsed<IndexSettings> IndexSettings::read(const Poco::Util::AbstractConfiguration& config,
                                          const std::set<std::string>& flagKeys)
{
    SettingsReader reader(config, keys(), flagKeys);
    IndexSettings s;
    s.udpPort = reader.port("indexd.port", 9400);
    s.bind = reader.address("indexd.bind", "0.0.0.0");
    s.rosterPort = reader.port("indexd.rosterPort", 0);
    s.dotnetRosterPort = reader.port("indexd.dotnetRosterPort", 0);
    s.maxRosterConnections = reader.number("indexd.maxRosterConnections", 256, 1, 65536);
    s.rosterPerAddress = reader.number("indexd.rosterPerAddress", 8, 1, 65536);
    s.rosterDeadline = std::chrono::milliseconds(reader.number("indexd.rosterDeadlineMs", 3000, 100, 3600000));
    s.expireAfter = std::chrono::milliseconds(reader.number("indexd.expireMs", 40000, 100, 86400000));
    s.database = reader.text("indexd.database", DataPath::defaultFor("indexd.db"));
    // A daemon may run from any directory (--daemon changes to /), so a
    // relative path would name a different file from one run to the next.
    if (s.database != ":memory:" && s.database.rfind('/', 0) != 0)
        reader.fail("indexd.database", "must be an absolute path or :memory:, got '" + s.database + "'");
    s.mail.recipientLines = reader.number("indexd.mailboxLimit", 1000, 0, kMaxMailLines);
    s.mail.pairLines = reader.number("indexd.mailPairLines", 500, 0, kMaxMailLines);
    s.mail.pairBytes = reader.number("indexd.mailPairBytes", 2 * kMebibyte, 0, kMaxMailBytes);
    s.mail.senderLines = reader.number("indexd.mailSenderLines", 2000, 0, kMaxMailLines);
    s.mail.senderBytes = reader.number("indexd.mailSenderBytes", 8 * kMebibyte, 0, kMaxMailBytes);
    s.mail.totalBytes = reader.number("indexd.mailboxBytes", 256 * kMebibyte, 0, kMaxMailBytes);
    s.mailExpireAfter =
        std::chrono::milliseconds(reader.number("indexd.mailExpireMs", 30 * kDayMs, 100, 3650 * kDayMs));
    s.redeliverEvery = std::chrono::milliseconds(reader.number("indexd.redeliverMs", 1000, 10, 3600000));
    s.keyPath = reader.text("indexd.key", KeyFile::defaultPath("indexd.key"));
    if (s.keyPath.rfind('/', 0) != 0)
        reader.fail("indexd.key", "must be an absolute path, got '" + s.keyPath + "'");
    s.legacy = reader.flag("indexd.legacy", false);
    readTurn(reader, s);
    s.loginRate = reader.number("indexd.loginRate", 20, 1, 1000000);
    s.rateTableSize = reader.number("indexd.rateTableSize", 65536, 1, 16777216);
    s.loginsPerMinute = reader.number("indexd.loginsPerMinute", 6, 1, 1000000);
    s.legacyProof = std::chrono::milliseconds(reader.number("indexd.legacyProofMs", 10000, 10, 3600000));
    s.dropReportEvery = std::chrono::milliseconds(reader.number("indexd.dropReportMs", 10000, 10, 3600000));
    const std::string faults = reader.text("indexd.faults", "off");
    if (auto parsed = FaultSettings::parse(faults)) s.faults = *parsed;
    else reader.fail("indexd.faults", "must be off or a list such as drop=0.3,dup=0.1,seed=7, got '" + faults + "': "
                                          + parsed.error());
    s.logLevel = reader.logLevel("indexd.logLevel", "information");
    if (reader.error()) return Parsed<IndexSettings>::refuse(*reader.error());
    return s;
}

} // namespace peerchat
