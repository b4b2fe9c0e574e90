#pragma once

#include "SettingKey.h"

#include <Poco/Net/IPAddress.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace peerchat {

/// Reads the keys of one layered configuration and remembers the first thing
/// wrong, named the way the person wrote it: "--port must be 0..65535, got
/// 'abc'" when a flag set it, "indexd.port must be ..." when a file did.
/// A refused value reads as its default (or a neutral value), so a settings
/// struct can read every key and check error() once at the end.
class SettingsReader
{
public:
    /// keys gives each key's flag; flagKeys are the keys set by flags. The
    /// configuration must outlive the reader.
    SettingsReader(const Poco::Util::AbstractConfiguration& config, std::vector<SettingKey> keys,
                   std::set<std::string> flagKeys);

    /// The value as written, or defaultValue when the key is not set.
    std::string text(const std::string& key, const std::string& defaultValue) const;

    /// A decimal number in min..max, nothing else around it.
    std::uint64_t number(const std::string& key, std::uint64_t defaultValue, std::uint64_t min, std::uint64_t max);

    /// A yes/no value: true, false, yes, no, on or off (any case).
    bool flag(const std::string& key, bool defaultValue);

    /// A port, 0..65535.
    std::uint16_t port(const std::string& key, std::uint16_t defaultValue);

    /// A numeric IPv4 or IPv6 address ("127.0.0.1", "::"); no host names, no
    /// scope ids, no shortened IPv4 forms such as "1.2.3".
    Poco::Net::IPAddress address(const std::string& key, const std::string& defaultValue);

    /// A Poco::Message::Priority by name ("warning"); "none" is 0.
    int logLevel(const std::string& key, const std::string& defaultValue);

    /// Records that key's value is wrong: what is "must be ..., got 'x'".
    /// Only the first failure is kept.
    void fail(const std::string& key, const std::string& what);

    /// The first failure, "NAME what", NAME being the flag or the key.
    const std::optional<std::string>& error() const { return _error; }

private:
    std::string nameOf(const std::string& key) const;

    const Poco::Util::AbstractConfiguration& _config;
    std::vector<SettingKey> _keys;
    std::set<std::string> _flagKeys;
    std::optional<std::string> _error;
};

} // namespace peerchat
