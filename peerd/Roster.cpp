#include "Roster.h"

#include <utility>

namespace peerchat {

namespace {

// Erases the entry of name from index's entries under key.
template <typename Key>
void eraseNamed(std::multimap<Key, std::string>& index, const Key& key, const std::string& name)
{
    const auto [first, last] = index.equal_range(key);
    for (auto named = first; named != last; ++named) {
        if (named->second == name) {
            index.erase(named);
            return;
        }
    }
}

} // namespace

bool Roster::Peer::sameReach(const Peer& other) const
{
    if (endpoint != other.endpoint || dialect != other.dialect || keys.has_value() != other.keys.has_value()) {
        return false;
    }
    return !keys || (keys->identity == other.keys->identity && keys->kx == other.keys->kx);
}

bool Roster::Peer::operator==(const Peer& other) const
{
    return sameReach(other) && state == other.state && status == other.status;
}

Roster::Roster(std::string self) : _self(std::move(self))
{
}

std::vector<Roster::Change> Roster::replace(std::map<std::string, Peer> peers)
{
    peers.erase(_self);
    std::vector<Change> changes;
    for (const auto& [name, peer] : _peers) {
        if (peers.count(name) == 0) changes.push_back(Change{name, peer, false});
    }
    for (const auto& [name, peer] : peers) {
        const auto old = _peers.find(name);
        if (old == _peers.end() || !(old->second == peer)) {
            changes.push_back(Change{name, peer, true, old != _peers.end() && old->second.sameReach(peer)});
        }
    }
    _peers = std::move(peers);
    _names.clear();
    _holders.clear();
    _dotNetHosts.clear();
    for (const auto& [name, peer] : _peers) index(name, peer);
    return changes;
}

std::optional<Roster::Change> Roster::here(const std::string& name, const Peer& peer)
{
    if (name == _self) return std::nullopt;
    auto [it, inserted] = _peers.try_emplace(name, peer);
    if (inserted) {
        index(name, peer);
        return Change{name, peer, true};
    }
    if (it->second == peer) return std::nullopt;
    const bool statusOnly = it->second.sameReach(peer);
    unindex(name, it->second);
    it->second = peer;
    index(name, peer);
    return Change{name, peer, true, statusOnly};
}

std::optional<Roster::Change> Roster::gone(const std::string& name)
{
    const auto it = _peers.find(name);
    if (it == _peers.end()) return std::nullopt;
    Change change{name, it->second, false};
    unindex(name, it->second);
    _peers.erase(it);
    return change;
}

const Roster::Peer* Roster::find(const std::string& name) const
{
    const auto it = _peers.find(name);
    return it == _peers.end() ? nullptr : &it->second;
}

const std::string* Roster::nameAt(const Endpoint& endpoint) const
{
    const auto it = _names.find(endpoint);
    return it == _names.end() ? nullptr : &it->second;
}

const std::string* Roster::holderOf(const PublicKey& kx, const std::string& except) const
{
    const auto [first, last] = _holders.equal_range(kx);
    for (auto holder = first; holder != last; ++holder) {
        if (holder->second != except) return &holder->second;
    }
    return nullptr;
}

void Roster::index(const std::string& name, const Peer& peer)
{
    _names.emplace(peer.endpoint, name);
    if (peer.keys) _holders.emplace(peer.keys->kx, name);
    if (peer.dialect == Dialect::DotNet) ++_dotNetHosts[peer.endpoint.host()];
}

void Roster::unindex(const std::string& name, const Peer& peer)
{
    eraseNamed(_names, peer.endpoint, name);
    if (peer.keys) eraseNamed(_holders, peer.keys->kx, name);
    if (peer.dialect != Dialect::DotNet) return;
    const auto host = _dotNetHosts.find(peer.endpoint.host());
    if (host != _dotNetHosts.end() && --host->second == 0) _dotNetHosts.erase(host);
}

Roster::Peer Roster::peerOf(const Here& here)
{
    return Peer{here.endpoint, dialectOf(here.dialect), here.keys, here.state, here.status};
}

Dialect Roster::dialectOf(const std::string& token)
{
    return dialectFromToken(token).value_or(Dialect::Seed);
}

} // namespace peerchat
