#include "KeyPins.h"

namespace peerchat {

KeyPins::KeyPins(ConversationStore& store) : _store(store), _peers(store.keyPins()), _index(store.indexKeys())
{
}

local::Trust KeyPins::see(const std::string& name, const PublicKey& identity)
{
    const auto it = _peers.find(name);
    if (it == _peers.end()) {
        const KeyPin keys{identity, std::nullopt};
        _store.saveKeyPin(name, keys);
        _peers.emplace(name, keys);
        return local::Trust::Pinned;
    }
    KeyPin keys = it->second;
    if (identity == keys.pinned) {
        if (!keys.offered) return local::Trust::Pinned;
        keys.offered.reset();
    } else {
        if (keys.offered == identity) return local::Trust::Changed;
        keys.offered = identity;
    }
    _store.saveKeyPin(name, keys);
    it->second = keys;
    return trustOf(name);
}

local::Trust KeyPins::trustOf(const std::string& name) const
{
    const auto it = _peers.find(name);
    if (it == _peers.end()) return local::Trust::Unverified;
    return it->second.offered ? local::Trust::Changed : local::Trust::Pinned;
}

std::optional<PublicKey> KeyPins::pinned(const std::string& name) const
{
    const auto it = _peers.find(name);
    if (it == _peers.end()) return std::nullopt;
    return it->second.pinned;
}

std::optional<PublicKey> KeyPins::offered(const std::string& name) const
{
    const auto it = _peers.find(name);
    if (it == _peers.end()) return std::nullopt;
    return it->second.offered;
}

bool KeyPins::trust(const std::string& name)
{
    const auto it = _peers.find(name);
    if (it == _peers.end() || !it->second.offered) return false;
    const KeyPin keys{*it->second.offered, std::nullopt};
    _store.trustKey(name, keys);
    it->second = keys;
    return true;
}

std::optional<PublicKey> KeyPins::indexPin(const std::string& indexEndpoint) const
{
    const auto it = _index.find(indexEndpoint);
    if (it == _index.end()) return std::nullopt;
    return it->second;
}

void KeyPins::pinIndex(const std::string& indexEndpoint, const PublicKey& key)
{
    _store.saveIndexKey(indexEndpoint, key);
    _index[indexEndpoint] = key;
}

} // namespace peerchat
