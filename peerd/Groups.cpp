#include "Groups.h"

#include <utility>

namespace peerchat {

Groups::Groups(GroupStore& store, std::string self, const SigningKey& identity)
    : _store(store), _self(std::move(self)), _identity(identity), _groups(store.groups())
{
}

Parsed<GroupMembership> Groups::create(const std::string& title)
{
    if (const std::string why = GroupMembership::checkTitle(title); !why.empty())
        return Parsed<GroupMembership>::refuse(why);
    GroupMembership membership = GroupMembership::create(GroupMembership::newId(), title, _self, _identity);
    _store.save(membership);
    _groups.emplace(membership.id, membership);
    return membership;
}

const GroupMembership* Groups::find(const std::string& id) const
{
    const auto it = _groups.find(id);
    return it == _groups.end() ? nullptr : &it->second;
}

} // namespace peerchat
