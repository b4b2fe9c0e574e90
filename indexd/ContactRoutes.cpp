#include "ContactRoutes.h"

#include <algorithm>
#include <deque>
#include <string_view>
#include <utility>

namespace peerchat {

namespace {

using NameId = std::uint32_t;

/// A list as held: contact ids sorted (binary search), one signature per part.
struct List
{
    std::uint64_t version = 0;
    std::vector<NameId> contacts;
    std::vector<Signature> signatures;
    PresenceState state = PresenceState::Online;
    std::string status{};
};

/// A version whose parts are still coming.
struct Pending
{
    std::uint64_t version = 0;
    std::uint32_t parts = 0;
    std::uint32_t received = 0;  ///< a bit per part (Protocol::kMaxDeclarationParts fits)
    std::vector<NameId> contacts;
    std::vector<Signature> signatures;
    PresenceState state = PresenceState::Online;  ///< as part 1 says
    std::string status{};
};

} // namespace

struct ContactRoutes::State
{
    // Interned names: an id per name some list (or a declarer) holds, its
    // holders counted, freed ids reused. A name is kept once: the index views
    // it where the deque keeps it (a deque's elements stay where they are).
    std::deque<std::string> nameOf;
    std::vector<std::uint32_t> holders;
    std::vector<NameId> freeIds;
    std::unordered_map<std::string_view, NameId> idOf;
    // Lists by their declarer's id (version 0: none): nearly every name
    // interned is a user's who declares one too, so a slot per id costs less
    // than a node per list.
    std::vector<List> lists;
    std::size_t listCount = 0;
    std::unordered_map<NameId, Pending> pending;

    NameId intern(const std::string& name)
    {
        if (const auto it = idOf.find(std::string_view(name)); it != idOf.end()) {
            ++holders[it->second];
            return it->second;
        }
        NameId id = 0;
        if (freeIds.empty()) {
            id = static_cast<NameId>(nameOf.size());
            nameOf.push_back(name);
            holders.push_back(1);
            lists.emplace_back();
        } else {
            id = freeIds.back();
            freeIds.pop_back();
            nameOf[id] = name;
            holders[id] = 1;
        }
        idOf.emplace(nameOf[id], id);
        return id;
    }

    void release(NameId id)
    {
        if (--holders[id] != 0) return;
        idOf.erase(nameOf[id]);
        std::string().swap(nameOf[id]);
        freeIds.push_back(id);
    }

    void release(const std::vector<NameId>& ids)
    {
        for (const NameId id : ids) release(id);
    }

    /// name's id, without holding it; nullptr when no list holds name.
    const NameId* find(const std::string& name) const
    {
        const auto it = idOf.find(std::string_view(name));
        return it == idOf.end() ? nullptr : &it->second;
    }

    /// name's id and list, from one look-up; the list is nullptr when name holds none.
    std::pair<NameId, const List*> held(const std::string& name) const
    {
        const NameId* id = find(name);
        if (id == nullptr || lists[*id].version == 0) return {0, nullptr};
        return {*id, &lists[*id]};
    }

    const List* listOf(const std::string& name) const { return held(name).second; }

    /// True when list (held or not: version 0 holds nobody) holds id.
    static bool declares(const List& list, NameId id)
    {
        return std::binary_search(list.contacts.begin(), list.contacts.end(), id);
    }

    /// Takes part into declarer's pending version (starting one when part is
    /// newer), and makes it the list held once its last part came.
    ContactRoutes::Taken take(NameId declarer, const ContactsDeclaration& part)
    {
        auto it = pending.find(declarer);
        if (it != pending.end()) {
            const Pending& coming = it->second;
            if (part.version < coming.version || (part.version == coming.version && part.parts != coming.parts))
                return ContactRoutes::Taken::Stale;
            if (part.version > coming.version) {
                dropPending(declarer);
                it = pending.end();
            }
        }
        if (it == pending.end()) {
            Pending fresh{part.version, part.parts, 0, {}, std::vector<Signature>(part.parts), {}, {}};
            it = pending.emplace(declarer, std::move(fresh)).first;
            ++holders[declarer];
        }
        Pending& coming = it->second;
        const std::uint32_t bit = 1u << (part.part - 1);
        if ((coming.received & bit) != 0) return ContactRoutes::Taken::Incomplete;
        if (coming.contacts.size() + part.names.size() > Protocol::kMaxContacts) {
            dropPending(declarer);
            return ContactRoutes::Taken::TooLong;
        }
        for (const std::string& name : part.names) coming.contacts.push_back(intern(name));
        coming.signatures[part.part - 1] = part.sig;
        if (part.part == 1) {
            coming.state = part.state;
            coming.status = part.status;
        }
        coming.received |= bit;
        if (coming.received != (1u << coming.parts) - 1) return ContactRoutes::Taken::Incomplete;
        complete(declarer, it);
        return ContactRoutes::Taken::Complete;
    }

