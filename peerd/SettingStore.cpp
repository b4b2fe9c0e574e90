#include "SettingStore.h"

#include <Poco/Data/Session.h>

namespace peerchat {

using namespace Poco::Data::Keywords;

SettingStore::SettingStore(StoreDatabase& database) : _database(database)
{
}

std::map<std::string, std::string> SettingStore::settings() const
{
    std::vector<std::string> keys, values;
    _database.read([&](Poco::Data::Session& session) {
        session << "SELECT key, value FROM setting", into(keys), into(values), now;
    });
    std::map<std::string, std::string> settings;
    for (std::size_t i = 0; i < keys.size(); ++i) settings.emplace(keys[i], values[i]);
    return settings;
}

void SettingStore::saveSetting(const std::string& key, const std::string& value)
{
    saveSettings({{key, value}});
}

void SettingStore::saveSettings(const std::vector<std::pair<std::string, std::string>>& settings)
{
    StoreChange change;
    for (const auto& [key, value] : settings) change.push_back(store::PutSetting{key, value});
    _database.record([&] { return "keep the settings " + settings.front().first + " and on"; }, change);
}

} // namespace peerchat
