#include "PeerPaths.h"

#include "KxKeyPair.h"

#include <sodium.h>

#include <algorithm>

namespace peerchat {

namespace {

// Lower is better: the order in which kinds of path are preferred.
int rank(PathKind kind)
{
    switch (kind) {
    case PathKind::Lan: return 0;
    case PathKind::Direct: return 1;
    case PathKind::Relay: return 2;
    case PathKind::None: break;
    }
    return 3;
}

ProbeToken randomToken()
{
    ProbeToken token{};
    randombytes_buf(token.data(), token.size());
    return token;
}

} // namespace

std::string_view pathToken(PathKind kind)
{
    switch (kind) {
    case PathKind::Lan: return "lan";
    case PathKind::Direct: return "direct";
    case PathKind::Relay: return "relay";
    case PathKind::None: break;
    }
    return "none";
}

PeerPaths::PeerPaths(Timers& timers, DatagramSink& sink, DatagramSink& relay, const Roster& roster,
                     PeerSessions& sessions, std::string self, Hooks hooks)
    : _timers(timers),
      _sink(sink),
      _relay(relay),
      _roster(roster),
      _sessions(sessions),
      _self(std::move(self)),
      _hooks(std::move(hooks)),
      _timer(timers),
      _logger(Poco::Logger::get("peerd.wire.paths"))
{
}

PeerPaths::State* PeerPaths::stateOf(const std::string& name)
{
    const auto it = _peers.find(name);
    if (it != _peers.end()) return &it->second;
    const Roster::Peer* peer = _roster.find(name);
    if (peer == nullptr) return nullptr;
    State state;
    state.registered = peer->endpoint;
    return &_peers.emplace(name, std::move(state)).first->second;
}

bool PeerPaths::proven(const State& state, Timers::TimePoint now) const
{
    return state.route && now - state.route->heard < kStale;
}

// A host candidate is a LAN path unless it is where indexd sees the peer too
// (a peer with a public address: its host candidate is on the internet).
PathKind PeerPaths::kindAt(const State& state, const Endpoint& endpoint) const
{
    for (const Candidate& candidate : state.candidates) {
        if (candidate.endpoint != endpoint) continue;
        if (candidate.kind == CandidateKind::Relay) return PathKind::Relay;
        if (candidate.kind == CandidateKind::Host && endpoint != state.registered) return PathKind::Lan;
    }
    return PathKind::Direct;
}

void PeerPaths::seal(const std::string& name, const Message& message, const Endpoint& to, bool relayed)
{
    seal(name, Protocol::encode(message), Protocol::verb(message), to, relayed);
}

void PeerPaths::seal(const std::string& name, std::string_view plaintext, std::string_view what, const Endpoint& to,
                     bool relayed)
{
    const Roster::Peer* peer = _roster.find(name);
    if (peer == nullptr || !peer->keys) {
        _logger.debug(std::string(what) + " to " + name + " not sent: " + name + " is not online with keys");
        return;
    }
    const Parsed<Seal> seal = _sessions.sealTo(name, *peer->keys, plaintext);
    if (!seal) {
        // A malicious indexd can present such keys: debug, as the drops it causes.
        _logger.debug(std::string(what) + " to " + name + " not sent: " + seal.error());
        return;
    }
    (relayed ? _relay : _sink).sendTo(Protocol::encodeDatagram(*seal, TextEncoding::Utf8), to);
}

void PeerPaths::send(const std::string& name, const Message& message)
{
    send(name, std::vector<Message>{message});
}

void PeerPaths::send(const std::string& name, const std::vector<Message>& messages)
{
    State* state = stateOf(name);
    if (state == nullptr) {
        _logger.debug(std::to_string(messages.size()) + " messages to " + name + " not sent: " + name +
                      " is not online");
        return;
    }
    const auto now = _timers.now();
    state->lastUsed = now;
    const bool lines =
        std::any_of(messages.begin(), messages.end(), [](const Message& m) { return std::holds_alternative<Msg>(m); });
    if (lines) askCaps(name, *state, now);
    const Endpoint to = state->route ? state->route->endpoint : state->registered;
    const bool relayed = state->route && state->route->relayed;
    const State* known = capsState(name, *state);
    if (known == nullptr || !known->bundles.value_or(false)) {
        for (const Message& message : messages) seal(name, message, to, relayed);
    } else {
        // Each message is written into the bundle where it goes; one that
        // makes the bundle too long goes out first in the next.
        std::string bundle;
        bundle.reserve(Protocol::kMaxBundleBytes);
        for (const Message& message : messages) {
            const std::size_t end = bundle.size();
            if (end > 0) bundle += Protocol::kBundleSeparator;
            Protocol::appendEncoded(bundle, message);
            if (end > 0 && bundle.size() > Protocol::kMaxBundleBytes) {
                std::string next = bundle.substr(end + 1);
                bundle.resize(end);
                seal(name, bundle, "bundle", to, relayed);
                bundle = std::move(next);
                bundle.reserve(Protocol::kMaxBundleBytes);
            }
        }
        if (!bundle.empty()) seal(name, bundle, "bundle", to, relayed);
    }
    // A msg is always acked: when nothing at all comes back in time, the
    // route is not (or no longer) a path, whatever it was before.
    if (lines && !state->punchAt && !state->seekUntil) {
        state->punchAt = now + kPunchAfter;
        armBy(*state->punchAt);
    }
}

void PeerPaths::sendPlain(const std::string& name, const Talk& talk)
{
    const Roster::Peer* peer = _roster.find(name);
    if (peer == nullptr) return;
    const TextEncoding encoding = peer->dialect == Dialect::DotNet ? TextEncoding::Utf16le : TextEncoding::Utf8;
    _sink.sendTo(Protocol::encodeDatagram(talk, encoding), peer->endpoint);
}

bool PeerPaths::knows(const Endpoint& from) const
{
    return _roster.nameAt(from) != nullptr || _byEndpoint.count(from) > 0;
}

const std::string* PeerPaths::peerAt(const Endpoint& from, const KeyId& sender) const
{
    if (const std::string* registered = _roster.nameAt(from)) return registered;
    return knownAt(from, sender);
}

// The peer whose candidate or route is from and whose key id is sender.
const std::string* PeerPaths::knownAt(const Endpoint& from, const KeyId& sender) const
{
    const auto [first, last] = _byEndpoint.equal_range(from);
    for (auto it = first; it != last; ++it) {
        if (holdsKey(it->second, sender)) return &it->second;
    }
    return nullptr;
}

bool PeerPaths::holdsKey(const std::string& name, const KeyId& sender) const
{
    const Roster::Peer* peer = _roster.find(name);
    return peer != nullptr && peer->keys && KxKeyPair::idOf(peer->keys->kx) == sender;
}

const std::string* PeerPaths::peerRelayedFrom(const Endpoint& from, const KeyId& sender) const
{
    // Once relayed datagrams have made a route, they come from its endpoint: no walk.
    if (const std::string* routed = knownAt(from, sender)) return routed;
    const auto atHost = [&from](const State& state) {
        if (state.registered.host() == from.host()) return true;
        return std::any_of(state.candidates.begin(), state.candidates.end(),
                           [&from](const Candidate& candidate) { return candidate.endpoint.host() == from.host(); });
    };
    for (const auto& [name, state] : _peers) {
        if (atHost(state) && holdsKey(name, sender)) return &name;
    }
    return nullptr;
}

void PeerPaths::heard(const std::string& name, const Endpoint& from, bool relayed)
{
    State* state = stateOf(name);
    if (state == nullptr) return;
    const auto now = _timers.now();
    if (state->route && state->route->endpoint == from && state->route->relayed == relayed) {
        state->route->heard = now;
        state->missedKeepalives = 0;
        state->punchAt.reset();
        return;
    }
    const PathKind kind = relayed ? PathKind::Relay : kindAt(*state, from);
    if (proven(*state, now) && rank(kind) >= rank(state->route->kind)) return;
    state->missedKeepalives = 0;
    state->punchAt.reset();
    setRoute(name, *state, Route{from, kind, now, relayed});
}

void PeerPaths::meet(const Meet& meet)
{
    const Roster::Peer* peer = _roster.find(meet.peer);
    if (peer == nullptr || peer->dialect != Dialect::Peerchat || !peer->keys) {
        _logger.debug("meet for " + meet.peer + ", who is not online with keys, ignored");
        return;
    }
    State& state = *stateOf(meet.peer);
    state.candidates = meet.candidates;
    reindex(meet.peer, state);
    _logger.information("indexd introduces " + meet.peer + ": probing " + CandidateList::format(meet.candidates));
    seek(meet.peer, state, _timers.now());
    arm();
}

void PeerPaths::probe(const std::string& name, const Probe& probe, const Endpoint& from, bool relayed)
{
    seal(name, Probed{_self, name, probe.token}, from, relayed);
}

void PeerPaths::relayReady()
{
    const auto now = _timers.now();
    for (auto& [name, state] : _peers) {
        if (!state.seekUntil || proven(state, now)) continue;
        introduce(name, state, now);
        seek(name, state, now);
    }
    arm();
}

void PeerPaths::relayLost()
{
    for (auto& [name, state] : _peers) {
        if (!state.route || !state.route->relayed) continue;
        _logger.information("path to " + name + " lost: the relay it went through is gone");
        setRoute(name, state, std::nullopt);
    }
}

PeerPaths::State* PeerPaths::capsState(const std::string& name, State& state)
{
    const Roster::Peer* peer = _roster.find(name);
    if (peer == nullptr || !peer->keys) return nullptr;
    if (state.capsOf != peer->keys->kx) {
        // Another login of the peer, perhaps by another build: nothing it said holds.
        state.capsOf = peer->keys->kx;
        state.bundles.reset();
        state.capsSent.reset();
        state.capsAsked = 0;
    }
    return &state;
}

void PeerPaths::askCaps(const std::string& name, State& state, Timers::TimePoint now)
{
    State* current = capsState(name, state);
    if (current == nullptr || current->bundles || current->capsAsked >= kCapsTries) return;
    if (current->capsSent && now - *current->capsSent < kCapsEvery) return;
    ++current->capsAsked;
    sendCaps(name, *current, false, now);
}

void PeerPaths::sendCaps(const std::string& name, State& state, bool answer, Timers::TimePoint now)
{
    state.capsSent = now;
    const Caps caps{_self, name, std::string(kBundleFeature), answer};
    seal(name, caps, state.route ? state.route->endpoint : state.registered, state.route && state.route->relayed);
}

void PeerPaths::caps(const std::string& name, const Caps& caps)
{
    State* found = stateOf(name);
    State* state = found == nullptr ? nullptr : capsState(name, *found);
    if (state == nullptr) return;
    state->bundles = caps.offers(kBundleFeature);
    const auto now = _timers.now();
    // At most one caps per kCapsEvery: two that ask at once need no answers, and nobody sets our pace.
    if (!caps.answer && !(state->capsSent && now - *state->capsSent < kCapsEvery)) sendCaps(name, *state, true, now);
}

void PeerPaths::peerChanged(const Roster::Change& change)
{
    const auto it = _peers.find(change.name);
    if (it == _peers.end()) return;
    if (change.online && it->second.registered == change.peer.endpoint) return;
    // Gone, or logged in from elsewhere: nothing learnt of the old endpoint holds.
    const bool hadRoute = it->second.route.has_value();
    const PathKind before = kindOf(change.name);
    _peers.erase(it);
    for (auto entry = _byEndpoint.begin(); entry != _byEndpoint.end();) {
        entry = entry->second == change.name ? _byEndpoint.erase(entry) : std::next(entry);
    }
    if (hadRoute && before != PathKind::None) _hooks.changed(change.name, PathKind::None);
    arm();
}

PathKind PeerPaths::kindOf(const std::string& name) const
{
    const auto it = _peers.find(name);
    return it != _peers.end() && it->second.route ? it->second.route->kind : PathKind::None;
}

void PeerPaths::seek(const std::string& name, State& state, Timers::TimePoint now)
{
    state.seekUntil = now + kSeekFor;
    state.seekSince = now;
    state.nextProbe = now + kProbeEvery;
    sendProbes(name, state);
}

// Probes every candidate once, the better kinds first: host, the registered
// endpoint and other reflexive ones, relays.
void PeerPaths::sendProbes(const std::string& name, const State& state)
{
    std::vector<Endpoint> targets;
    const auto add = [&targets](const Endpoint& endpoint) {
        if (std::find(targets.begin(), targets.end(), endpoint) == targets.end()) targets.push_back(endpoint);
    };
    for (const CandidateKind kind : {CandidateKind::Host, CandidateKind::Reflexive, CandidateKind::Relay}) {
        if (kind == CandidateKind::Reflexive) add(state.registered);
        for (const Candidate& candidate : state.candidates) {
            if (candidate.kind == kind) add(candidate.endpoint);
        }
    }
    for (const Endpoint& target : targets) seal(name, Probe{_self, name, randomToken()}, target);
}

void PeerPaths::introduce(const std::string& name, State& state, Timers::TimePoint now)
{
    state.lastPunch = now;
    _hooks.introduce(name);
}

void PeerPaths::setRoute(const std::string& name, State& state, std::optional<Route> route)
{
    const PathKind before = state.route ? state.route->kind : PathKind::None;
    state.route = std::move(route);
    reindex(name, state);
    const PathKind now = state.route ? state.route->kind : PathKind::None;
    // A direct path is sought kUpgradeEvery after a relay became the route, not at once.
    if (now == PathKind::Relay && before != PathKind::Relay) state.lastPunch = _timers.now();
    if (state.route) {
        _logger.information("path to " + name + ": " + std::string(pathToken(now)) + " via " +
                            state.route->endpoint.toString() + (state.route->relayed ? " through our relay" : ""));
        _hooks.moved(name);
    }
    if (now != before) _hooks.changed(name, now);
    arm();
}

void PeerPaths::reindex(const std::string& name, const State& state)
{
    for (auto entry = _byEndpoint.begin(); entry != _byEndpoint.end();) {
        entry = entry->second == name ? _byEndpoint.erase(entry) : std::next(entry);
    }
    std::vector<Endpoint> endpoints;
    for (const Candidate& candidate : state.candidates) endpoints.push_back(candidate.endpoint);
    if (state.route) endpoints.push_back(state.route->endpoint);
    std::sort(endpoints.begin(), endpoints.end());
    endpoints.erase(std::unique(endpoints.begin(), endpoints.end()), endpoints.end());
    for (const Endpoint& endpoint : endpoints) _byEndpoint.emplace(endpoint, name);
}

// When state next has something to do: ask indexd, probe, or keep its route alive.
std::optional<Timers::TimePoint> PeerPaths::nextDue(const State& state) const
{
    std::optional<Timers::TimePoint> due = state.punchAt;
    const auto sooner = [&due](Timers::TimePoint at) { due = due ? std::min(*due, at) : at; };
    if (state.seekUntil) sooner(std::min(state.nextProbe, *state.seekUntil));
    if (state.route && _timers.now() - state.lastUsed < kActiveFor) {
        sooner(state.route->heard + kKeepalive * (state.missedKeepalives + 1));
        if (state.route->kind == PathKind::Relay) sooner(state.lastPunch.value_or(Timers::TimePoint{}) + kUpgradeEvery);
    }
    return due;
}

void PeerPaths::tickPeer(const std::string& name, State& state, Timers::TimePoint now)
{
    // Nothing came back since a msg went out (heard() would have cleared
    // it). While the probes find nothing, indexd is asked again: its meet to
    // the peer may have met an expired mapping of the peer's own.
    if (state.punchAt && now >= *state.punchAt) {
        state.punchAt.reset();
        if (!state.lastPunch || now - *state.lastPunch >= kPunchEvery) {
            _logger.information("no answer from " + name + " on its path; asking indexd to introduce us");
            introduce(name, state, now);
        }
        if (!state.seekUntil) seek(name, state, now);
        if (now + kPunchEvery < *state.seekUntil) state.punchAt = now + kPunchEvery;
    }
    if (state.seekUntil && now >= *state.seekUntil) {
        state.seekUntil.reset();
    } else if (state.seekUntil && now >= state.nextProbe) {
        state.nextProbe = now + kProbeEvery;
        sendProbes(name, state);
    }
    if (state.seekUntil && now - state.seekSince >= kRelayAfter && !proven(state, now)) _hooks.needRelay();
    if (!state.route || now - state.lastUsed >= kActiveFor) return;
    // A relay is the last resort: while one carries lines, a direct path is sought now and then.
    if (state.route->kind == PathKind::Relay && !state.seekUntil &&
        (!state.lastPunch || now - *state.lastPunch >= kUpgradeEvery)) {
        _logger.information("path to " + name + " is relayed; asking indexd to introduce us for a direct one");
        introduce(name, state, now);
        seek(name, state, now);
    }
    if (now < state.route->heard + kKeepalive * (state.missedKeepalives + 1)) return;
    if (state.missedKeepalives >= kKeepaliveMisses) {
        state.missedKeepalives = 0;
        _logger.information("path to " + name + " lost: no answer to " + std::to_string(kKeepaliveMisses) +
                            " keepalives");
        setRoute(name, state, std::nullopt);
        return;
    }
    ++state.missedKeepalives;
    seal(name, Probe{_self, name, randomToken()}, state.route->endpoint, state.route->relayed);
}

void PeerPaths::tick()
{
    const auto now = _timers.now();
    for (auto& [name, state] : _peers) tickPeer(name, state, now);
    arm();
}

void PeerPaths::arm()
{
    std::optional<Timers::TimePoint> due;
    for (const auto& [name, state] : _peers) {
        if (const auto at = nextDue(state)) due = due ? std::min(*due, *at) : *at;
    }
    if (!due) {
        _timer.cancel();
        return;
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*due - _timers.now());
    _armedFor = *due;
    _timer.start(std::max(wait, std::chrono::milliseconds(0)), [this] { tick(); });
}

// Every line sends through here: the timer is set again (a walk over every
// peer) only when it would fire too late for at, not once per line.
void PeerPaths::armBy(Timers::TimePoint at)
{
    if (_timer.armed() && _armedFor <= at) return;
    arm();
}

} // namespace peerchat
