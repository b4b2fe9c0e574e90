#include "IndexSettings.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <charconv>
#include <optional>

namespace peerchat {

namespace {

// Reads keys of one configuration and remembers the first thing wrong, named
// the way the person wrote it.
class Reader
{
public:
    Reader(const Poco::Util::AbstractConfiguration& config, const std::set<std::string>& flagKeys)
        : _config(config), _flagKeys(flagKeys)
    {
    }

    std::uint64_t number(const std::string& key, std::uint64_t defaultValue, std::uint64_t min, std::uint64_t max)
    {
        const std::string text = _config.getRawString(key, std::to_string(defaultValue));
        std::uint64_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
            fail(key, "must be " + std::to_string(min) + ".." + std::to_string(max) + ", got '" + text + "'");
            return defaultValue;
        }
        return value;
    }

    std::uint16_t port(const std::string& key, std::uint16_t defaultValue)
    {
        return static_cast<std::uint16_t>(number(key, defaultValue, 0, 65535));
    }

    Poco::Net::IPAddress address(const std::string& key, const std::string& defaultValue)
    {
        const std::string text = _config.getRawString(key, defaultValue);
        Poco::Net::IPAddress address;
        if (!Poco::Net::IPAddress::tryParse(text, address) || text.find('%') != std::string::npos) {
            fail(key, "must be a numeric IP address such as 127.0.0.1, 0.0.0.0 or ::, got '" + text + "'");
        }
        return address;
    }

    int logLevel(const std::string& key, const std::string& defaultValue)
    {
        const std::string text = _config.getRawString(key, defaultValue);
        try {
            return Poco::Logger::parseLevel(text);
        } catch (const Poco::Exception&) {
            fail(key, "must be one of none, fatal, critical, error, warning, notice, information, debug, trace; got '"
                          + text + "'");
            return Poco::Message::PRIO_INFORMATION;
        }
    }

    const std::optional<std::string>& error() const { return _error; }

private:
    void fail(const std::string& key, const std::string& what)
    {
        if (_error) return;
        _error = nameOf(key) + " " + what;
    }

    std::string nameOf(const std::string& key) const
    {
        if (_flagKeys.count(key) == 0) return key;
        for (const auto& k : IndexSettings::keys()) {
            if (k.key == key) return "--" + k.flag;
        }
        return key;
    }

    const Poco::Util::AbstractConfiguration& _config;
    const std::set<std::string>& _flagKeys;
    std::optional<std::string> _error;
};

} // namespace

const std::vector<IndexSettings::Key>& IndexSettings::keys()
{
    static const std::vector<Key> all{
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
    Reader reader(config, flagKeys);
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
