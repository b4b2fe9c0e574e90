#include "WireLink.h"

#include "Fingerprint.h"
#include "OfflineBox.h"

#include <Poco/Exception.h>

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <utility>

namespace peerchat {

namespace {

// Heartbeats indexd may leave unanswered before peerd takes it for gone.
constexpr int kSilentHeartbeats = 3;
// Times an alive goes out again, a quarter heartbeat apart, while no seen answers it.
constexpr int kAliveResends = 2;
// A failed roster fetch waits Settings::rosterRetry, doubling up to this many times that.
constexpr int kRosterRetryGrowth = 16;

// interval made 10 % shorter or longer at random, so heartbeats of peerds
// that started together (after an indexd restart) spread out.
std::chrono::milliseconds jittered(std::chrono::milliseconds interval)
{
    return std::chrono::milliseconds(interval.count() * (900 + randombytes_uniform(201)) / 1000);
}

/// Why indexd refused a login, by the REASON token of its refusal.
enum class Refusal { Taken, Version, Key, Legacy, Auth, Busy, Other };

Refusal refusalOf(const std::string& reason)
{
    static const std::map<std::string, Refusal> reasons{
        {"taken", Refusal::Taken}, {"version", Refusal::Version}, {"key", Refusal::Key},
        {"legacy", Refusal::Legacy}, {"auth", Refusal::Auth},      {"busy", Refusal::Busy},
    };
    const auto it = reasons.find(reason);
    return it == reasons.end() ? Refusal::Other : it->second;
}

// This machine's wall clock as HH:MM:SS, 24-hour, local time: the time field of our lines.
std::string localClockText()
{
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
    return text;
}

std::int64_t nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::optional<PublicKey> identityOf(const std::optional<PeerKeys>& keys)
{
    return keys ? std::optional<PublicKey>(keys->identity) : std::nullopt;
}

std::uint64_t presenceSeqOf(const std::variant<Login, Logout>& presence)
{
    return std::visit([](const auto& announcement) { return announcement.seq; }, presence);
}

Message messageOf(const std::variant<Login, Logout>& presence)
{
    return std::visit([](const auto& announcement) { return Message(announcement); }, presence);
}

// What indexd's `full` means to the person whose line it refused, and what
// becomes of the line.
std::string fullDetail(const Full& full)
{
    const std::string& to = full.to;
    const std::string waits = ": your lines to " + to + " wait in the outbox and go out when " + to + " is online";
    switch (full.reason) {
    case FullReason::Recipient:
        return to + "'s mailbox at indexd is full (it holds as many offline lines for one person as indexd keeps)" +
               waits;
    case FullReason::Pair:
        return "indexd holds as many of your lines for " + to + " as it keeps from one sender for one person" + waits;
    case FullReason::Sender:
        return "indexd holds as many of your offline lines, to everyone, as it keeps from one sender" + waits;
    case FullReason::Disk:
        return "indexd has no room for offline lines now (its disk or its mailbox budget is full)" + waits;
    case FullReason::Unknown:
        return "indexd knows no user named " + to + " and keeps no lines for " + to + waits;
    case FullReason::Unstated:
        break;
    }
    return to + "'s mailbox at indexd is full" + waits;
}

} // namespace

struct WireLink::Dispatch
{
    WireLink& link;
    const Endpoint& from;

    void operator()(const Challenge& message) const { link.handleChallenge(message, from); }
    void operator()(const Welcome& message) const { link.handleWelcome(message, from); }
    void operator()(const Refuse& message) const { link.handleRefuse(message, from); }
    void operator()(const Login& message) const { link.handlePresence(message, from); }
    void operator()(const Logout& message) const { link.handlePresence(message, from); }
    void operator()(const Seal& message) const { link.handleSeal(message, from); }
    void operator()(const Relogin& message) const { link.handleRelogin(message, from); }
    void operator()(const Talk& message) const { link.handleTalk(message, from); }
    /// Verbs peerd never takes plain: those it sends, and what peerchat/3 seals.
    template <typename Other>
    void operator()(const Other& message) const
    {
        link.drop(DropReason::Unexpected, from,
                  "plain " + std::string(Protocol::verb(message)) + " is not a message for peerd");
    }
};

struct WireLink::SealedDispatch
{
    WireLink& link;
    const SealSource& source;

