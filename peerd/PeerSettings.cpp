#include "PeerSettings.h"

#include "LocalSocketPath.h"
#include "UserName.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/IPAddress.h>

#include <arpa/inet.h>
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

    std::string text(const std::string& key, const std::string& defaultValue)
    {
        return _config.getRawString(key, defaultValue);
    }

    std::uint64_t number(const std::string& key, std::uint64_t defaultValue, std::uint64_t min, std::uint64_t max)
    {
        const std::string value = text(key, std::to_string(defaultValue));
        std::uint64_t n = 0;
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (value.empty() || error != std::errc() || end != value.data() + value.size() || n < min || n > max) {
            fail(key, "must be " + std::to_string(min) + ".." + std::to_string(max) + ", got '" + value + "'");
            return defaultValue;
        }
        return n;
    }

    std::string user(const std::string& key)
    {
        const std::string name = text(key, "");
        if (name.empty()) {
            fail(key, "is required: the name to chat as, e.g. --user alice");
        } else if (const std::string why = UserName::check(name); !why.empty()) {
            fail(key, "'" + name + "' is not a usable name: " + why +
                          " (1-32 bytes of UTF-8, no spaces, no , ; : and no control characters)");
        }
        return name;
    }

    Endpoint index(const std::string& key, const std::string& defaultValue)
    {
        const std::string value = text(key, defaultValue);
        try {
            const Poco::Net::SocketAddress address(value);
            if (address.port() != 0) return Endpoint(address);
        } catch (const Poco::Exception& e) {
            fail(key, "must be indexd's HOST:PORT such as 127.0.0.1:9400, got '" + value + "': " + e.displayText());
            return Endpoint();
        }
        fail(key, "must be indexd's HOST:PORT with a port 1..65535, got '" + value + "'");
        return Endpoint();
    }

    Poco::Net::IPAddress address(const std::string& key, const std::string& defaultValue)
    {
        const std::string value = text(key, defaultValue);
        // inet_pton, not IPAddress::tryParse: POCO 1.11 refuses "::" and takes "1.2.3" for 1.2.0.3.
        in_addr v4{};
        if (::inet_pton(AF_INET, value.c_str(), &v4) == 1) return Poco::Net::IPAddress(&v4, sizeof v4);
        in6_addr v6{};
        if (::inet_pton(AF_INET6, value.c_str(), &v6) == 1) return Poco::Net::IPAddress(&v6, sizeof v6);
        fail(key, "must be a numeric IP address such as 127.0.0.1, 0.0.0.0 or ::, got '" + value + "'");
        return Poco::Net::IPAddress();
    }

    int logLevel(const std::string& key, const std::string& defaultValue)
    {
        const std::string value = text(key, defaultValue);
        try {
            return Poco::Logger::parseLevel(value);
        } catch (const Poco::Exception&) {
            fail(key, "must be one of none, fatal, critical, error, warning, notice, information, debug, trace; got '" +
                          value + "'");
            return Poco::Message::PRIO_INFORMATION;
        }
    }

    void fail(const std::string& key, const std::string& what)
    {
        if (_error) return;
        _error = nameOf(key) + " " + what;
    }

    const std::optional<std::string>& error() const { return _error; }

private:
    std::string nameOf(const std::string& key) const
    {
        if (_flagKeys.count(key) == 0) return key;
        for (const auto& k : PeerSettings::keys()) {
            if (k.key == key) return "--" + k.flag;
        }
        return key;
    }

    const Poco::Util::AbstractConfiguration& _config;
    const std::set<std::string>& _flagKeys;
    std::optional<std::string> _error;
};

} // namespace

const std::vector<PeerSettings::Key>& PeerSettings::keys()
{
    static const std::vector<Key> all{
        {"peerd.user", "user", "NAME", "the name to chat as (required): 1-32 bytes of UTF-8 without spaces, commas, semicolons or colons"},
        {"peerd.index", "index", "HOST:PORT", "indexd's UDP address; a host name is resolved (default 127.0.0.1:9400)"},
        {"peerd.port", "port", "P", "UDP port for logins and chat (default 0 = any free port)"},
        {"peerd.bind", "bind", "ADDR", "numeric address the UDP socket binds to (default 0.0.0.0)"},
        {"peerd.socket", "socket", "PATH",
         "the local socket UIs attach to (default $XDG_RUNTIME_DIR/peerchat/NAME.sock, else "
         "/tmp/peerchat-UID/NAME.sock)"},
        {"peerd.historyLimit", "history-limit", "N", "lines kept per conversation, oldest dropped first (default 10000)"},
        {"peerd.loginRetryMs", "login-retry-ms", "MS",
         "milliseconds between logins until indexd answers (default 2000)"},
        {"peerd.logLevel", "log-level", "LEVEL",
         "none, fatal, critical, error, warning, notice, information, debug or trace (default information)"},
    };
    return all;
}

Parsed<PeerSettings> PeerSettings::read(const Poco::Util::AbstractConfiguration& config,
                                        const std::set<std::string>& flagKeys)
{
    Reader reader(config, flagKeys);
    PeerSettings s;
    s.user = reader.user("peerd.user");
    s.index = reader.index("peerd.index", "127.0.0.1:9400");
    const auto port = static_cast<std::uint16_t>(reader.number("peerd.port", 0, 0, 65535));
    const Poco::Net::IPAddress bind = reader.address("peerd.bind", "0.0.0.0");
    s.bind = Poco::Net::SocketAddress(bind, port);
    s.socketPath = reader.text("peerd.socket", s.user.empty() ? "" : LocalSocketPath::defaultFor(s.user));
    if (s.socketPath.empty()) reader.fail("peerd.socket", "must be a path, e.g. /tmp/alice.sock");
    s.historyLimit = reader.number("peerd.historyLimit", 10000, 1, 10000000);
    s.loginRetry = std::chrono::milliseconds(reader.number("peerd.loginRetryMs", 2000, 10, 3600000));
    s.logLevel = reader.logLevel("peerd.logLevel", "information");
    if (!reader.error() && bind.family() != s.index.host().family()) {
        reader.fail("peerd.bind", "'" + bind.toString() + "' cannot reach indexd at " + s.index.toString() +
                                      " (one is IPv4, the other IPv6); bind to an address of indexd's family");
    }
    if (reader.error()) return Parsed<PeerSettings>::refuse(*reader.error());
    return s;
}

} // namespace peerchat
