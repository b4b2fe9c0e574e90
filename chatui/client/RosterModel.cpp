#include "RosterModel.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <type_traits>

namespace peerchat::chatui {

namespace {

bool sameContact(const local::ContactInfo& a, const local::ContactInfo& b)
{
    return a.relation == b.relation && a.blocked == b.blocked && a.note == b.note;
}

} // namespace

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
                for (const auto& [name, count] : e.unread) setUnread(name, count);
                _contacts.clear();
                for (const auto& contact : e.contacts) setContact(contact);
                // Strangers whose lines peerd holds, read or not, stay under Requests in a window opened later.
                _wrote.insert(e.held.begin(), e.held.end());
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
                // The roster lists users; groups are not in it.
                if (e.conversation.isGroup()) return;
                const std::string& peer = e.conversation.name();
                const std::uint32_t before = unread(peer);
                setUnread(peer, e.count);
                change.changed = before != e.count;
                change.unreadRose = e.count > before;
                change.peer = peer;
            } else if constexpr (std::is_same_v<T, local::ContactEvent>) {
                if (e.contact.name == _self) return;
                change.changed = !sameContact(contact(e.contact.name), e.contact);
                setContact(e.contact);
                change.peer = e.contact.name;
            } else if constexpr (std::is_same_v<T, local::SelfEvent>) {
                change.changed = !_ownStatus || _ownStatus->state != e.state || _ownStatus->text != e.text ||
                                 _ownStatus->away != e.away;
                _ownStatus = e;
            }
        },
        event);
    return change;
}

void RosterModel::setUnread(const std::string& name, std::uint32_t count)
{
    if (count == 0) {
        _unread.erase(name);
        return;
    }
    _unread[name] = count;
    _wrote.insert(name);
}

void RosterModel::setContact(const local::ContactInfo& contact)
{
    if (contact.relation == local::Relation::None && !contact.blocked)
        _contacts.erase(contact.name);
    else
        _contacts[contact.name] = contact;
}

void RosterModel::disconnected()
{
    _welcomed = false;
    _rosterLoaded = false;
    _online.clear();
    _unread.clear();
    _trust.clear();
    _contacts.clear();
    _ownStatus.reset();
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

local::PresenceState RosterModel::state(const std::string& name) const
{
    const auto it = _online.find(name);
    return it == _online.end() ? local::PresenceState::Online : it->second.state;
}

local::Path RosterModel::path(const std::string& name) const
{
    const auto it = _online.find(name);
    return it == _online.end() ? local::Path::None : it->second.path;
}

local::ContactInfo RosterModel::contact(const std::string& name) const
{
    const auto it = _contacts.find(name);
    if (it != _contacts.end()) return it->second;
    local::ContactInfo none;
    none.name = name;
    return none;
}

std::vector<RosterModel::Entry> RosterModel::entries() const
{
    if (!_rosterLoaded) return {};
    // Everyone the list may hold; each then finds its section, or none.
    std::set<std::string> names(_wrote);
    for (const auto& [name, count] : _unread) names.insert(name);
    for (const auto& [name, info] : _contacts) names.insert(name);

    std::vector<Entry> result;
    for (const auto& name : names) {
        if (name == _self) continue;
        const local::ContactInfo info = contact(name);
        std::optional<Section> section;
        if (info.blocked) {
            section = Section::Blocked;
        } else {
            switch (info.relation) {
            case local::Relation::Contact:
                section = isOnline(name) ? Section::ContactsOnline : Section::ContactsOffline;
                break;
            case local::Relation::AskedMe: section = Section::Requests; break;
            case local::Relation::Asked: section = Section::Asked; break;
            case local::Relation::None:
                if (unread(name) > 0 || wrote(name)) section = Section::Requests;
                break;
            }
        }
        if (!section) continue;
        const auto online = _online.find(name);
        result.push_back(Entry{name, *section, online != _online.end(), unread(name), trust(name), path(name),
                               info.relation, info.relation == local::Relation::None ? std::string() : info.note,
                               state(name), online != _online.end() ? online->second.status : std::string()});
    }
    std::sort(result.begin(), result.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.section, a.name) < std::tie(b.section, b.name);
    });
    return result;
}

} // namespace peerchat::chatui
