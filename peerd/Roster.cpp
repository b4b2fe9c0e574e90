#include "Roster.h"

#include <utility>

namespace peerchat {

bool Roster::Peer::operator==(const Peer& other) const
{
    if (endpoint != other.endpoint || dialect != other.dialect || keys.has_value() != other.keys.has_value()) {
        return false;
    }
    return !keys || (keys->identity == other.keys->identity && keys->kx == other.keys->kx);
}

Roster::Roster(std::string self) : _self(std::move(self))
{
}

std::vector<Roster::Change> Roster::replace(const std::vector<RosterEntry>& entries)
{
    std::map<std::string, Peer> next;
    for (const RosterEntry& entry : entries) {
        if (entry.name != _self) next[entry.name] = Peer{entry.endpoint, dialectOf(entry.dialect), entry.keys};
    }

    std::vector<Change> changes;
    for (const auto& [name, peer] : _peers) {
        if (next.count(name) == 0) changes.push_back(Change{name, peer, false});
    }
    for (const auto& [name, peer] : next) {
        const auto old = _peers.find(name);
        if (old == _peers.end() || !(old->second == peer)) changes.push_back(Change{name, peer, true});
    }
    _peers = std::move(next);
    return changes;
}

std::optional<Roster::Change> Roster::login(const std::string& name, const Peer& peer)
{
    if (name == _self) return std::nullopt;
    auto [it, inserted] = _peers.try_emplace(name, peer);
    if (!inserted) {
        if (it->second == peer) return std::nullopt;
        it->second = peer;
    }
    return Change{name, peer, true};
}

std::optional<Roster::Change> Roster::logout(const std::string& name, const Endpoint& endpoint)
{
    const auto it = _peers.find(name);
    if (it == _peers.end() || it->second.endpoint != endpoint) return std::nullopt;
    Change change{name, it->second, false};
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
    for (const auto& [name, peer] : _peers) {
        if (peer.endpoint == endpoint) return &name;
    }
    return nullptr;
}

Dialect Roster::dialectOf(const std::string& token)
{
    return dialectFromToken(token).value_or(Dialect::Seed);
}

} // namespace peerchat
