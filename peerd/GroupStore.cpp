#include "GroupStore.h"

#include <Poco/Data/Session.h>

#include <vector>

namespace peerchat {

using namespace Poco::Data::Keywords;

GroupStore::GroupStore(StoreDatabase& database) : _database(database)
{
}

std::map<std::string, GroupMembership> GroupStore::groups() const
{
    std::vector<std::string> ids, texts;
    _database.read([&](Poco::Data::Session& session) {
        session << "SELECT id, membership FROM chat_group", into(ids), into(texts), now;
    });
    std::map<std::string, GroupMembership> groups;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        Parsed<GroupMembership> membership = GroupMembership::decode(texts[i]);
        if (!membership || membership->id != ids[i]) {
            throw Poco::IOException("cannot read the group " + ids[i] + " in " + _database.path() + ": " +
                                    (membership ? std::string("its id does not match") : membership.error()) +
                                    "; move the database aside or pass another --database");
        }
        groups.emplace(ids[i], std::move(membership.value()));
    }
    return groups;
}

void GroupStore::save(const GroupMembership& membership)
{
    const std::string text = membership.encode();
    _database.record([&] { return "keep the members of the group " + membership.title; },
                     StoreChange{store::PutGroup{membership.id, text}});
}

} // namespace peerchat
