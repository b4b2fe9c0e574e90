#include "PresenceTracker.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

namespace peerchat {

namespace {

// A failed roster fetch waits rosterRetry, doubling up to this many times that.
constexpr int kRetryGrowth = 16;

std::optional<PublicKey> identityOf(const std::optional<PeerKeys>& keys)
{
    return keys ? std::optional<PublicKey>(keys->identity) : std::nullopt;
}

std::uint64_t seqOf(const PresenceTracker::Presence& presence)
{
    return std::visit([](const auto& announcement) { return announcement.seq; }, presence);
}

} // namespace

PresenceTracker::PresenceTracker(Timers& timers, RosterFetcher& fetcher, Roster& roster,
                                 const IndexVerifier& verifier, KeyTrust& trust, DropLog& drops,
                                 const Endpoint& index, std::chrono::milliseconds rosterRetry, Hooks hooks)
    : _timers(timers),
      _fetcher(fetcher),
      _roster(roster),
      _verifier(verifier),
      _trust(trust),
      _drops(drops),
      _index(index),
      _rosterRetry(rosterRetry),
      _hooks(std::move(hooks)),
      _backoff(rosterRetry),
      _retryTimer(timers),
      _logger(Poco::Logger::get("peerd.wire.presence"))
{
}

void PresenceTracker::start(const Endpoint& rosterServer, const Epoch& epoch)
{
    _rosterServer = rosterServer;
    _epoch = epoch;
    _duringFetch.clear();
    _retryTimer.cancel();
    _backoff = _rosterRetry;
    fetch();
}

void PresenceTracker::cancel()
{
    _retryTimer.cancel();
    _fetcher.cancel();
    _duringFetch.clear();
}

void PresenceTracker::fetch()
{
    _fetchFloor = _roster.presenceSeq();
    _fetcher.fetch(_rosterServer, [this](Parsed<RosterFetcher::Snapshot> roster) { fetched(std::move(roster)); });
}

void PresenceTracker::refresh()
{
    if (!_hooks.online() || pending()) return;
    _logger.information("reading the roster again from " + _rosterServer.toString());
    fetch();
}

void PresenceTracker::heartbeat()
{
    if (_stale || _trust.keysUnseen()) refresh();
}

// A fetch failed on its way (connect, deadline, a malformed stream): tries
// again after a back-off that doubles. Online, it keeps trying; while
// connecting it gives up once the back-off has grown past its longest, and
// the next hello logs in again: indexd may have restarted with its roster on
// another port, which only a new welcome tells.
void PresenceTracker::retry(const std::string& why)
{
    const bool online = _hooks.online();
    const std::chrono::milliseconds longest = _rosterRetry * kRetryGrowth;
    if (!online && _backoff > longest) {
        _backoff = _rosterRetry;
        const std::string detail = "could not read the roster (" + why + "); logging in again";
        _logger.warning(detail);
        _hooks.failed(detail);
        return;
    }
    const std::chrono::milliseconds wait = std::min(_backoff, longest);
    _backoff = wait * 2;
    _retryTimer.start(wait, [this] { fetch(); });
    const std::string tryAgain = "; trying again in " + std::to_string(wait.count()) + " ms";
    if (online) {
        _stale = true;
        _logger.warning("could not read the roster again (" + why + ")" + tryAgain);
        return;
    }
    const std::string detail = "could not read the roster (" + why + ")" + tryAgain;
    _logger.warning(detail);
    _hooks.failed(detail);
}

void PresenceTracker::fetched(Parsed<RosterFetcher::Snapshot> roster)
{
    std::vector<Presence> duringFetch = std::move(_duringFetch);
    _duringFetch.clear();
    if (!roster) {
        retry(roster.error());
        return;
    }
    std::string refusal = _verifier.checkRoster(roster->trailer, roster->nonce);
    std::vector<RosterEntry> users;
    std::optional<std::vector<Roster::Change>> changes;
    if (refusal.empty()) {
        users = checkedEntries(roster->users);
        changes = _roster.replace(users, _epoch, roster->trailer.seq, _fetchFloor);
        if (!changes) {
            refusal = "roster at presence announcement " + std::to_string(roster->trailer.seq) + " is older than " +
                      std::to_string(_fetchFloor) + ", which peerd had applied when it asked for it";
        }
    }
    if (!refusal.empty()) {
        // Not what indexd signed for this run and this fetch, or older than
        // what it had: asking the same port again at once would not help.
        if (_hooks.online()) {
            _logger.warning("could not read the roster again (" + refusal + "); trying at the next heartbeat");
            _stale = true;
            return;
        }
        const std::string detail = "could not read the roster (" + refusal + "); logging in again";
        _logger.warning(detail);
        _hooks.failed(detail);
        return;
    }
    _backoff = _rosterRetry;
    _loaded = true;
    _stale = false;
    _trust.forgetUnseen();
    for (const RosterEntry& entry : users) _trust.see(entry.name, identityOf(entry.keys));
    for (const Roster::Change& change : *changes) _hooks.changed(change);
    // indexd may have written the snapshot before a broadcast that reached us
    // first: replay those the snapshot does not include, in order.
    for (const Presence& presence : duringFetch) apply(presence);
    _hooks.loaded(_roster.peers().size());
    if (_stale) refresh();
}

// The entries of a roster whose signature checked out, but for self and
// those whose keys do not pass.
std::vector<RosterEntry> PresenceTracker::checkedEntries(const std::vector<RosterEntry>& entries)
{
    std::map<PublicKey, std::vector<const std::string*>> namesByKx;
    for (const RosterEntry& entry : entries) {
        if (entry.keys) namesByKx[entry.keys->kx].push_back(&entry.name);
    }
    std::vector<RosterEntry> users;
    for (const RosterEntry& entry : entries) {
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
            _drops.drop(DropReason::Unauthentic, _index, "roster entry dropped: " + why);
            continue;
        }
        users.push_back(entry);
    }
    return users;
}

