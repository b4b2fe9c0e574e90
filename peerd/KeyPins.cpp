#include "KeyPins.h"

namespace peerchat {

KeyPins::KeyPins(KeyPinStore& store, OutboxStore& outbox)
    : _store(store), _outbox(outbox), _peers(store.keyPins()), _index(store.indexKeys())
{
}

local::Trust KeyPins::see(const std::string& name, const PublicKey& identity)
{
    const auto it = _peers.find(name);
    if (it == _peers.end()) {
        const KeyPin keys{identity, std::nullopt, KeyPin::Keyless::None};
        _store.saveKeyPin(name, keys);
        _peers.emplace(name, keys);
        return local::Trust::Pinned;
    }
    KeyPin keys = it->second;
    if (identity == keys.pinned) {
        if (!keys.offered && keys.keyless == KeyPin::Keyless::None) return local::Trust::Pinned;
        keys.offered.reset();
        keys.keyless = KeyPin::Keyless::None;
    } else {
        if (keys.offered == identity) return local::Trust::Changed;
        keys.offered = identity;
        if (keys.keyless == KeyPin::Keyless::Offered) keys.keyless = KeyPin::Keyless::None;
    }
    save(name, keys);
    return trustOf(name);
}

local::Trust KeyPins::seeKeyless(const std::string& name)
{
    const auto it = _peers.find(name);
    if (it == _peers.end() || it->second.keyless == KeyPin::Keyless::Accepted) return local::Trust::Unverified;
    if (it->second.keyless == KeyPin::Keyless::Offered) return local::Trust::Changed;
    save(name, KeyPin{it->second.pinned, std::nullopt, KeyPin::Keyless::Offered});
    return local::Trust::Changed;
}

local::Trust KeyPins::trustOf(const std::string& name) const
{
    const auto it = _peers.find(name);
    if (it == _peers.end()) return local::Trust::Unverified;
    if (it->second.offered || it->second.keyless == KeyPin::Keyless::Offered) return local::Trust::Changed;
    return it->second.keyless == KeyPin::Keyless::Accepted ? local::Trust::Unverified : local::Trust::Pinned;
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

bool KeyPins::keylessOffered(const std::string& name) const
{
    const auto it = _peers.find(name);
    return it != _peers.end() && it->second.keyless == KeyPin::Keyless::Offered;
}

bool KeyPins::trust(const std::string& name)
{
    const auto it = _peers.find(name);
    if (it == _peers.end()) return false;
    KeyPin keys;
    if (it->second.offered) {
        keys = KeyPin{*it->second.offered, std::nullopt, KeyPin::Keyless::None};
    } else if (it->second.keyless == KeyPin::Keyless::Offered) {
        keys = KeyPin{it->second.pinned, std::nullopt, KeyPin::Keyless::Accepted};
    } else {
        return false;
    }
    _outbox.newStream(name, {KeyPinStore::pinChange(name, keys)}, [&] { return "trust the new key of " + name; });
    it->second = keys;
    return true;
}

// Stores keys as name's pin, then holds them: the store first, so a failed write changes nothing.
void KeyPins::save(const std::string& name, const KeyPin& keys)
{
    _store.saveKeyPin(name, keys);
    _peers[name] = keys;
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