    /// The pending version at it replaces declarer's list; a name listed in
    /// two parts is held once.
    void complete(NameId declarer, std::unordered_map<NameId, Pending>::iterator it)
    {
        std::vector<NameId> contacts = std::move(it->second.contacts);
        std::sort(contacts.begin(), contacts.end());
        for (auto twin = std::adjacent_find(contacts.begin(), contacts.end()); twin != contacts.end();
             twin = std::adjacent_find(twin, contacts.end())) {
            release(*twin);
            twin = contacts.erase(twin);
        }
        List list{it->second.version, std::move(contacts), std::move(it->second.signatures), it->second.state,
                  std::move(it->second.status)};
        pending.erase(it);
        List& held = lists[declarer];
        // The pending version's hold of the declarer passes to the list, which had one already.
        if (held.version != 0) {
            release(held.contacts);
            release(declarer);
        } else {
            ++listCount;
        }
        held = std::move(list);
    }

    /// Drops declarer's pending version, if any.
    void dropPending(NameId declarer)
    {
        const auto it = pending.find(declarer);
        if (it == pending.end()) return;
        release(it->second.contacts);
        pending.erase(it);
        release(declarer);
    }
};

ContactRoutes::ContactRoutes() : _state(std::make_unique<State>()) {}

ContactRoutes::~ContactRoutes() = default;

ContactRoutes::Taken ContactRoutes::declare(const ContactsDeclaration& part)
{
    State& s = *_state;
    const List* held = s.listOf(part.name);
    if (held && part.version < held->version) return Taken::Stale;
    if (held && part.version == held->version) return Taken::Complete;
    const NameId declarer = s.intern(part.name);  // held while this call runs
    const Taken taken = s.take(declarer, part);
    s.release(declarer);
    return taken;
}

void ContactRoutes::forget(const std::string& name)
{
    State& s = *_state;
    const NameId* found = s.find(name);
    if (found == nullptr) return;
    const NameId id = *found;
    s.dropPending(id);
    List& held = s.lists[id];
    if (held.version == 0) return;
    s.release(held.contacts);
    held = List{};
    --s.listCount;
    s.release(id);
}

std::uint64_t ContactRoutes::versionOf(const std::string& name) const
{
    const List* list = _state->listOf(name);
    return list ? list->version : 0;
}

bool ContactRoutes::declares(const std::string& name, const std::string& contact) const
{
    const List* list = _state->listOf(name);
    const NameId* id = _state->find(contact);
    return list && id && std::binary_search(list->contacts.begin(), list->contacts.end(), *id);
}

std::vector<std::string> ContactRoutes::contactsOf(const std::string& name) const
{
    std::vector<std::string> names;
    if (const List* list = _state->listOf(name)) {
        for (const NameId id : list->contacts) names.push_back(_state->nameOf[id]);
    }
    std::sort(names.begin(), names.end());
    return names;
}

bool ContactRoutes::sees(const std::string& viewer, const std::string& subject) const
{
    const State& s = *_state;
    const auto [subjectId, shown] = s.held(subject);
    const NameId* viewerId = s.find(viewer);
    if (!shown || !viewerId || shown->state == PresenceState::Invisible) return false;
    return s.declares(*shown, *viewerId) && s.declares(s.lists[*viewerId], subjectId);
}

void ContactRoutes::forEachViewer(const std::string& name, const std::function<void(const std::string&)>& visit) const
{
    const State& s = *_state;
    const auto [self, list] = s.held(name);
    if (!list || list->state == PresenceState::Invisible) return;
    for (const NameId id : list->contacts) {
        if (s.declares(s.lists[id], self)) visit(s.nameOf[id]);
    }
}

void ContactRoutes::forEachSeen(const std::string& name, const std::function<void(const std::string&)>& visit) const
{
    const State& s = *_state;
    const auto [self, list] = s.held(name);
    if (!list) return;
    for (const NameId id : list->contacts) {
        const List& theirs = s.lists[id];
        if (theirs.state != PresenceState::Invisible && s.declares(theirs, self)) visit(s.nameOf[id]);
    }
}

PresenceState ContactRoutes::stateOf(const std::string& name) const
{
    const List* list = _state->listOf(name);
    return list ? list->state : PresenceState::Online;
}

const std::string& ContactRoutes::statusOf(const std::string& name) const
{
    static const std::string none;
    const List* list = _state->listOf(name);
    return list ? list->status : none;
}

std::vector<Signature> ContactRoutes::signaturesOf(const std::string& name) const
{
    const List* list = _state->listOf(name);
    return list ? list->signatures : std::vector<Signature>{};
}

std::size_t ContactRoutes::lists() const
{
    return _state->listCount;
}

std::size_t ContactRoutes::names() const
{
    return _state->idOf.size();
}

} // namespace peerchat
