#pragma once

#include "GroupMembership.h"
#include "StoreDatabase.h"

#include <map>
#include <string>

namespace peerchat {

/// The member list held for each group this identity is in, by group id
/// (Groups reads them once and keeps them). State only, in StoreDatabase.
class GroupStore
{
public:
    explicit GroupStore(StoreDatabase& database);

    /// Every group's list, as stored. Throws Poco::IOException for a person when one is damaged.
    std::map<std::string, GroupMembership> groups() const;

    /// Stores membership as its group's list, replacing what was stored.
    void save(const GroupMembership& membership);

private:
    StoreDatabase& _database;
};

} // namespace peerchat
