#include "PresenceRouter.h"

#include <algorithm>
#include <iterator>

namespace peerchat {

namespace {

bool isPeerchat(const OnlineUser& user)
{
    return user.dialect == Dialect::Peerchat && user.keys.has_value();
}

} // namespace

PresenceRouter::PresenceRouter(Directory& directory, ContactRoutes& routes, SealedSender& sealed, bool legacy,
                               std::function<void()> wake)
    : _directory(directory), _routes(routes), _sealed(sealed), _legacy(legacy), _wake(std::move(wake))
{
}

bool PresenceRouter::sees(const std::string& recipient, const OnlineUser& subject) const
{
    if (subject.name == recipient) return false;
    if (subject.dialect != Dialect::Peerchat) return _legacy;
    return _routes.stateOf(subject.name) != PresenceState::Invisible && _routes.declares(subject.name, recipient)
           && _routes.declares(recipient, subject.name);
}

void PresenceRouter::note(const std::string& recipient, const std::string& subject)
{
    if (!pending()) _wake();
    _pairs.emplace_back(recipient, subject);
}

void PresenceRouter::noteViewersOf(const OnlineUser& subject)
{
    if (subject.dialect != Dialect::Peerchat) {
        if (!_legacy) return;
        _directory.forEachUser([&](const OnlineUser& user) {
            if (isPeerchat(user)) note(user.name, subject.name);
        });
        return;
    }
    _routes.forEachContact(subject.name, [&](const std::string& contact) {
        const OnlineUser* user = _directory.find(contact);
        if (user && isPeerchat(*user) && sees(contact, subject)) note(contact, subject.name);
    });
}

ContactRoutes::Taken PresenceRouter::declare(const ContactsDeclaration& part)
{
    const OnlineUser* declarer = _directory.find(part.name);
    const std::uint64_t held = _routes.versionOf(part.name);
    // A later version (another state, a contact more or less) is told as
    // deltas: to whoever sees the declarer, and to the declarer about the
    // contacts it added or dropped; the first list of a session, and the
    // list held declared again (peerd asking to resync), as a snapshot.
    std::vector<std::string> before;
    if (declarer && part.version > held) {
        noteViewersOf(*declarer);
        if (held != 0) before = _routes.contactsOf(part.name);
    }
    const ContactRoutes::Taken taken = _routes.declare(part);
    if (taken != ContactRoutes::Taken::Complete) return taken;
    const bool changed = _routes.versionOf(part.name) != held;
    if (declarer && changed) {
        noteViewersOf(*declarer);
        if (held != 0) noteSeenChanges(*declarer, before);
    }
    if (!changed || held == 0) snapshotTo(part.name);
    return taken;
}

void PresenceRouter::arrived(const OnlineUser& user)
{
    noteViewersOf(user);
}

void PresenceRouter::left(const OnlineUser& user)
{
    noteViewersOf(user);
    _routes.forget(user.name);
}

void PresenceRouter::noteSeenChanges(const OnlineUser& recipient, const std::vector<std::string>& before)
{
    const std::vector<std::string> after = _routes.contactsOf(recipient.name);
    std::vector<std::string> changed;
    std::set_symmetric_difference(before.begin(), before.end(), after.begin(), after.end(),
                                  std::back_inserter(changed));
    for (const std::string& contact : changed) {
        // Seen before (it lists the recipient and shows itself) or seen now:
        // either way it lists the recipient and is not invisible.
        const OnlineUser* user = _directory.find(contact);
        if (user && user->dialect == Dialect::Peerchat && _routes.declares(contact, recipient.name)
            && _routes.stateOf(contact) != PresenceState::Invisible)
            note(recipient.name, contact);
    }
}

void PresenceRouter::snapshotTo(const std::string& recipient)
{
    if (!pending()) _wake();
    _snapshots.push_back(recipient);
}

void PresenceRouter::flush()
{
    std::vector<std::pair<std::string, std::string>> pairs;
    std::vector<std::string> snapshots;
    pairs.swap(_pairs);
    snapshots.swap(_snapshots);
    std::sort(snapshots.begin(), snapshots.end());
    snapshots.erase(std::unique(snapshots.begin(), snapshots.end()), snapshots.end());
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());

