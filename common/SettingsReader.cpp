#include "SettingsReader.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/String.h>

#include <arpa/inet.h>
#include <charconv>
#include <utility>

namespace peerchat {

SettingsReader::SettingsReader(const Poco::Util::AbstractConfiguration& config, std::vector<SettingKey> keys,
                               std::set<std::string> flagKeys)
    : _config(config), _keys(std::move(keys)), _flagKeys(std::move(flagKeys))
{
}

std::string SettingsReader::text(const std::string& key, const std::string& defaultValue) const
{
    return _config.getRawString(key, defaultValue);
}

std::uint64_t SettingsReader::number(const std::string& key, std::uint64_t defaultValue, std::uint64_t min,
                                     std::uint64_t max)
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

bool SettingsReader::flag(const std::string& key, bool defaultValue)
{
    const std::string value = text(key, defaultValue ? "true" : "false");
    const std::string lower = Poco::toLower(value);
    if (lower == "true" || lower == "yes" || lower == "on") return true;
    if (lower == "false" || lower == "no" || lower == "off") return false;
    fail(key, "must be true or false, got '" + value + "'");
    return defaultValue;
}

std::uint16_t SettingsReader::port(const std::string& key, std::uint16_t defaultValue)
{
    return static_cast<std::uint16_t>(number(key, defaultValue, 0, 65535));
}

Poco::Net::IPAddress SettingsReader::address(const std::string& key, const std::string& defaultValue)
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

int SettingsReader::logLevel(const std::string& key, const std::string& defaultValue)
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

void SettingsReader::fail(const std::string& key, const std::string& what)
{
    if (_error) return;
    _error = nameOf(key) + " " + what;
}

std::string SettingsReader::nameOf(const std::string& key) const
{
    if (_flagKeys.count(key) == 0) return key;
    for (const auto& k : _keys) {
        if (k.key == key) return "--" + k.flag;
    }
    return key;
}

} // namespace peerchat
