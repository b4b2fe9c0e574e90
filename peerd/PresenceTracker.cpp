#include "PresenceTracker.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

namespace peerchat {

namespace {

std::optional<PublicKey> identityOf(const std::optional<PeerKeys>& keys)
{
    return keys ? std::optional<PublicKey>(keys->identity) : std::nullopt;
}

std::uint64_t seqOf(const PresenceTracker::Presence& presence)
{
    return std::visit([](const auto& message) { return message.seq; }, presence);
}

} // namespace

PresenceTracker::PresenceTracker(Timers& timers, Roster& roster, const IndexVerifier& verifier, KeyTrust& trust,
                                 DropLog& drops, const Endpoint& index, std::chrono::milliseconds retry, Hooks hooks)
    : _roster(roster),
      _verifier(verifier),
      _trust(trust),
      _drops(drops),
      _index(index),
      _retry(retry),
      _hooks(std::move(hooks)),
      _backoff(retry),
      _waitTimer(timers),
      _logger(Poco::Logger::get("peerd.wire.presence"))
{
}

void PresenceTracker::start()
{
    _held.clear();
    _applied = 0;
    _indexAt = 0;
    _started = true;
    _based = false;
    _backoff = _retry;
    _waitTimer.start(_backoff, [this] { overdue(); });
}

void PresenceTracker::cancel()
{
    _started = false;
    _held.clear();
    _waitTimer.cancel();
}

void PresenceTracker::receive(const Presence& presence)
{
    if (!_started) {
        _logger.debug("presence while no login waits for it; ignored");
        return;
    }
    const std::uint64_t seq = seqOf(presence);
    if (seq <= _applied) {
        _logger.debug("presence %?u is not newer than %?u; ignored", seq, _applied);
        return;
    }
    if (_held.count(seq) > 0) return;
    if (_held.size() >= kMaxHeld) {
        // Something lost long ago holds everything up: what waits is dropped, and a fresh snapshot asked for.
        const std::string why = behind();
        _held.clear();
        resync(why);
        if (!_started) return;
    }
    _held.emplace(seq, presence);
    settle();
}

void PresenceTracker::seen(std::uint64_t seq)
{
    if (!_started) return;
    _indexAt = std::max(_indexAt, seq);
    settle();
}

void PresenceTracker::heartbeat()
{
    if (!_started || !_trust.keysUnseen()) return;
    _logger.information("a key presented could not be pinned; asking indexd for presence again");
    _hooks.resync();
}

// Applies what can be: the newest complete snapshot held (which makes
// whatever came before it moot), then what follows the last number applied,
// in order. Waits, with the timer, while anything is left.
void PresenceTracker::settle()
{
    if (const Snapshot* snapshot = completeSnapshot()) applySnapshot(*snapshot);
    while (_based && !_held.empty() && _held.begin()->first == _applied + 1) {
        const auto next = _held.begin();
        if (std::holds_alternative<Snapshot>(next->second)) break;  // its entries are not all in
        const Presence presence = std::move(next->second);
        _held.erase(next);
        _applied = seqOf(presence);
        if (const auto* here = std::get_if<Here>(&presence)) {
            applyHere(*here);
        } else {
            applyGone(std::get<Gone>(presence));
        }
    }
    if (inOrder()) {
        _waitTimer.cancel();
        _backoff = _retry;
    } else if (!_waitTimer.armed()) {
        _waitTimer.start(_backoff, [this] { overdue(); });
    }
}

const Snapshot* PresenceTracker::completeSnapshot() const
{
    for (auto it = _held.rbegin(); it != _held.rend(); ++it) {
        const auto* snapshot = std::get_if<Snapshot>(&it->second);
        if (snapshot == nullptr) continue;
        bool complete = true;
        for (std::uint64_t i = 1; i <= snapshot->count && complete; ++i) {
            const auto entry = _held.find(snapshot->seq + i);
            complete = entry != _held.end() && std::holds_alternative<Here>(entry->second);
        }
        if (complete) return snapshot;
    }
    return nullptr;
}

// Replaces the roster with the snapshot's entries but for self and those
// whose keys do not pass; the first snapshot of a login makes it loaded.
void PresenceTracker::applySnapshot(Snapshot snapshot)
{
    std::vector<Here> entries;
    for (std::uint64_t i = 1; i <= snapshot.count; ++i) entries.push_back(std::get<Here>(_held.at(snapshot.seq + i)));
    _applied = snapshot.seq + snapshot.count;
    _held.erase(_held.begin(), _held.upper_bound(_applied));

    std::map<PublicKey, std::vector<const std::string*>> namesByKx;
    for (const Here& entry : entries) {
        if (entry.keys) namesByKx[entry.keys->kx].push_back(&entry.name);
    }
    std::map<std::string, Roster::Peer> peers;
    for (const Here& entry : entries) {
        if (entry.name == _roster.self()) continue;
        std::string why = _verifier.checkKeys(entry.name, entry.dialect, entry.keys);
        if (why.empty() && entry.keys) {
            std::string holder;
            for (const std::string* name : namesByKx[entry.keys->kx]) {
                if (*name != entry.name) holder = *name;
            }
            why = _trust.keysRefusal(entry.name, *entry.keys, holder);
        }
        if (!why.empty()) {
            _drops.drop(DropReason::Unauthentic, _index, "snapshot entry dropped: " + why);
            continue;
        }
        peers[entry.name] = Roster::peerOf(entry);
    }
    _trust.forgetUnseen();
    for (const auto& [name, peer] : peers) _trust.see(name, identityOf(peer.keys));
    _logger.debug("snapshot %?u: %z others online", snapshot.seq, peers.size());
    for (const Roster::Change& change : _roster.replace(std::move(peers))) _hooks.changed(change);
    const bool first = !_based;
    _based = true;
    _loaded = true;
    if (first) _hooks.loaded(_roster.peers().size());
}

void PresenceTracker::applyHere(const Here& here)
{
    if (here.name == _roster.self()) return;
    std::string why = _verifier.checkKeys(here.name, here.dialect, here.keys);
    if (why.empty() && here.keys) {
        const std::string* holder = _roster.holderOf(here.keys->kx, here.name);
        why = _trust.keysRefusal(here.name, *here.keys, holder ? *holder : std::string());
    }
    if (!why.empty()) {
        _drops.drop(DropReason::Unauthentic, _index, "here dropped: " + why);
        return;
    }
    _trust.see(here.name, identityOf(here.keys));
    if (const auto change = _roster.here(here.name, Roster::peerOf(here))) _hooks.changed(*change);
}

void PresenceTracker::applyGone(const Gone& gone)
{
    if (const auto change = _roster.gone(gone.name)) _hooks.changed(*change);
}

bool PresenceTracker::inOrder() const
{
    return _based && _held.empty() && _indexAt <= _applied;
}

std::string PresenceTracker::behind() const
{
    if (!_based) return "no snapshot since indexd's welcome";
    if (!_held.empty()) {
        return std::to_string(_held.size()) + " presence messages wait for " + std::to_string(_applied + 1);
    }
    return "indexd is at presence " + std::to_string(_indexAt) + ", peerd at " + std::to_string(_applied);
}

void PresenceTracker::overdue()
{
    if (_started && !inOrder()) resync(behind());
}

// Asks for presence again, and waits twice as long for the next try (up to
// kRetryGrowth times the retry). While connecting it gives up once the wait
// has grown past its longest, and the next hello logs in again.
void PresenceTracker::resync(const std::string& why)
{
    const bool online = _hooks.online();
    const std::chrono::milliseconds longest = _retry * kRetryGrowth;
    if (!online && !_based && _backoff > longest) {
        _started = false;
        _held.clear();
        const std::string detail = "indexd sent no presence since its welcome; logging in again";
        _logger.warning(detail);
        _hooks.failed(detail);
        return;
    }
    const std::chrono::milliseconds wait = std::min(_backoff, longest);
    _backoff = wait * 2;
    _hooks.resync();
    _waitTimer.start(wait, [this] { overdue(); });
    if (online) {
        _logger.information("asking indexd for presence again (" + why + ")");
        return;
    }
    const std::string detail = "indexd has not said who is online yet (" + why + "); asking again in " +
                               std::to_string(wait.count()) + " ms";
    _logger.warning(detail);
    _hooks.failed(detail);
}

} // namespace peerchat
