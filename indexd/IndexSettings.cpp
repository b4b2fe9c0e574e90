#include "IndexSettings.h"

#include "SettingsReader.h"

namespace peerchat {

const std::vector<SettingKey>& IndexSettings::keys()
{
    static const std::vector<SettingKey> all{
        {"indexd.port", "port", "P", "UDP port for logins, logouts and presence (default 9400; 0 = any free port)"},
        {"indexd.bind", "bind", "ADDR", "numeric address every socket binds to (default 0.0.0.0)"},
        {"indexd.rosterPort", "roster-port", "P", "TCP port of the seed text roster (default 0 = any free port)"},
        {"indexd.dotnetRosterPort", "dotnet-roster-port", "P",
         "TCP port of the .NET (length-prefixed) roster (default 0 = any free port)"},
        {"indexd.peerchatRosterPort", "peerchat-roster-port", "P",
         "TCP port of the peerchat roster with dialects (default 0 = any free port)"},
        {"indexd.maxRosterConnections", "max-roster-connections", "N",
         "roster connections served at once per port; more wait their turn (default 256)"},
        {"indexd.rosterDeadlineMs", "roster-deadline-ms", "MS",
         "a roster connection not finished after this many milliseconds is closed (default 10000)"},
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
    s.peerchatRosterPort = reader.port("indexd.peerchatRosterPort", 0);
    s.maxRosterConnections = reader.number("indexd.maxRosterConnections", 256, 1, 65536);
    s.rosterDeadline = std::chrono::milliseconds(reader.number("indexd.rosterDeadlineMs", 10000, 100, 3600000));
    s.logLevel = reader.logLevel("indexd.logLevel", "information");
    if (reader.error()) return Parsed<IndexSettings>::refuse(*reader.error());
    return s;
}

} // namespace peerchat