    void operator()(const Msg& message) const { link.handleMsg(message, source); }
    void operator()(const Ack& message) const { link.handleAck(message, source); }
    void operator()(const Seen& message) const { link.handleSeen(message, source); }
    void operator()(const Stored& message) const { link.handleStored(message, source); }
    void operator()(const Full& message) const { link.handleFull(message, source); }
    void operator()(const Mail& message) const { link.handleMail(message, source); }
    /// Verbs that never come sealed to peerd.
    template <typename Other>
    void operator()(const Other& message) const
    {
        link.drop(DropReason::Unexpected, source.from,
                  "sealed " + std::string(Protocol::verb(message)) + " is not a message for peerd");
    }
};

WireLink::WireLink(EventLoop& loop, DatagramSink& sink, Roster& roster, ConversationStore& store, KeyPins& pins,
                   const SigningKey& identity, WireListener& listener, Settings settings,
                   std::function<void(const std::string& why)> onRefused)
    : _loop(loop),
      _sink(sink),
      _roster(roster),
      _store(store),
      _pins(pins),
      _identity(identity),
      _listener(listener),
      _settings(std::move(settings)),
      _onRefused(std::move(onRefused)),
      _login(_settings.self, identity, _settings.index, _settings.indexKey, pins),
      _sessions(identity),
      _fetcher(loop, _settings.rosterDeadline),
      _outbox(_settings.retransmit),
      _inbox(store, _settings.receiveWindow),
      _rosterBackoff(_settings.rosterRetry),
      _logger(Poco::Logger::get("peerd.wire"))
{
}

WireLink::~WireLink()
{
    for (const EventLoop::TimerId timer : {_retryTimer, _heartbeatTimer, _retransmitTimer, _reloginCheckTimer,
                                           _aliveResendTimer, _rosterRetryTimer, _dropReportTimer}) {
        if (timer != 0) _loop.cancel(timer);
    }
}

void WireLink::start()
{
    // A line indexd already holds rests until its peer is seen; the rest go out once the roster says where to.
    std::map<std::string, std::map<std::uint64_t, local::LineState>> states;
    const auto now = Outbox::Clock::now();
    for (const OutboxEntry& entry : _store.outbox()) {
        auto conversation = states.find(entry.peer);
        if (conversation == states.end()) {
            conversation = states.emplace(entry.peer, std::map<std::uint64_t, local::LineState>()).first;
            for (const local::ChatLine& line : _store.history(entry.peer)) conversation->second[line.id] = line.state;
        }
        const auto state = conversation->second.find(entry.lineId);
        if (state != conversation->second.end() && state->second == local::LineState::Stored) {
            _outbox.rest(entry);
        } else {
            _outbox.queue(entry, now);
        }
    }
    if (_outbox.size() > 0) _logger.information(std::to_string(_outbox.size()) + " lines wait in the outbox");
    _logger.information("logging in to indexd at " + _settings.index.toString() + " as " + _settings.self +
                        " (identity " + Fingerprint::of(_identity.publicKey()) + ")" +
                        (_settings.legacy ? "; legacy mode: plain talk with seed and .NET clients is on" : ""));
    sendHello();
}

// Sends a hello (of the login round under way, or of a new one) and arms the
// retry; while a welcomed login's roster is on its way, or a fetch of it waits
// to be tried again, only waits for it.
void WireLink::sendHello()
{
    if (!_fetcher.busy() && _rosterRetryTimer == 0) {
        _sink.sendTo(Protocol::encodeDatagram(_login.hello(), TextEncoding::Utf8), _settings.index);
    }
    _retryTimer = _loop.runAfter(_settings.loginRetry, [this] {
        _retryTimer = 0;
        if (!_welcomed && !_silenceReported) {
            _silenceReported = true;
            const std::string detail = "no answer from indexd at " + _settings.index.toString() +
                                       " yet; retrying every " + std::to_string(_settings.loginRetry.count()) +
                                       " ms";
            _logger.warning(detail);
            setState(local::LinkState::Connecting, detail);
        }
        sendHello();
    });
}

void WireLink::handleDatagram(std::string_view bytes, const Endpoint& from)
{
    // Cheapest first: where it comes from, then its size, then its text.
    if (!fromKnownSource(from)) {
        drop(DropReason::Stranger, from, "neither from indexd nor from a peer online");
        return;
    }
    if (bytes.size() > Protocol::kMaxDatagramBytes) {
        drop(DropReason::Oversize, from,
             "more than the " + std::to_string(Protocol::kMaxDatagramBytes) + " bytes a datagram may have");
        return;
    }
    const Parsed<Inbound> inbound = Protocol::decodeDatagram(bytes);
    if (!inbound) {
        drop(DropReason::Malformed, from, inbound.error());
        return;
    }
    std::visit(Dispatch{*this, from}, inbound->message);
}

// True when from is indexd's endpoint or an online peer's (any port of a
// .NET peer's address in legacy mode): nobody else has anything to say to peerd.
bool WireLink::fromKnownSource(const Endpoint& from) const
{
    return from == _settings.index || _roster.nameAt(from) != nullptr ||
           (_settings.legacy && _roster.hasDotNetAt(from.host()));
}

bool WireLink::fromIndex(const Endpoint& from, std::string_view verb)
{
    if (from == _settings.index) return true;
    drop(DropReason::Unexpected, from, std::string(verb) + " not from indexd at " + _settings.index.toString());
    return false;
}

bool WireLink::sealedFromIndex(const SealSource& source, std::string_view verb)
{
    if (source.peer.empty()) return true;
    drop(DropReason::Unexpected, source.from, std::string(verb) + " sealed by " + source.peer + ", not by indexd");
    return false;
}

bool WireLink::sealedFromPeer(const SealSource& source, const std::string& name, std::string_view verb)
{
    if (source.peer.empty()) {
        drop(DropReason::Unexpected, source.from,
             std::string(verb) + " sealed by indexd, which carries no chat between peers");
        return false;
    }
    if (name != source.peer) {
        drop(DropReason::Unauthentic, source.from,
             std::string(verb) + " names " + name + " but was sealed by " + source.peer);
        return false;
    }
    return true;
}

void WireLink::handleChallenge(const Challenge& challenge, const Endpoint& from)
{
    if (!fromIndex(from, "challenge")) return;
    const LoginState::Answer answer = _login.answer(challenge);
    if (answer.refused) {
        refuseLogin(answer.detail);
        return;
    }
    if (!answer.auth) {
        drop(answer.dropped, from, answer.detail);
        return;
    }
    _sink.sendTo(Protocol::encodeDatagram(*answer.auth, TextEncoding::Utf8), _settings.index);
}

void WireLink::handleWelcome(const Welcome& welcome, const Endpoint& from)
{
    if (!fromIndex(from, "welcome")) return;
    LoginState::Verdict verdict = _login.check(welcome);
    if (verdict.outcome == LoginState::Verdict::Outcome::Dropped) {
        drop(DropReason::Unauthentic, from, verdict.detail);
        return;
    }
    if (!verdict.detail.empty()) _logger.notice(verdict.detail);
    LoginState::Welcomed& welcomed = *verdict.welcomed;
    if (!_sessions.renew(std::move(welcomed.kx), welcomed.indexIdentity, welcomed.indexKx)) {
        drop(DropReason::Unauthentic, from, "welcome carries an unusable key-exchange key");
        return;
    }
    _welcomed = true;
    _welcomedThisRun = true;
    _unheededRefusal.clear();
    _observed = welcomed.observed;
    _unansweredHeartbeats = 0;
    _verifier.reset(welcomed.indexIdentity, welcomed.epoch);
    _indexEpoch = welcomed.epoch;
    _rosterServer = Endpoint(Poco::Net::SocketAddress(_settings.index.host(), welcomed.rosterPort));
    _logger.information("indexd (" + Fingerprint::of(welcomed.indexIdentity) + ") welcomed " + _settings.self +
                        " at " + _observed.toString() + "; reading the roster from " + _rosterServer.toString());
    _presenceDuringFetch.clear();
    cancelRosterRetry();
    _rosterBackoff = _settings.rosterRetry;
    fetchRoster();
}

void WireLink::fetchRoster()
{
    _fetchFloor = _roster.presenceSeq();
    _fetcher.fetch(_rosterServer, [this](Parsed<RosterFetcher::Snapshot> roster) { rosterFetched(std::move(roster)); });
}

void WireLink::refreshRoster()
{
    if (_state != local::LinkState::Online || _fetcher.busy() || _rosterRetryTimer != 0) return;
    _logger.information("reading the roster again from " + _rosterServer.toString());
    fetchRoster();
}

// A fetch failed on its way (connect, deadline, a malformed stream): tries
// again after a back-off that doubles. Online, it keeps trying; while
// connecting it gives up once the back-off has grown past its longest, and
// the next hello logs in again: indexd may have restarted with its roster on
// another port, which only a new welcome tells.
void WireLink::retryRoster(const std::string& why)
{
    const bool online = _state == local::LinkState::Online;
    const std::chrono::milliseconds longest = _settings.rosterRetry * kRosterRetryGrowth;
    if (!online && _rosterBackoff > longest) {
        _rosterBackoff = _settings.rosterRetry;
        const std::string detail = "could not read the roster (" + why + "); logging in again";
        _logger.warning(detail);
        setState(local::LinkState::Connecting, detail);
        return;
    }
    const std::chrono::milliseconds wait = std::min(_rosterBackoff, longest);
    _rosterBackoff = wait * 2;
    _rosterRetryTimer = _loop.runAfter(wait, [this] {
        _rosterRetryTimer = 0;
        fetchRoster();
    });
    const std::string tryAgain = "; trying again in " + std::to_string(wait.count()) + " ms";
    if (online) {
        _rosterStale = true;
        _logger.warning("could not read the roster again (" + why + ")" + tryAgain);
        return;
    }
    const std::string detail = "could not read the roster (" + why + ")" + tryAgain;
    _logger.warning(detail);
    setState(local::LinkState::Connecting, detail);
}

void WireLink::cancelRosterRetry()
{
    if (_rosterRetryTimer != 0) _loop.cancel(_rosterRetryTimer);
    _rosterRetryTimer = 0;
}

void WireLink::rosterFetched(Parsed<RosterFetcher::Snapshot> roster)
{
    std::vector<Presence> presenceDuringFetch = std::move(_presenceDuringFetch);
    _presenceDuringFetch.clear();
    if (!roster) {
        retryRoster(roster.error());
        return;
    }
    std::string refusal = _verifier.checkRoster(roster->trailer, roster->nonce);
    std::vector<RosterEntry> users;
    std::optional<std::vector<Roster::Change>> changes;
    if (refusal.empty()) {
        users = checkedEntries(roster->users);
        changes = _roster.replace(users, _indexEpoch, roster->trailer.seq, _fetchFloor);
        if (!changes) {
            refusal = "roster at presence announcement " + std::to_string(roster->trailer.seq) + " is older than " +
                      std::to_string(_fetchFloor) + ", which peerd had applied when it asked for it";
        }
    }
    if (!refusal.empty()) {
        // Not what indexd signed for this run and this fetch, or older than
        // what it had: asking the same port again at once would not help.
        if (_state == local::LinkState::Online) {
            _logger.warning("could not read the roster again (" + refusal + "); trying at the next heartbeat");
            _rosterStale = true;
            return;
        }
        const std::string detail = "could not read the roster (" + refusal + "); logging in again";
        _logger.warning(detail);
        setState(local::LinkState::Connecting, detail);
        return;
    }
    _rosterBackoff = _settings.rosterRetry;
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
    _retryTimer = 0;
    _rosterLoaded = true;
    _rosterStale = false;
    _keysUnseen = false;
    for (const RosterEntry& entry : users) seeKeys(entry.name, identityOf(entry.keys));
    for (const Roster::Change& change : *changes) peerChanged(change);
    // indexd may have written the snapshot before a broadcast that reached us
    // first: replay those the snapshot does not include, in order.
    for (const Presence& presence : presenceDuringFetch) applyPresence(presence);
    if (_state != local::LinkState::Online) {
        _silenceReported = false;
        _unansweredHeartbeats = 0;
        setState(local::LinkState::Online, "logged in to indexd at " + _settings.index.toString() + " as " +
                                               _settings.self + "; " + std::to_string(_roster.peers().size()) +
                                               " other users online");
        _heartbeatTimer = _loop.runAfter(jittered(_settings.heartbeat), [this] { heartbeat(); });
    }
    transmitDue();
    if (_rosterStale) refreshRoster();
}

// The entries of a roster whose signature checked out, but for self and
// those whose keys do not pass.
std::vector<RosterEntry> WireLink::checkedEntries(const std::vector<RosterEntry>& entries)
{
    std::vector<RosterEntry> users;
    for (const RosterEntry& entry : entries) {
        if (entry.name == _settings.self) continue;
        std::string why = _verifier.checkKeys(entry.name, entry.dialect, entry.keys);
        if (why.empty() && entry.keys) {
            std::string holder;
            for (const RosterEntry& other : entries) {
                if (other.name != entry.name && other.keys && other.keys->kx == entry.keys->kx) holder = other.name;
            }
            why = keysRefusal(entry.name, *entry.keys, holder);
        }
        if (!why.empty()) {
            drop(DropReason::Unauthentic, _settings.index, "roster entry dropped: " + why);
            continue;
        }
        users.push_back(entry);
    }
    return users;
}

void WireLink::handleRefuse(const Refuse& refuse, const Endpoint& from)
{
    if (!fromIndex(from, "refuse")) return;
    if (refuse.name != _settings.self) {
        drop(DropReason::Unexpected, from, "refuse names " + refuse.name + ", not " + _settings.self);
        return;
    }
    if (_state == local::LinkState::Online || _state == local::LinkState::Refused) {
        drop(DropReason::Unexpected, from, "refuse after the login was settled");
        return;
    }
    // Nobody signs a refusal, and anyone can send one from indexd's address:
    // only one that echoes this login's own hello or auth comes from indexd.
    if (!_login.echoesOwn(refuse.echo)) {
        drop(DropReason::Unauthentic, from,
             "refuse," + refuse.name + "," + refuse.reason +
                 " echoes no hello or auth of this login (forged, or late)");
        return;
    }
    std::string detail = "indexd refused " + _settings.self;
    bool transient = false;
    switch (refusalOf(refuse.reason)) {
    case Refusal::Auth:
        // The challenge expired on its way, or an answer crossed a newer one: the next hello asks again.
        _logger.warning(detail + "'s answer to its challenge (expired or not valid); asking again");
        return;
    case Refusal::Busy:
        detail += " for now: too many logins under this identity key in a short time; peerd keeps trying every " +
                  std::to_string(_settings.loginRetry.count()) + " ms";
        transient = true;
        break;
    case Refusal::Taken:
        detail += ": the name is online from another endpoint; choose another --user or stop the other peerd";
        break;
    case Refusal::Key:
        detail += ": the name belongs to another identity key; start peerd with the key file that registered it "
                  "(--key FILE) or choose another --user";
        break;
    case Refusal::Version:
        detail += ": it does not speak peerchat/3; run an indexd from the same release as this peerd";
        break;
    case Refusal::Legacy:
    case Refusal::Other:
        detail += " (reason: " + refuse.reason + ")";
        break;
    }
    if (!transient && !_welcomedThisRun) {
        refuseLogin(detail);
        return;
    }
    // Once indexd has welcomed this run, a refusal during a later login
    // (which a forged relogin can start) would let an on-path attacker, who
    // sees the echo, stop peerd.
    if (!transient) {
        detail += "; peerd was logged in before and refusals are not signed, so this one may be forged: it keeps "
                  "logging in";
    }
    if (detail == _unheededRefusal) {
        _logger.debug("the same refusal again: " + refuse.reason);
        return;
    }
    _unheededRefusal = detail;
    _logger.warning(detail);
    setState(local::LinkState::Connecting, detail);
}

// The login failed for good: nothing more goes to indexd.
void WireLink::refuseLogin(const std::string& detail)
{
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
    _retryTimer = 0;
    cancelReloginCheck();
    stopHeartbeat();
    cancelRosterRetry();
    _fetcher.cancel();
    _presenceDuringFetch.clear();
    _login.reset();
    _sessions.clear();
    _verifier.clear();
    _logger.error(detail);
    setState(local::LinkState::Refused, detail);
    if (_onRefused) _onRefused(detail);
}

void WireLink::handlePresence(const Presence& presence, const Endpoint& from)
{
    const Message announcement = messageOf(presence);
    if (!fromIndex(from, Protocol::verb(announcement))) return;
    if (const std::string why = _verifier.checkPresence(announcement); !why.empty()) {
        drop(DropReason::Unauthentic, from, why);
        return;
    }
    _unansweredHeartbeats = 0;
    announce(presence);
}

void WireLink::announce(const Presence& presence)
{
    if (_fetcher.busy()) _presenceDuringFetch.push_back(presence);
    applyPresence(presence);
    if (_rosterStale) refreshRoster();
}

// Applies an announcement newer than the last one applied; a skipped number
// marks the roster stale.
void WireLink::applyPresence(const Presence& presence)
{
    const std::uint64_t seq = presenceSeqOf(presence);
    const std::uint64_t last = _roster.presenceSeq();
    if (!_roster.advance(seq)) {
        _logger.debug("presence announcement " + std::to_string(seq) + " is not newer than " +
                      std::to_string(last) + "; ignored");
        return;
    }
    if (seq > last + 1) {
        _logger.information("presence announcement " + std::to_string(seq) + " follows " + std::to_string(last) +
                            ": some were lost");
        _rosterStale = true;
    }
    std::optional<Roster::Change> change;
    if (const auto* login = std::get_if<Login>(&presence)) {
        if (login->keys && login->name != _settings.self) {
            std::string holder;
            for (const auto& [name, peer] : _roster.peers()) {
                if (name != login->name && peer.keys && peer.keys->kx == login->keys->kx) holder = name;
            }
            if (const std::string why = keysRefusal(login->name, *login->keys, holder); !why.empty()) {
                drop(DropReason::Unauthentic, _settings.index, "login announcement dropped: " + why);
                return;
            }
        }
        if (login->name != _settings.self) seeKeys(login->name, identityOf(login->keys));
        change = _roster.login(login->name, Roster::Peer{login->endpoint, Roster::dialectOf(login->dialect),
                                                         login->keys});
    } else {
        const Logout& logout = std::get<Logout>(presence);
        change = _roster.logout(logout.name, logout.endpoint);
        if (!change) {
            _logger.debug("logout of " + logout.name + " at " + logout.endpoint.toString() + " changes nothing");
        }
    }
    if (change) peerChanged(*change);
}

// Reports a presence change and restarts the lines waiting for that peer:
// they go out to it directly now, or to indexd when it left.
void WireLink::peerChanged(const Roster::Change& change)
{
    if (change.online) {
        _logger.information(change.name + " is online at " + change.peer.endpoint.toString());
    } else {
        _logger.information(change.name + " went offline");
    }
    _listener.presenceChanged(change);
    _fullReported.erase(change.name);
    if (change.online && change.peer.dialect != Dialect::Peerchat) {
        if (plainTalkAllowed(change.name)) {
            talkQueuedLines(change.name, change.peer);
            return;
        }
        if (_outbox.count(change.name) > 0) {
            _listener.deliveryProblem(change.name, withoutKeyRefusal(change.name) + "; your lines to " +
                                                       change.name + " wait");
        }
    }
    _outbox.restart(change.name, Outbox::Clock::now());
    armRetransmit();
}

// name presents identity, or no key at all (nullopt: a seed or .NET login):
// a key is pinned on first sight; a key other than the pinned one, or none
// for a name whose key is pinned, stops everything to and from name until
// the user trusts it.
void WireLink::seeKeys(const std::string& name, const std::optional<PublicKey>& identity)
{
    const bool known = _pins.pinned(name).has_value();
    if (!identity && !known) return;
    const local::Trust before = _pins.trustOf(name);
    local::Trust now = before;
    try {
        now = identity ? _pins.see(name, *identity) : _pins.seeKeyless(name);
    } catch (const Poco::Exception& e) {
        // Nothing changed: an unpinned peer stays untrusted (its lines wait
        // with it) until a roster read at a heartbeat sees its key again.
        _logger.debug("the key " + name + " presents is not seen yet: " + e.message());
        _keysUnseen = true;
        return;
    }
    if (!known) {
        _logger.information("pinned " + name + "'s identity key " + Fingerprint::of(*identity));
        return;
    }
    if (now == before) return;
    if (now == local::Trust::Changed && !identity) {
        _logger.warning(name + " now comes without a key (a seed or .NET login) though its key " +
                        Fingerprint::of(*_pins.pinned(name)) + " is pinned: nothing goes to or comes from " + name +
                        " until the user checks (/verify " + name + ") and accepts it (/trust " + name + ")");
    } else if (now == local::Trust::Changed) {
        _logger.warning(name + "'s identity key changed (pinned " + Fingerprint::of(*_pins.pinned(name)) +
                        ", now presented " + Fingerprint::of(*identity) + "): nothing goes to or comes from " + name +
                        " until the user compares fingerprints (/verify " + name + ") and trusts it (/trust " + name +
                        ")");
    } else {
        _logger.information(name + " presents the pinned identity key again");
        _outbox.restart(name, Outbox::Clock::now());
        armRetransmit();
    }
    _listener.trustChanged(name, now);
}

// True when name may get and send plain talk: legacy mode, and no key is
// pinned for it (or the user accepted it without one).
bool WireLink::plainTalkAllowed(const std::string& name) const
{
    return _settings.legacy && _pins.trustOf(name) == local::Trust::Unverified;
}

// Why name may not be taken with keys: holder (when not empty) presents the
// same key-exchange key (only one of them can hold it, and no one can tell
// which), or this login already used that key (PeerSessions). Empty when it may.
std::string WireLink::keysRefusal(const std::string& name, const PeerKeys& keys, const std::string& holder) const
{
    if (!holder.empty()) return name + " and " + holder + " present one key-exchange key";
    return _sessions.refusal(name, keys);
}

// True when name's datagrams may be opened and lines sealed to it: a
// peerchat/3 peer presenting the key pinned for it, no other key offered.
bool WireLink::trusted(const std::string& name, const Roster::Peer& peer) const
{
    return peer.dialect == Dialect::Peerchat && peer.keys && _pins.trustOf(name) == local::Trust::Pinned &&
           _pins.pinned(name) == peer.keys->identity;
}

// The new key belongs to another installation of peer's, which never saw
// the stream to peer: the lines waiting for it start a new one.
void WireLink::keyTrusted(const std::string& peer)
{
    // KeyPins::trust has moved them in the store, in the step that trusted the key.
    _outbox.takeAll(peer);
    std::size_t waiting = 0;
    const auto now = Outbox::Clock::now();
    for (const OutboxEntry& entry : _store.outbox()) {
        if (entry.peer != peer) continue;
        _outbox.queue(entry, now);
        ++waiting;
    }
    const std::string what = _pins.trustOf(peer) == local::Trust::Unverified ? peer + " without a key"
                                                                             : peer + "'s new identity key";
    _logger.information("the user trusts " + what + "; " + std::to_string(waiting) + " lines waiting for " + peer +
                        " go out in a new stream");
    armRetransmit();
}

void WireLink::handleSeal(const Seal& seal, const Endpoint& from)
{
    if (!_sessions.ready()) {
        drop(DropReason::Unexpected, from, "seal before indexd welcomed this login: no session to open it with");
        return;
    }
    std::string peerName;
    std::optional<Parsed<std::string>> opened;
    if (from == _settings.index) {
        opened = _sessions.openFromIndex(seal);
    } else {
        // Cheap checks first: a registered endpoint, a trusted key, the peer's current key id.
        const std::string* name = _roster.nameAt(from);
        if (name == nullptr) {
            drop(DropReason::Stranger, from, "seal from an endpoint where no peer is online");
            return;
        }
        const Roster::Peer& peer = *_roster.find(*name);
        if (!trusted(*name, peer)) {
            drop(DropReason::Unauthentic, from,
                 "seal from " + *name + ", whose key is not trusted (changed, or " + *name + " has none)");
            return;
        }
        if (KxKeyPair::idOf(peer.keys->kx) != seal.sender) {
            drop(DropReason::Unauthentic, from,
                 "seal from " + *name + " under a key-exchange key that is not " + *name + "'s current one");
            return;
        }
        peerName = *name;
        opened = _sessions.openFrom(peerName, *peer.keys, seal);
    }
    if (!opened->ok()) {
        drop(DropReason::Unauthentic, from, "seal refused: " + opened->error());
        return;
    }
    const Parsed<Message> inner = Protocol::decode(opened->value());
    if (!inner) {
        drop(DropReason::Malformed, from, "sealed message does not parse: " + inner.error());
        return;
    }
    if (peerName.empty()) _unansweredHeartbeats = 0;
    std::visit(SealedDispatch{*this, SealSource{from, peerName}}, *inner);
}

void WireLink::handleSeen(const Seen& seen, const SealSource& source)
{
    if (!sealedFromIndex(source, "seen")) return;
    cancelAliveResend();
    if (_reloginCheckTimer != 0) {
        cancelReloginCheck();
        _logger.information("indexd answered the alive with seen: it still has " + _settings.self +
                            " online, so the relogin was not its own (forged, or late); no new login");
    }
    // A newer number than the last one applied: an announcement was lost.
    if (seen.seq > _roster.presenceSeq() && !_rosterStale) {
        _logger.information("indexd is at presence announcement " + std::to_string(seen.seq) + ", peerd at " +
                            std::to_string(_roster.presenceSeq()));
        _rosterStale = true;
    }
    if (_rosterStale) refreshRoster();
}

void WireLink::handleRelogin(const Relogin& relogin, const Endpoint& from)
{
    if (!fromIndex(from, "relogin")) return;
    if (!relogin.name.empty() && relogin.name != _settings.self) {
        drop(DropReason::Unexpected, from, "relogin names " + relogin.name + ", not " + _settings.self);
        return;
    }
    if (_state != local::LinkState::Online) {
        _logger.debug("relogin while not online ignored: a login is under way");
        return;
    }
    // Anyone can send the bare relogin in indexd's name: it is a hint, taken at most once per loginRetry.
    const auto now = Outbox::Clock::now();
    if (_reloginCheckTimer != 0 || (_lastReloginHint && now - *_lastReloginHint < _settings.loginRetry)) {
        _logger.debug("relogin within " + std::to_string(_settings.loginRetry.count()) + " ms of the last one ignored");
        return;
    }
    _lastReloginHint = now;
    const std::string why = "indexd does not have " + _settings.self + " online (it restarted, or expired us)";
    if (!_sessions.ready()) {
        this->relogin(why);
        return;
    }
    // A new login is announced to every user: first ask indexd under the
    // session, which a forger cannot answer. An indexd that lost the session
    // answers the alive with another relogin, and no seen comes.
    _logger.information("relogin from indexd's address: asking indexd with a sealed alive before logging in again");
    sendToIndex(Alive{_settings.self, _roster.presenceSeq()});
    _reloginCheckTimer = _loop.runAfter(_settings.loginRetry, [this, why] {
        _reloginCheckTimer = 0;
        this->relogin(why + "; no seen answered the alive within " +
                      std::to_string(_settings.loginRetry.count()) + " ms");
    });
}

void WireLink::cancelReloginCheck()
{
    if (_reloginCheckTimer != 0) _loop.cancel(_reloginCheckTimer);
    _reloginCheckTimer = 0;
}

void WireLink::heartbeat()
{
    _heartbeatTimer = 0;
    if (_state != local::LinkState::Online) return;
    // Counted in heartbeats, not in time: a loop that stalled (a suspended
    // laptop, a loaded machine) must ask indexd before taking it for gone.
    if (_unansweredHeartbeats >= kSilentHeartbeats) {
        relogin("no answer from indexd at " + _settings.index.toString() + " to " +
                std::to_string(kSilentHeartbeats) + " heartbeats");
        return;
    }
    ++_unansweredHeartbeats;
    sendAlive(kAliveResends);
    if (_rosterStale || _keysUnseen) refreshRoster();
    _heartbeatTimer = _loop.runAfter(jittered(_settings.heartbeat), [this] { heartbeat(); });
}

// Sends an alive and, while no sealed seen answers it, again every quarter
// heartbeat, up to resends more times: one lost datagram must not bring this
// user a whole interval closer to indexd's expiry.
void WireLink::sendAlive(int resends)
{
    cancelAliveResend();
    sendToIndex(Alive{_settings.self, _roster.presenceSeq()});
    if (resends == 0) return;
    _aliveResendTimer = _loop.runAfter(_settings.heartbeat / 4, [this, resends] {
        _aliveResendTimer = 0;
        sendAlive(resends - 1);
    });
}

void WireLink::cancelAliveResend()
{
    if (_aliveResendTimer != 0) _loop.cancel(_aliveResendTimer);
    _aliveResendTimer = 0;
}

void WireLink::stopHeartbeat()
{
    if (_heartbeatTimer != 0) _loop.cancel(_heartbeatTimer);
    _heartbeatTimer = 0;
    cancelAliveResend();
}

void WireLink::sendToIndex(const Message& message)
{
    const std::optional<Seal> seal = _sessions.sealToIndex(message);
    if (!seal) {
        _logger.debug(std::string(Protocol::verb(message)) + " to indexd not sent: no session with it");
        return;
    }
    _sink.sendTo(Protocol::encodeDatagram(*seal, TextEncoding::Utf8), _settings.index);
}

void WireLink::sendToPeer(const std::string& name, const Roster::Peer& peer, const Message& message)
{
    const Parsed<Seal> seal = _sessions.sealTo(name, *peer.keys, message);
    if (!seal) {
        // A malicious indexd can present such keys: debug, as the drops it causes.
        _logger.debug(std::string(Protocol::verb(message)) + " to " + name + " not sent: " + seal.error());
        return;
    }
    _sink.sendTo(Protocol::encodeDatagram(*seal, TextEncoding::Utf8), peer.endpoint);
}

// Goes back to connecting and logs in again with new keys; the roster that
// comes with the welcome replaces the one held now.
void WireLink::relogin(const std::string& why)
{
    const std::string detail = why + "; logging in again";
    _logger.warning(detail);
    stopHeartbeat();
    cancelReloginCheck();
    cancelRosterRetry();
    _fetcher.cancel();
    _presenceDuringFetch.clear();
    _welcomed = false;
    _silenceReported = true;
    setState(local::LinkState::Connecting, detail);
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
    _retryTimer = 0;
    sendHello();
}

void WireLink::handleTalk(const Talk& talk, const Endpoint& from)
{
    if (!_settings.legacy) {
        drop(DropReason::Unexpected, from, "plain talk from " + talk.from + " refused: legacy mode is off");
        return;
    }
    const Roster::Peer* peer = _roster.find(talk.from);
    if (peer == nullptr) {
        drop(DropReason::Unexpected, from, "talk from " + talk.from + ", who is not online");
        return;
    }
    if (peer->dialect == Dialect::Peerchat) {
        drop(DropReason::Unauthentic, from, "plain talk in the name of " + talk.from + ", who seals its messages");
        return;
    }
    // The .NET program sends from a throwaway socket: only its address is known.
    const bool sameSender =
        peer->dialect == Dialect::DotNet ? from.host() == peer->endpoint.host() : from == peer->endpoint;
    if (!sameSender) {
        drop(DropReason::Unauthentic, from, "talk names " + talk.from + ", who is at " + peer->endpoint.toString());
        return;
    }
    if (!plainTalkAllowed(talk.from)) {
        drop(DropReason::Unauthentic, from,
             "plain talk in the name of " + talk.from + ", whose key is pinned, until the user accepts " + talk.from +
                 " without a key");
        return;
    }
    local::ChatLine line;
    try {
        line = _store.addIncoming(talk.from, talk.time, nowMs(), talk.text, false);
    } catch (const Poco::Exception& e) {
        // Plain talk is never acked nor sent again: the store's log says such lines are lost while it fails.
        _logger.debug("talk from " + talk.from + " lost: " + e.message());
        return;
    }
    _listener.lineReceived(line, _store.unread(talk.from));
}

void WireLink::handleMsg(const Msg& msg, const SealSource& source)
{
    if (!sealedFromPeer(source, msg.from, "msg")) return;
    if (msg.to != _settings.self) {
        drop(DropReason::Unauthentic, source.from, "msg from " + msg.from + " to " + msg.to + ", not to " +
                                                       _settings.self);
        return;
    }
    deliverIncoming(msg, source);
}

void WireLink::handleMail(const Mail& mail, const SealSource& source)
{
    if (!sealedFromIndex(source, "mail")) return;
    if (mail.from == _settings.self) {
        drop(DropReason::Unexpected, source.from,
             "mail names " + _settings.self + ", this peerd's own user, as its sender");
        return;
    }
    seeKeys(mail.from, mail.identity);
    if (_pins.trustOf(mail.from) != local::Trust::Pinned || _pins.pinned(mail.from) != mail.identity) {
        drop(DropReason::Unauthentic, source.from,
             "mail from " + mail.from + " under a key other than the one pinned for " + mail.from +
                 "; it stays with indexd until the user trusts the new key");
        return;
    }
    const Parsed<std::string> text = OfflineBox::open(_identity, mail.identity, mail.box);
    if (!text) {
        drop(DropReason::Unauthentic, source.from, "mail from " + mail.from + " does not open: " + text.error());
        return;
    }
    const Parsed<Message> inner = Protocol::decode(*text);
    const Msg* msg = inner ? std::get_if<Msg>(&inner.value()) : nullptr;
    if (msg == nullptr) {
        drop(DropReason::Malformed, source.from, "mail from " + mail.from + " does not hold a msg");
        return;
    }
    if (msg->from != mail.from || msg->to != _settings.self || msg->stream != mail.stream || msg->seq != mail.seq) {
        drop(DropReason::Unauthentic, source.from,
             "mail from " + mail.from + " holds a msg from " + msg->from + " to " + msg->to +
                 " of another sender, recipient, stream or seq");
        return;
    }
    deliverIncoming(*msg, source);
}

// Delivers msg through the Inbox and acks its stream's position to where it came from.
void WireLink::deliverIncoming(const Msg& msg, const SealSource& source)
{
    const Inbox::Result result = _inbox.receive(msg, nowMs());
    for (const Inbox::Delivered& delivered : result.delivered) _listener.lineReceived(delivered.line, delivered.unread);
    // A line the store refused is not acked: its sender sends it again.
    if (!result.refusal.empty()) {
        _logger.debug("line " + std::to_string(result.position + 1) + " from " + msg.from + " not stored: " +
                      result.refusal);
    }
    // Nothing of the stream delivered yet (a msg ahead of the first): there is no position to ack.
    if (result.position == 0) return;
    const Ack ack{_settings.self, msg.stream, result.position};
    if (source.peer.empty()) {
        sendToIndex(ack);
    } else if (const Roster::Peer* peer = _roster.find(source.peer)) {
        sendToPeer(source.peer, *peer, ack);
    }
}

void WireLink::handleAck(const Ack& ack, const SealSource& source)
{
    if (!sealedFromPeer(source, ack.from, "ack")) return;
    // The store first: an ack it cannot keep leaves the lines queued, and the
    // peer acks them again when they go out again.
    std::vector<std::uint64_t> delivered;
    try {
        delivered = _store.acknowledge(ack.from, ack.stream, ack.seq);
    } catch (const Poco::Exception& e) {
        _logger.debug("ack from " + ack.from + " not kept; the lines stay queued: " + e.message());
        return;
    }
    if (_outbox.acknowledge(ack.from, ack.stream, ack.seq, Outbox::Clock::now()) == 0 && delivered.empty()) return;
    for (const std::uint64_t id : delivered) _listener.lineStateChanged(ack.from, id, local::LineState::Delivered);
    armRetransmit();
}

void WireLink::handleStored(const Stored& stored, const SealSource& source)
{
    if (!sealedFromIndex(source, "stored")) return;
    const OutboxEntry* entry = _outbox.find(stored.to, stored.stream, stored.seq);
    if (entry == nullptr) {
        _logger.debug("stored for a line to " + stored.to + " no longer waiting");
        return;
    }
    const std::uint64_t lineId = entry->lineId;
    // While the peer is online the line still goes to it directly; indexd's copy is a second way.
    if (_roster.find(stored.to) == nullptr) _outbox.hold(stored.to, stored.stream, stored.seq);
    changeLineState(stored.to, lineId, local::LineState::Stored);
    armRetransmit();
}

void WireLink::handleFull(const Full& full, const SealSource& source)
{
    if (!sealedFromIndex(source, "full")) return;
    if (_outbox.find(full.to, full.stream, full.seq) == nullptr) return;
    if (_roster.find(full.to) == nullptr) _outbox.hold(full.to, full.stream, full.seq);
    armRetransmit();
    const auto reported = _fullReported.find(full.to);
    if (reported != _fullReported.end() && reported->second == full.reason) return;
    _fullReported[full.to] = full.reason;
    const std::string detail = fullDetail(full);
    _logger.warning(detail);
    _listener.deliveryProblem(full.to, detail);
}

// Why nothing goes to name, online without a key (a seed or .NET client), in words for its user.
std::string WireLink::withoutKeyRefusal(const std::string& name) const
{
    if (_pins.trustOf(name) != local::Trust::Unverified) {
        return name + " now comes without a key (a seed or .NET login), but you pinned " + name +
               "'s key: anyone may be using the name. Nothing goes to " + name + " until you check with /verify " +
               name + " and, if it is really " + name + ", accept it with /trust " + name;
    }
    return name + " uses a client without encryption (seed or .NET): nothing you send could be kept private or "
                  "proven yours, so peerd talks to it only in legacy mode (start peerd with --legacy)";
}

Parsed<WireLink::SentLine> WireLink::sendTalk(const std::string& to, const std::string& text, const std::string& key)
{
    if (to == _settings.self) return Parsed<SentLine>::refuse("you cannot send to yourself (" + to + ")");
    try {
        if (!key.empty()) {
            if (std::optional<local::ChatLine> stored = _store.lineWithKey(to, key))
                return SentLine{std::move(*stored), true};
        }
        const Roster::Peer* peer = _roster.find(to);
        if (peer != nullptr && peer->dialect != Dialect::Peerchat && !plainTalkAllowed(to)) {
            return Parsed<SentLine>::refuse(withoutKeyRefusal(to));
        }
        if (_pins.trustOf(to) == local::Trust::Changed) {
            return Parsed<SentLine>::refuse(to + "'s key changed: compare fingerprints with /verify " + to +
                                            ", then /trust " + to);
        }
        if (_outbox.count(to) >= kMaxQueuedPerPeer) {
            return Parsed<SentLine>::refuse(std::to_string(kMaxQueuedPerPeer) + " lines to " + to +
                                            " already wait to be delivered; send more once " + to + " has them");
        }
        return SentLine{storeAndSend(to, peer, text, key), false};
    } catch (const DiskFullException& e) {
        // The store logs when writes start failing; a person sending again and again adds nothing to the log.
        return Parsed<SentLine>::refuse("the line to " + to + " was not sent: " + e.message() +
                                        "; free some space and send again");
    } catch (const Poco::Exception& e) {
        return Parsed<SentLine>::refuse("the line to " + to + " was not sent: peerd could not store it (" +
                                        e.message() + "); check the disk and peerd's log");
    }
}

// Stores text as a new line to to (with key unless it is empty) and sends it
// to peer (nullptr: to is offline); throws what the store throws, before
// anything was sent.
local::ChatLine WireLink::storeAndSend(const std::string& to, const Roster::Peer* peer, const std::string& text,
                                       const std::string& key)
{
    const std::string time = localClockText();
    const std::int64_t storedAtMs = nowMs();
    if (peer != nullptr && peer->dialect != Dialect::Peerchat) {
        // A seed or .NET client cannot ack: one talk, stored as sent.
        local::ChatLine line = _store.addOutgoing(to, _settings.self, time, storedAtMs, text, key);
        sendTalkDatagram(Talk{time, _settings.self, text}, *peer);
        return line;
    }
    const OutboxEntry entry = _store.enqueue(to, _settings.self, time, storedAtMs, text, key);
    if (_rosterLoaded) {
        _outbox.sent(entry, Outbox::Clock::now());
        transmit(entry);
    } else {
        _outbox.queue(entry, Outbox::Clock::now());
    }
    armRetransmit();
    return local::ChatLine{entry.lineId, to, true, _settings.self, time, storedAtMs, text, local::LineState::Pending};
}

// Sends a line the way its peer takes it now: msg sealed to a peerchat peer
// online, post to indexd sealed to the peer's pinned key while it is offline,
// talk to a seed or .NET peer in legacy mode. A line that cannot go now
// (key changed, never seen, no legacy mode) rests until the peer changes.
void WireLink::transmit(const OutboxEntry& entry)
{
    const Roster::Peer* peer = _roster.find(entry.peer);
    if (peer != nullptr && peer->dialect != Dialect::Peerchat) {
        if (plainTalkAllowed(entry.peer)) {
            talkQueuedLines(entry.peer, *peer);
        } else {
            _outbox.hold(entry.peer, entry.stream, entry.seq);
        }
        return;
    }
    const Msg msg{entry.stream, entry.seq, entry.sentTime, _settings.self, entry.peer, entry.text};
    if (peer != nullptr) {
        if (trusted(entry.peer, *peer)) {
            sendToPeer(entry.peer, *peer, msg);
        } else {
            _outbox.hold(entry.peer, entry.stream, entry.seq);
        }
        return;
    }
    const std::optional<PublicKey> identity = _pins.pinned(entry.peer);
    if (!identity || _pins.trustOf(entry.peer) != local::Trust::Pinned) {
        _outbox.hold(entry.peer, entry.stream, entry.seq);
        return;
    }
    sendToIndex(Post{entry.peer, entry.stream, entry.seq, OfflineBox::seal(_identity, *identity, Protocol::encode(msg))});
}

void WireLink::transmitDue()
{
    // Before the first roster every peer looks offline: lines would go to indexd needlessly.
    if (!_rosterLoaded) return;
    const Outbox::Due due = _outbox.poll(Outbox::Clock::now());
    for (const OutboxEntry& entry : due.failed) {
        _logger.information("line " + std::to_string(entry.lineId) + " to " + entry.peer + " not acked within " +
                            std::to_string(_settings.retransmit.giveUp.count()) + " ms; it stays queued");
        changeLineState(entry.peer, entry.lineId, local::LineState::Failed);
    }
    for (const OutboxEntry& entry : due.resend) transmit(entry);
    armRetransmit();
}

// Sets the one timer to when the outbox next has a line due.
void WireLink::armRetransmit()
{
    const std::optional<Outbox::TimePoint> next = _rosterLoaded ? _outbox.nextDue() : std::nullopt;
    if (_retransmitTimer != 0 && next && *next == _retransmitAt) return;
    if (_retransmitTimer != 0) _loop.cancel(_retransmitTimer);
    _retransmitTimer = 0;
    if (!next) return;
    _retransmitAt = *next;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - Outbox::Clock::now());
    _retransmitTimer = _loop.runAfter(std::max(wait, std::chrono::milliseconds(0)), [this] {
        _retransmitTimer = 0;
        transmitDue();
    });
}

