#pragma once

#include "GroupMembership.h"
#include "GroupStore.h"
#include "Parsed.h"
#include "SigningKey.h"

#include <map>
#include <string>

namespace peerchat {

/// The groups this identity is in: for each, the newest member list it
/// holds (GroupMembership), in which it is the owner, an admin, a member or
/// invited. State only: every change is in the store (GroupStore) before
/// the call returns; a change the store refuses throws, and nothing of it
/// is kept.
class Groups
{
public:
    /// Loads the groups of self, whose identity key is identity, from store.
    Groups(GroupStore& store, std::string self, const SigningKey& identity);

    /// The user makes a group named title, with itself as its only member and
    /// owner; returns its list, or why not for a person (a bad title).
    Parsed<GroupMembership> create(const std::string& title);

    /// Every group, by id.
    const std::map<std::string, GroupMembership>& all() const { return _groups; }
    /// The group with id, or null.
    const GroupMembership* find(const std::string& id) const;

private:
    GroupStore& _store;
    std::string _self;
    const SigningKey& _identity;
    std::map<std::string, GroupMembership> _groups;
};

} // namespace peerchat
