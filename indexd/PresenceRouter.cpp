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
    return _routes.sees(recipient, subject.name);
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
    _routes.forEachViewer(subject.name, [&](const std::string& contact) {
        const OnlineUser* user = _directory.find(contact);
        if (user && isPeerchat(*user)) note(contact, subject.name);
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
    const OnlineUser* user = _directory.find(recipient);
    if (!user || !isPeerchat(*user)) return;
    sendSnapshot(*user);
    _hereFields.clear();
    // What was noted for it so far, the snapshot holds as it stands now.
    if (!_pairs.empty()) _snapshotAt[recipient] = _pairs.size();
}

void PresenceRouter::flush()
{
    std::vector<std::pair<std::string, std::string>> noted;
    noted.swap(_pairs);
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(noted.size());
    for (std::size_t i = 0; i < noted.size(); ++i) {
        const auto snapshot = _snapshotAt.find(noted[i].first);
        if (snapshot == _snapshotAt.end() || i >= snapshot->second) pairs.push_back(std::move(noted[i]));
    }
    _snapshotAt.clear();
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    for (auto first = pairs.begin(); first != pairs.end();) {
        const auto last = std::find_if(first, pairs.end(), [&](const auto& pair) { return pair.first != first->first; });
        const OnlineUser* recipient = _directory.find(first->first);
        if (recipient && isPeerchat(*recipient)) sendUpdates(*recipient, first, last);
        first = last;
    }
    // Cached for this flush only: a subject's here reads the same to every
    // recipient but for its number, until the subject changes.
    _hereFields.clear();
}

const std::string& PresenceRouter::hereFieldsOf(const OnlineUser& subject)
{
    auto [it, fresh] = _hereFields.try_emplace(subject.name);
    if (fresh) {
        const bool peerchat = subject.dialect == Dialect::Peerchat;
        it->second = Protocol::hereFields(Here{0,
                                               subject.name,
                                               subject.endpoint,
                                               std::string(dialectToken(subject.dialect)),
                                               subject.keys,
                                               peerchat ? _routes.stateOf(subject.name) : PresenceState::Online,
                                               peerchat ? _routes.statusOf(subject.name) : std::string()});
    }
    return it->second;
}

void PresenceRouter::sendSnapshot(const OnlineUser& recipient)
{
    std::vector<const OnlineUser*> seen;
    _routes.forEachSeen(recipient.name, [&](const std::string& contact) {
        const OnlineUser* user = _directory.find(contact);
        if (user && user->dialect == Dialect::Peerchat) seen.push_back(user);
    });
    if (_legacy) {
        _directory.forEachUser([&](const OnlineUser& user) {
            if (user.dialect != Dialect::Peerchat) seen.push_back(&user);
        });
    }
    std::uint64_t seq = _directory.takePresenceSeqs(recipient.name, 1 + seen.size());
    Bundles bundles(_sealed, recipient.name);
    bundles.add(Protocol::encode(Snapshot{seq, seen.size()}));
    for (const OnlineUser* user : seen) bundles.add(Protocol::numberedHere(++seq, hereFieldsOf(*user)));
}

void PresenceRouter::sendUpdates(const OnlineUser& recipient,
                                 std::vector<std::pair<std::string, std::string>>::const_iterator first,
                                 std::vector<std::pair<std::string, std::string>>::const_iterator last)
{
    std::uint64_t seq = _directory.takePresenceSeqs(recipient.name, static_cast<std::uint64_t>(last - first));
    Bundles bundles(_sealed, recipient.name);
    for (auto it = first; it != last; ++it) {
        const OnlineUser* subject = _directory.find(it->second);
        if (subject && sees(recipient.name, *subject))
            bundles.add(Protocol::numberedHere(seq++, hereFieldsOf(*subject)));
        else
            bundles.add(Protocol::encode(Gone{seq++, it->second}));
    }
}

PresenceRouter::Bundles::Bundles(SealedSender& sealed, const std::string& recipient)
    : _sealed(sealed), _recipient(recipient)
{
    _bundle.reserve(Protocol::kMaxBundleBytes);
}

PresenceRouter::Bundles::~Bundles()
{
    if (!_bundle.empty()) _sealed.sendText(_recipient, _bundle);
}

void PresenceRouter::Bundles::add(const std::string& message)
{
    if (!_bundle.empty() && _bundle.size() + 1 + message.size() > Protocol::kMaxBundleBytes) {
        _sealed.sendText(_recipient, _bundle);
        _bundle.clear();
    }
    if (!_bundle.empty()) _bundle += Protocol::kBundleSeparator;
    _bundle += message;
}

} // namespace peerchat
