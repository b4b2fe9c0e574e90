#include "KeyRegistry.h"

#include <Poco/Data/LOB.h>

#include <algorithm>
#include <vector>

using namespace Poco::Data::Keywords;

namespace peerchat {

KeyRegistry::KeyRegistry(IndexDatabase& database) : _session(database.session()) {}

std::optional<PublicKey> KeyRegistry::identityOf(const std::string& name)
{
    std::vector<Poco::Data::BLOB> found;
    _session << "SELECT identity FROM names WHERE name = ?", useRef(name), into(found), now;
    if (found.empty() || found.front().size() != PublicKey().size()) return std::nullopt;
    PublicKey key{};
    std::copy(found.front().content().begin(), found.front().content().end(), key.begin());
    return key;
}

bool KeyRegistry::bind(const std::string& name, const PublicKey& identity)
{
    if (auto owner = identityOf(name)) return *owner == identity;
    const Poco::Data::BLOB blob(identity.data(), identity.size());
    _session << "INSERT INTO names (name, identity) VALUES (?, ?)", useRef(name), useRef(blob), now;
    return true;
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
