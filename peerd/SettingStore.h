#pragma once

#include "StoreDatabase.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace peerchat {

/// The identity's settings that peerd keeps for itself (its own status, its
/// contact stream), by key. State only, in StoreDatabase.
class SettingStore
{
public:
    explicit SettingStore(StoreDatabase& database);

    /// The settings, by key, as stored.
    std::map<std::string, std::string> settings() const;

    /// Stores value as the setting key, replacing what was stored.
    void saveSetting(const std::string& key, const std::string& value);
    /// Stores each of settings (key, value) the same way, all or none.
    void saveSettings(const std::vector<std::pair<std::string, std::string>>& settings);

private:
    StoreDatabase& _database;
};

} // namespace peerchat
