#include "RosterModel.h"

#include <type_traits>

namespace peerchat::chatui {

RosterModel::Change RosterModel::apply(const local::Event& event)
{
    Change change;
    std::visit(
        [&](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, local::WelcomeEvent>) {
                _self = e.self;
                _fingerprint = e.fingerprint;
                _index = e.index;
                _linkState = e.state;
                _linkDetail.clear();
                _welcomed = true;
                _rosterLoaded = false;
                change.changed = true;
            } else if constexpr (std::is_same_v<T, local::StateEvent>) {
                _linkState = e.state;
                _linkDetail = e.detail;
                change.changed = true;
            } else if constexpr (std::is_same_v<T, local::RosterEvent>) {
                _rosterLoaded = true;
                _online.clear();
                for (const auto& user : e.users) {
                    _online[user.name] = user;
                    _trust[user.name] = user.trust;
                }
                _unread.clear();
                for (const auto& [name, count] : e.unread)
                    if (count > 0) _unread[name] = count;
                change.changed = true;
            } else if constexpr (std::is_same_v<T, local::PresenceEvent>) {
                if (e.user.name == _self) return;
                if (e.online) {
                    _online[e.user.name] = e.user;
                    _trust[e.user.name] = e.user.trust;
                } else {
                    _online.erase(e.user.name);
                }
                change.changed = true;
            } else if constexpr (std::is_same_v<T, local::TrustEvent>) {
                change.changed = trust(e.peer) != e.trust;
                _trust[e.peer] = e.trust;
                change.peer = e.peer;
            } else if constexpr (std::is_same_v<T, local::PathEvent>) {
                const auto user = _online.find(e.peer);
                if (user == _online.end()) return;
                change.changed = user->second.path != e.path;
                user->second.path = e.path;
                change.peer = e.peer;
            } else if constexpr (std::is_same_v<T, local::UnreadEvent>) {
                const std::uint32_t before = unread(e.peer);
                if (e.count > 0)
                    _unread[e.peer] = e.count;
                else
                    _unread.erase(e.peer);
                change.changed = before != e.count;
                change.unreadRose = e.count > before;
                change.peer = e.peer;
            }
        },
        event);
    return change;
}

void RosterModel::disconnected()
{
    _welcomed = false;
    _rosterLoaded = false;
    _online.clear();
    _unread.clear();
    _trust.clear();
}

bool RosterModel::isOnline(const std::string& name) const { return _online.count(name) > 0; }

std::uint32_t RosterModel::unread(const std::string& name) const
{
    const auto it = _unread.find(name);
    return it == _unread.end() ? 0 : it->second;
}

local::Trust RosterModel::trust(const std::string& name) const
{
    const auto it = _trust.find(name);
    return it == _trust.end() ? local::Trust::Pinned : it->second;
}

local::Path RosterModel::path(const std::string& name) const
{
    const auto it = _online.find(name);
    return it == _online.end() ? local::Path::None : it->second.path;
}

std::vector<RosterModel::Entry> RosterModel::entries() const
{
    std::map<std::string, Entry> rows;
    for (const auto& [name, user] : _online) rows[name] = Entry{name, true, unread(name), trust(name), user.path};
    for (const auto& [name, count] : _unread) {
        auto& row = rows[name];
        row.name = name;
        row.unread = count;
        row.trust = trust(name);
    }
    std::vector<Entry> result;
    result.reserve(rows.size());
    for (auto& [name, row] : rows) result.push_back(std::move(row));
    return result;
}

} // namespace peerchat::chatui
