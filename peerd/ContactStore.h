#pragma once

#include "ContactRecord.h"
#include "StoreDatabase.h"

#include <map>
#include <string>

namespace peerchat {

/// The contact table: a ContactRecord per user this identity has (or had)
/// to do with as a contact (Contacts reads them once and keeps them). State
/// only, in StoreDatabase.
class ContactStore
{
public:
    explicit ContactStore(StoreDatabase& database);

    /// Every user a contact row is kept for, by name, as stored. Throws
    /// Poco::IOException for a person when a row is damaged.
    std::map<std::string, ContactRecord> contacts() const;

    /// Stores contact as name's row, replacing what was stored.
    void saveContact(const std::string& name, const ContactRecord& contact);

private:
    StoreDatabase& _database;
};

} // namespace peerchat