    for (const std::string& name : snapshots) {
        const OnlineUser* recipient = _directory.find(name);
        if (recipient && isPeerchat(*recipient)) sendSnapshot(*recipient);
    }
    for (auto first = pairs.begin(); first != pairs.end();) {
        const auto last = std::find_if(first, pairs.end(), [&](const auto& pair) { return pair.first != first->first; });
        const OnlineUser* recipient = _directory.find(first->first);
        // A snapshot sent this tick holds everything as it stands now.
        if (recipient && isPeerchat(*recipient) && !std::binary_search(snapshots.begin(), snapshots.end(), first->first))
            sendUpdates(*recipient, first, last);
        first = last;
    }
}

Here PresenceRouter::hereOf(const OnlineUser& subject, const ContactRoutes& routes)
{
    const bool peerchat = subject.dialect == Dialect::Peerchat;
    return Here{0,
                subject.name,
                subject.endpoint,
                std::string(dialectToken(subject.dialect)),
                subject.keys,
                peerchat ? routes.stateOf(subject.name) : PresenceState::Online,
                peerchat ? routes.statusOf(subject.name) : std::string()};
}

void PresenceRouter::sendSnapshot(const OnlineUser& recipient)
{
    std::vector<const OnlineUser*> seen;
    _routes.forEachContact(recipient.name, [&](const std::string& contact) {
        const OnlineUser* user = _directory.find(contact);
        if (user && user->dialect == Dialect::Peerchat && sees(recipient.name, *user)) seen.push_back(user);
    });
    if (_legacy) {
        _directory.forEachUser([&](const OnlineUser& user) {
            if (user.dialect != Dialect::Peerchat) seen.push_back(&user);
        });
    }
    const std::uint64_t first = _directory.takePresenceSeqs(recipient.name, 1 + seen.size());
    std::vector<std::string> messages;
    messages.reserve(1 + seen.size());
    messages.push_back(Protocol::encode(Snapshot{first, seen.size()}));
    std::uint64_t seq = first;
    for (const OnlineUser* user : seen) {
        Here here = hereOf(*user, _routes);
        here.seq = ++seq;
        messages.push_back(Protocol::encode(here));
    }
    send(recipient.name, messages);
}

void PresenceRouter::sendUpdates(const OnlineUser& recipient,
                                 std::vector<std::pair<std::string, std::string>>::const_iterator first,
                                 std::vector<std::pair<std::string, std::string>>::const_iterator last)
{
    std::uint64_t seq = _directory.takePresenceSeqs(recipient.name, static_cast<std::uint64_t>(last - first));
    std::vector<std::string> messages;
    messages.reserve(static_cast<std::size_t>(last - first));
    for (auto it = first; it != last; ++it) {
        const OnlineUser* subject = _directory.find(it->second);
        if (subject && sees(recipient.name, *subject)) {
            Here here = hereOf(*subject, _routes);
            here.seq = seq++;
            messages.push_back(Protocol::encode(here));
        } else {
            messages.push_back(Protocol::encode(Gone{seq++, it->second}));
        }
    }
    send(recipient.name, messages);
}

void PresenceRouter::send(const std::string& recipient, const std::vector<std::string>& messages)
{
    std::string bundle;
    for (const std::string& message : messages) {
        if (!bundle.empty() && bundle.size() + 1 + message.size() > Protocol::kMaxBundleBytes) {
            _sealed.sendText(recipient, bundle);
            bundle.clear();
        }
        if (!bundle.empty()) bundle += Protocol::kBundleSeparator;
        bundle += message;
    }
    if (!bundle.empty()) _sealed.sendText(recipient, bundle);
}

} // namespace peerchat
