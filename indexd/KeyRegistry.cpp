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
    const auto [it, fresh] = _stamps.try_emplace(name, stamp);
    if (!fresh) {
        if (stamp <= it->second) return;
        it->second = stamp;
    }
    _accepted.emplace_back(stamp, name);
}

void KeyRegistry::forgetStampsBefore(std::uint64_t cutoff)
{
    while (!_accepted.empty() && _accepted.front().first < cutoff) {
        // A name accepted again since holds a newer stamp, which stays.
        const auto it = _stamps.find(_accepted.front().second);
        if (it != _stamps.end() && it->second < cutoff) _stamps.erase(it);
        _accepted.pop_front();
    }
}

} // namespace peerchat
