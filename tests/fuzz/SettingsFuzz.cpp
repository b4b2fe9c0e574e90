// The input is a .properties file. indexd's and peerd's settings are read from
// it the way the daemons read their --config file, once as if every key came
// from the file and once as if every key came from a flag (errors name flags
// then); the input is also read whole as a --faults list. Whatever is accepted
// as a fault list prints back to a list that is accepted again.
#include "FaultSettings.h"
#include "FuzzCheck.h"
#include "IndexSettings.h"
#include "PeerSettings.h"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

namespace {

using peerchat::fuzz::require;

void checkFaults(std::string_view spec)
{
    const auto faults = peerchat::FaultSettings::parse(spec);
    if (!faults) {
        require(!faults.error().empty(), "a refusal says why");
        return;
    }
    const std::string shown = faults->toString();
    const auto again = peerchat::FaultSettings::parse(shown);
    require(again.ok(), "a fault list, printed, parses again");
    require(again->toString() == shown, "a fault list prints the same after a round trip");
}

// peerd resolves the host of peerd.index; a fuzzer must not send DNS queries,
// so a value whose host POCO would look up rather than parse is replaced.
void keepIndexLiteral(Poco::Util::AbstractConfiguration& config)
{
    const std::string value = config.getRawString("peerd.index", "127.0.0.1:9400");
    if (!value.empty() && value.front() == '/') return;  // a Unix socket path: nothing to resolve
    std::string host;
    if (!value.empty() && value.front() == '[') host = value.substr(1, value.find(']') - 1);
    else host = value.substr(0, value.find(':'));
    Poco::Net::IPAddress literal;
    if (!Poco::Net::IPAddress::tryParse(host, literal)) config.setString("peerd.index", "127.0.0.1:9400");
}

template <typename Settings>
std::set<std::string> allKeys()
{
    std::set<std::string> keys;
    for (const auto& key : Settings::keys()) keys.insert(key.key);
    return keys;
}

template <typename Settings>
void readSettings(const Poco::Util::AbstractConfiguration& config)
{
    for (const auto& flagKeys : {std::set<std::string>(), allKeys<Settings>()}) {
        const auto settings = Settings::read(config, flagKeys);
        if (settings) checkFaults(settings->faults.toString());
        else require(!settings.error().empty(), "a refusal says why");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    checkFaults(text);

    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> config(new Poco::Util::PropertyFileConfiguration);
    std::istringstream in(text);
    try {
        config->load(in);
    } catch (const Poco::Exception&) {
        return 0;  // the daemons refuse such a --config file by name
    }
    keepIndexLiteral(*config);
    readSettings<peerchat::IndexSettings>(*config);
    readSettings<peerchat::PeerSettings>(*config);
    return 0;
}