void PresenceTracker::announce(const Presence& presence)
{
    if (_fetcher.busy()) _duringFetch.push_back(presence);
    apply(presence);
    if (_stale) refresh();
}

void PresenceTracker::seen(std::uint64_t seq)
{
    // A newer number than the last one applied: an announcement was lost.
    if (seq > _roster.presenceSeq() && !_stale) {
        _logger.information("indexd is at presence announcement " + std::to_string(seq) + ", peerd at " +
                            std::to_string(_roster.presenceSeq()));
        _stale = true;
    }
    if (_stale) refresh();
}

// Applies an announcement newer than the last one applied; a skipped number
// marks the roster stale.
void PresenceTracker::apply(const Presence& presence)
{
    const std::uint64_t seq = seqOf(presence);
    const std::uint64_t last = _roster.presenceSeq();
    if (!_roster.advance(seq)) {
        _logger.debug("presence announcement " + std::to_string(seq) + " is not newer than " +
                      std::to_string(last) + "; ignored");
        return;
    }
    if (seq > last + 1) {
        _logger.information("presence announcement " + std::to_string(seq) + " follows " + std::to_string(last) +
                            ": some were lost");
        _stale = true;
    }
    std::optional<Roster::Change> change;
    if (const auto* login = std::get_if<Login>(&presence)) {
        const bool other = login->name != _roster.self();
        if (login->keys && other) {
            const std::string* holder = _roster.holderOf(login->keys->kx, login->name);
            const std::string why = _trust.keysRefusal(login->name, *login->keys, holder ? *holder : std::string());
            if (!why.empty()) {
                _drops.drop(DropReason::Unauthentic, _index, "login announcement dropped: " + why);
                return;
            }
        }
        if (other) _trust.see(login->name, identityOf(login->keys));
        change = _roster.login(login->name, Roster::Peer{login->endpoint, Roster::dialectOf(login->dialect),
                                                         login->keys});
    } else {
        const Logout& logout = std::get<Logout>(presence);
        change = _roster.logout(logout.name, logout.endpoint);
        if (!change) {
            _logger.debug("logout of " + logout.name + " at " + logout.endpoint.toString() + " changes nothing");
        }
    }
    if (change) _hooks.changed(*change);
}

} // namespace peerchat