// The peer turned out to be a seed or .NET client, which cannot ack: every
// line queued for it goes out as talk, once, and leaves the outbox as sent.
// When the store cannot keep that, the line and those after it stay queued
// and go again with the next try (a crash or a full disk may double a line
// at the seed; none is lost).
void WireLink::talkQueuedLines(const std::string& name, const Roster::Peer& peer)
{
    for (const OutboxEntry& entry : _store.outbox()) {
        if (entry.peer != name) continue;
        sendTalkDatagram(Talk{entry.sentTime, _settings.self, entry.text}, peer);
        std::vector<std::uint64_t> sent;
        try {
            sent = _store.acknowledge(name, entry.stream, entry.seq, local::LineState::Sent);
        } catch (const Poco::Exception& e) {
            _logger.debug("talk to " + name + " stays queued: " + e.message());
            break;
        }
        _outbox.acknowledge(name, entry.stream, entry.seq, Outbox::Clock::now());
        for (const std::uint64_t id : sent) _listener.lineStateChanged(name, id, local::LineState::Sent);
    }
    armRetransmit();
}

void WireLink::sendTalkDatagram(const Talk& talk, const Roster::Peer& peer)
{
    const TextEncoding encoding = peer.dialect == Dialect::DotNet ? TextEncoding::Utf16le : TextEncoding::Utf8;
    _sink.sendTo(Protocol::encodeDatagram(talk, encoding), peer.endpoint);
}

