#include "KeyRegistry.h"

#include <Poco/Data/SQLite/Utility.h>

#include <algorithm>

namespace peerchat {

KeyRegistry::KeyRegistry(IndexDatabase& database)
    : _select(Poco::Data::SQLite::Utility::dbHandle(database.session()), "SELECT identity FROM names WHERE name = ?"),
      _insert(Poco::Data::SQLite::Utility::dbHandle(database.session()),
              "INSERT OR IGNORE INTO names (name, identity) VALUES (?, ?)")
{
}

std::optional<PublicKey> KeyRegistry::identityOf(const std::string& name)
{
    const std::optional<std::string> found = _select.bind(name).firstBlob();
    if (!found || found->size() != PublicKey().size()) return std::nullopt;
    PublicKey key{};
    std::copy(found->begin(), found->end(), key.begin());
    return key;
}

bool KeyRegistry::bind(const std::string& name, const PublicKey& identity)
{
    if (_insert.bind(name).bindBlob(identity.data(), identity.size()).run() == 1) return true;
    const std::optional<PublicKey> owner = identityOf(name);
    return owner && *owner == identity;
}

bool KeyRegistry::isFresh(const std::string& name, std::uint64_t stamp) const
{
    auto it = _stamps.find(name);
    return it == _stamps.end() || stamp > it->second;
}

void KeyRegistry::acceptStamp(const std::string& name, std::uint64_t stamp)
{
    auto& latest = _stamps[name];
    latest = std::max(latest, stamp);
}

void KeyRegistry::forgetStampsBefore(std::uint64_t cutoff)
{
    for (auto it = _stamps.begin(); it != _stamps.end();) {
        if (it->second < cutoff) it = _stamps.erase(it);
        else ++it;
    }
}

} // namespace peerchat