// A state the store cannot keep is not shown either: the screen shows what a restart would.
void WireLink::changeLineState(const std::string& peer, std::uint64_t id, local::LineState state)
{
    try {
        _store.setState(peer, id, state);
    } catch (const Poco::Exception& e) {
        _logger.debug("line " + std::to_string(id) + " to " + peer + " stays as it was: " + e.message());
        return;
    }
    _listener.lineStateChanged(peer, id, state);
}

void WireLink::logout()
{
    for (EventLoop::TimerId* timer : {&_retryTimer, &_heartbeatTimer, &_retransmitTimer, &_reloginCheckTimer,
                                      &_aliveResendTimer, &_rosterRetryTimer}) {
        if (*timer != 0) _loop.cancel(*timer);
        *timer = 0;
    }
    _fetcher.cancel();
    _presenceDuringFetch.clear();
    _login.reset();
    // Only a welcomed login has a session to seal the logout with; indexd
    // expires one whose welcome is still on its way.
    if (!_sessions.ready()) return;
    sendToIndex(Logout{_settings.self, _observed, 0, std::nullopt});
    _sessions.clear();
    _verifier.clear();
    _logger.information("logged out of indexd at " + _settings.index.toString());
}

void WireLink::setState(local::LinkState state, const std::string& detail)
{
    _state = state;
    _listener.linkStateChanged(state, detail);
}

// Counts a dropped datagram, logs it at debug level only, and sees that a
// summary follows within dropReport: what outsiders send never sets the pace
// of the log.
void WireLink::drop(DropReason reason, const Endpoint& from, std::string_view detail)
{
    _drops.count(reason, from, detail);
    if (_logger.debug()) _logger.debug("dropped datagram from " + from.toString() + ": " + std::string(detail));
    if (_dropReportTimer == 0) _dropReportTimer = _loop.runAfter(_settings.dropReport, [this] { reportDrops(); });
}

void WireLink::reportDrops()
{
    _dropReportTimer = 0;
    const std::string summary = _drops.takeSummary(_settings.dropReport);
    if (!summary.empty()) _logger.warning(summary);
}

} // namespace peerchat
