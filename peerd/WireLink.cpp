#include "WireLink.h"

#include <Poco/Net/DatagramSocket.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <map>
#include <optional>
#include <utility>

namespace peerchat {

namespace {

constexpr std::string_view kDialect = "peerchat/1";

// Heartbeats indexd may leave unanswered before peerd takes it for gone.
constexpr int kSilentHeartbeats = 3;

// This machine's wall clock as HH:MM:SS, 24-hour, local time: the time field of our talk.
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

std::uint64_t presenceSeqOf(const std::variant<Login, Logout>& presence)
{
    return std::visit([](const auto& announcement) { return announcement.seq; }, presence);
}

} // namespace

struct WireLink::Dispatch
{
    WireLink& link;
    const Endpoint& from;

    void operator()(const Accept& message) const { link.handleAccept(message, from); }
    void operator()(const Refuse& message) const { link.handleRefuse(message, from); }
    void operator()(const Login& message) const { link.handleLogin(message, from); }
    void operator()(const Logout& message) const { link.handleLogout(message, from); }
    void operator()(const Talk& message) const { link.handleTalk(message, from); }
    void operator()(const Msg& message) const { link.handleMsg(message, from); }
    void operator()(const Ack& message) const { link.handleAck(message, from); }
    void operator()(const Seen& message) const { link.handleSeen(message, from); }
    void operator()(const Relogin& message) const { link.handleRelogin(message, from); }
    void operator()(const Stored& message) const { link.handleStored(message, from); }
    void operator()(const Full& message) const { link.handleFull(message, from); }
    /// Verbs peerd never receives (those it sends to indexd).
    template <typename Other>
    void operator()(const Other& message) const
    {
        link.drop(from, std::string(Protocol::verb(message)) + " is not a message for peerd");
    }
};

WireLink::WireLink(EventLoop& loop, DatagramSink& sink, Roster& roster, ConversationStore& store,
                   WireListener& listener, Settings settings, std::function<void()> onRefused)
    : _loop(loop),
      _sink(sink),
      _roster(roster),
      _store(store),
      _listener(listener),
      _settings(std::move(settings)),
      _onRefused(std::move(onRefused)),
      _fetcher(loop, _settings.rosterDeadline),
      _outbox(_settings.retransmit),
      _inbox(store, _settings.receiveWindow),
      _logger(Poco::Logger::get("peerd.wire"))
{
}

WireLink::~WireLink()
{
    for (const EventLoop::TimerId timer : {_retryTimer, _heartbeatTimer, _retransmitTimer}) {
        if (timer != 0) _loop.cancel(timer);
    }
}

Endpoint WireLink::loginEndpoint(const Endpoint& bound, const Endpoint& index)
{
    if (!bound.host().isWildcard()) return bound;
    // Connecting a UDP socket sends nothing; it only makes the kernel pick the route and source address.
    Poco::Net::DatagramSocket probe(index.address().family());
    probe.connect(index.address());
    return Endpoint(Poco::Net::SocketAddress(probe.address().host(), bound.port()));
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
                        " (local endpoint " + _settings.loginEndpoint.toString() + ")");
    sendLogin();
}

void WireLink::sendLogin()
{
    const Login login{_settings.self, _settings.loginEndpoint, std::string(kDialect)};
    _sink.sendTo(Protocol::encodeDatagram(login, TextEncoding::Utf8), _settings.index);
    _loginSent = true;
    _retryTimer = _loop.runAfter(_settings.loginRetry, [this] {
        _retryTimer = 0;
        if (!_accepted && !_silenceReported) {
            _silenceReported = true;
            const std::string detail = "no answer from indexd at " + _settings.index.toString() +
                                       " yet; retrying every " + std::to_string(_settings.loginRetry.count()) +
                                       " ms";
            _logger.warning(detail);
            setState(local::LinkState::Connecting, detail);
        }
        sendLogin();
    });
}

void WireLink::handleDatagram(std::string_view bytes, const Endpoint& from)
{
    const Parsed<Inbound> inbound = Protocol::decodeDatagram(bytes);
    if (!inbound) {
        drop(from, inbound.error());
        return;
    }
    if (from == _settings.index) _lastHeardFromIndex = Outbox::Clock::now();
    std::visit(Dispatch{*this, from}, inbound->message);
}

bool WireLink::fromIndex(const Endpoint& from, std::string_view verb)
{
    if (from == _settings.index) return true;
    drop(from, std::string(verb) + " not from indexd at " + _settings.index.toString());
    return false;
}

bool WireLink::fromPeer(const std::string& name, const Endpoint& from, std::string_view verb)
{
    const Roster::Peer* peer = _roster.find(name);
    if (peer == nullptr) {
        drop(from, std::string(verb) + " from " + name + ", who is not online");
        return false;
    }
    if (from != peer->endpoint) {
        drop(from, std::string(verb) + " names " + name + ", who is at " + peer->endpoint.toString());
        return false;
    }
    return true;
}

void WireLink::handleAccept(const Accept& accept, const Endpoint& from)
{
    if (!fromIndex(from, "Accept")) return;
    if (_state == local::LinkState::Online || _state == local::LinkState::Refused || _fetcher.busy()) {
        _logger.debug("repeated Accept from indexd ignored");
        return;
    }
    _accepted = true;
    _rosterServer = Endpoint(Poco::Net::SocketAddress(_settings.index.host(), accept.port));
    _logger.information("indexd accepted " + _settings.self + "; reading the roster from " +
                        _rosterServer.toString());
    _fetcher.fetch(_rosterServer, [this](Parsed<RosterFetcher::Snapshot> roster) { rosterFetched(std::move(roster)); });
}

void WireLink::refreshRoster()
{
    if (_state != local::LinkState::Online || _fetcher.busy()) return;
    _logger.information("reading the roster again from " + _rosterServer.toString());
    _fetcher.fetch(_rosterServer, [this](Parsed<RosterFetcher::Snapshot> roster) { rosterFetched(std::move(roster)); });
}

void WireLink::rosterFetched(Parsed<RosterFetcher::Snapshot> roster)
{
    std::vector<Presence> presenceDuringFetch = std::move(_presenceDuringFetch);
    _presenceDuringFetch.clear();
    if (!roster) {
        if (_state == local::LinkState::Online) {
            _logger.warning("could not read the roster again (" + roster.error() + "); trying at the next heartbeat");
            _rosterStale = true;
            return;
        }
        const std::string detail = "could not read the roster (" + roster.error() + "); retrying";
        _logger.warning(detail);
        setState(local::LinkState::Connecting, detail);
        return;
    }
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
    _retryTimer = 0;
    _rosterLoaded = true;
    _rosterStale = false;
    // The snapshot's number says where presence stands, also when it went back (indexd restarted).
    _presenceSeq = roster->presenceSeq;
    for (const Roster::Change& change : _roster.replace(roster->users)) peerChanged(change);
    // indexd may have written the snapshot before a broadcast that reached us
    // first: replay those the snapshot does not include, in order.
    for (const Presence& presence : presenceDuringFetch) applyPresence(presence);
    if (_state != local::LinkState::Online) {
        _silenceReported = false;
        _lastHeardFromIndex = Outbox::Clock::now();
        setState(local::LinkState::Online, "logged in to indexd at " + _settings.index.toString() + " as " +
                                               _settings.self + "; " + std::to_string(_roster.peers().size()) +
                                               " other users online");
        _heartbeatTimer = _loop.runAfter(_settings.heartbeat, [this] { heartbeat(); });
    }
    transmitDue();
    if (_rosterStale) refreshRoster();
}

void WireLink::handleRefuse(const Refuse& refuse, const Endpoint& from)
{
    if (!fromIndex(from, "refuse")) return;
    if (refuse.name != _settings.self) {
        drop(from, "refuse names " + refuse.name + ", not " + _settings.self);
        return;
    }
    if (_state == local::LinkState::Online || _state == local::LinkState::Refused) {
        drop(from, "refuse after the login was settled");
        return;
    }
    std::string detail = "indexd refused " + _settings.self;
    if (refuse.reason == "taken") {
        detail += ": the name is online from another endpoint; choose another --user or stop the other peerd";
    } else if (refuse.reason == "version") {
        detail += ": it does not speak peerchat/1; run an indexd from the same release as this peerd";
    } else {
        detail += " (reason: " + refuse.reason + ")";
    }
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
    _retryTimer = 0;
    stopHeartbeat();
    _fetcher.cancel();
    _presenceDuringFetch.clear();
    _loginSent = false;
    _logger.error(detail);
    setState(local::LinkState::Refused, detail);
    if (_onRefused) _onRefused();
}

void WireLink::handleLogin(const Login& login, const Endpoint& from)
{
    if (!fromIndex(from, "login")) return;
    announce(login);
}

void WireLink::handleLogout(const Logout& logout, const Endpoint& from)
{
    if (!fromIndex(from, "logout")) return;
    announce(logout);
}

void WireLink::announce(const Presence& presence)
{
    if (_fetcher.busy()) _presenceDuringFetch.push_back(presence);
    applyPresence(presence);
    if (_rosterStale) refreshRoster();
}

// Applies an announcement newer than the last one applied (or one without a
// number, from an indexd that gives none); a skipped number marks the roster stale.
void WireLink::applyPresence(const Presence& presence)
{
    const std::uint64_t seq = presenceSeqOf(presence);
    if (seq != 0) {
        if (seq <= _presenceSeq) {
            _logger.debug("presence announcement " + std::to_string(seq) + " is not newer than " +
                          std::to_string(_presenceSeq) + "; ignored");
            return;
        }
        if (seq > _presenceSeq + 1) {
            _logger.information("presence announcement " + std::to_string(seq) + " follows " +
                                std::to_string(_presenceSeq) + ": some were lost");
            _rosterStale = true;
        }
        _presenceSeq = seq;
    }
    std::optional<Roster::Change> change;
    if (const auto* login = std::get_if<Login>(&presence)) {
        change = _roster.login(login->name, Roster::Peer{login->endpoint, Roster::dialectOf(login->dialect)});
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
        talkQueuedLines(change.name, change.peer);
        return;
    }
    _outbox.restart(change.name, Outbox::Clock::now());
    armRetransmit();
}

void WireLink::handleSeen(const Seen& seen, const Endpoint& from)
{
    if (!fromIndex(from, "seen")) return;
    // A newer number than the last one applied: an announcement was lost.
    if (seen.seq > _presenceSeq && !_rosterStale) {
        _logger.information("indexd is at presence announcement " + std::to_string(seen.seq) + ", peerd at " +
                            std::to_string(_presenceSeq));
        _rosterStale = true;
    }
    if (_rosterStale) refreshRoster();
}

void WireLink::handleRelogin(const Relogin& relogin, const Endpoint& from)
{
    if (!fromIndex(from, "relogin")) return;
    if (relogin.name != _settings.self) {
        drop(from, "relogin names " + relogin.name + ", not " + _settings.self);
        return;
    }
    if (_state != local::LinkState::Online) {
        _logger.debug("relogin while not online ignored: a login is under way");
        return;
    }
    this->relogin("indexd does not have " + _settings.self + " online (it restarted, or expired us)");
}

void WireLink::heartbeat()
{
    _heartbeatTimer = 0;
    if (_state != local::LinkState::Online) return;
    const auto silence = Outbox::Clock::now() - _lastHeardFromIndex;
    if (silence >= _settings.heartbeat * kSilentHeartbeats) {
        relogin("no answer from indexd at " + _settings.index.toString() + " for " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(silence).count()) + " ms");
        return;
    }
    _sink.sendTo(Protocol::encodeDatagram(Alive{_settings.self, _presenceSeq}, TextEncoding::Utf8), _settings.index);
    if (_rosterStale) refreshRoster();
    _heartbeatTimer = _loop.runAfter(_settings.heartbeat, [this] { heartbeat(); });
}

void WireLink::stopHeartbeat()
{
    if (_heartbeatTimer != 0) _loop.cancel(_heartbeatTimer);
    _heartbeatTimer = 0;
}

// Goes back to connecting and logs in again; the roster that comes with the
// Accept replaces the one held now.
void WireLink::relogin(const std::string& why)
{
    const std::string detail = why + "; logging in again";
    _logger.warning(detail);
    stopHeartbeat();
    _fetcher.cancel();
    _presenceDuringFetch.clear();
    _accepted = false;
    _silenceReported = true;
    setState(local::LinkState::Connecting, detail);
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
    _retryTimer = 0;
    sendLogin();
}

void WireLink::handleTalk(const Talk& talk, const Endpoint& from)
{
    const Roster::Peer* peer = _roster.find(talk.from);
    if (peer == nullptr) {
        drop(from, "talk from " + talk.from + ", who is not online");
        return;
    }
    // The .NET program sends from a throwaway socket: only its address is known.
    const bool sameSender =
        peer->dialect == Dialect::DotNet ? from.host() == peer->endpoint.host() : from == peer->endpoint;
    if (!sameSender) {
        drop(from, "talk names " + talk.from + ", who is at " + peer->endpoint.toString());
        return;
    }
    const local::ChatLine line = _store.addIncoming(talk.from, talk.time, nowMs(), talk.text);
    _listener.lineReceived(line, _store.unread(talk.from));
}

void WireLink::handleMsg(const Msg& msg, const Endpoint& from)
{
    if (msg.from == _settings.self) {
        drop(from, "msg names " + _settings.self + ", this peerd's own user");
        return;
    }
    // indexd carries offline messages from anyone; a peer speaks only for itself.
    if (from != _settings.index && !fromPeer(msg.from, from, "msg")) return;
    const Inbox::Result result = _inbox.receive(msg, nowMs());
    for (const Inbox::Delivered& delivered : result.delivered) _listener.lineReceived(delivered.line, delivered.unread);
    // Nothing of the stream delivered yet (a msg ahead of the first): there is no position to ack.
    if (result.position == 0) return;
    _sink.sendTo(Protocol::encodeDatagram(Ack{_settings.self, msg.stream, result.position}, TextEncoding::Utf8), from);
}

void WireLink::handleAck(const Ack& ack, const Endpoint& from)
{
    if (!fromPeer(ack.from, from, "ack")) return;
    if (_outbox.acknowledge(ack.from, ack.stream, ack.seq, Outbox::Clock::now()) == 0) return;
    for (const std::uint64_t id : _store.acknowledge(ack.from, ack.stream, ack.seq)) {
        _listener.lineStateChanged(ack.from, id, local::LineState::Delivered);
    }
    armRetransmit();
}

void WireLink::handleStored(const Stored& stored, const Endpoint& from)
{
    if (!fromIndex(from, "stored")) return;
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

void WireLink::handleFull(const Full& full, const Endpoint& from)
{
    if (!fromIndex(from, "full")) return;
    if (_outbox.find(full.to, full.stream, full.seq) == nullptr) return;
    if (_roster.find(full.to) == nullptr) _outbox.hold(full.to, full.stream, full.seq);
    armRetransmit();
    if (!_fullReported.insert(full.to).second) return;
    const std::string detail = full.to + "'s mailbox at indexd is full: your lines to " + full.to +
                               " wait in the outbox and go out when " + full.to + " is online";
    _logger.warning(detail);
    _listener.deliveryProblem(full.to, detail);
}

Parsed<local::ChatLine> WireLink::sendTalk(const std::string& to, const std::string& text)
{
    if (to == _settings.self) return Parsed<local::ChatLine>::refuse("you cannot send to yourself (" + to + ")");
    const Roster::Peer* peer = _roster.find(to);
    const std::string time = localClockText();
    const std::int64_t storedAtMs = nowMs();
    try {
        if (peer != nullptr && peer->dialect != Dialect::Peerchat) {
            // A seed or .NET client cannot ack: one talk, stored as sent.
            const local::ChatLine line = _store.addOutgoing(to, _settings.self, time, storedAtMs, text);
            sendTalkDatagram(Talk{time, _settings.self, text}, *peer);
            return line;
        }
        const OutboxEntry entry = _store.enqueue(to, _settings.self, time, storedAtMs, text);
        if (_rosterLoaded) {
            transmit(entry);
            _outbox.sent(entry, Outbox::Clock::now());
        } else {
            _outbox.queue(entry, Outbox::Clock::now());
        }
        armRetransmit();
        return local::ChatLine{entry.lineId, to,   true, _settings.self, time, storedAtMs, text,
                               local::LineState::Pending};
    } catch (const std::exception& e) {
        _logger.error("could not store a line to " + to + ": " + e.what());
        return Parsed<local::ChatLine>::refuse("the line to " + to + " was not sent: peerd could not store it (" +
                                               e.what() + "); check the disk and peerd's log");
    }
}

// Sends a line the way its peer takes it now: msg to a peerchat peer online,
// store to indexd while the peer is offline, talk to a seed or .NET peer.
void WireLink::transmit(const OutboxEntry& entry)
{
    const Roster::Peer* peer = _roster.find(entry.peer);
    const Msg msg{entry.stream, entry.seq, entry.sentTime, _settings.self, entry.text};
    if (peer == nullptr) {
        _sink.sendTo(Protocol::encodeDatagram(Store{entry.peer, msg}, TextEncoding::Utf8), _settings.index);
    } else if (peer->dialect == Dialect::Peerchat) {
        _sink.sendTo(Protocol::encodeDatagram(msg, TextEncoding::Utf8), peer->endpoint);
    } else {
        talkQueuedLines(entry.peer, *peer);
    }
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
void WireLink::talkQueuedLines(const std::string& name, const Roster::Peer& peer)
{
    for (const OutboxEntry& entry : _outbox.takeAll(name)) {
        sendTalkDatagram(Talk{entry.sentTime, _settings.self, entry.text}, peer);
        _store.acknowledge(name, entry.stream, entry.seq);
        changeLineState(name, entry.lineId, local::LineState::Sent);
    }
    armRetransmit();
}

void WireLink::sendTalkDatagram(const Talk& talk, const Roster::Peer& peer)
{
    const TextEncoding encoding = peer.dialect == Dialect::DotNet ? TextEncoding::Utf16le : TextEncoding::Utf8;
    _sink.sendTo(Protocol::encodeDatagram(talk, encoding), peer.endpoint);
}

void WireLink::changeLineState(const std::string& peer, std::uint64_t id, local::LineState state)
{
    _store.setState(peer, id, state);
    _listener.lineStateChanged(peer, id, state);
}

void WireLink::logout()
{
    for (EventLoop::TimerId* timer : {&_retryTimer, &_heartbeatTimer, &_retransmitTimer}) {
        if (*timer != 0) _loop.cancel(*timer);
        *timer = 0;
    }
    _fetcher.cancel();
    _presenceDuringFetch.clear();
    // Logout follows any login that was not refused: indexd may have accepted
    // it with the Accept still on its way. A logout for a name that is not
    // registered from here is dropped by indexd.
    if (!_loginSent) return;
    _loginSent = false;
    _sink.sendTo(Protocol::encodeDatagram(Logout{_settings.self, _settings.loginEndpoint}, TextEncoding::Utf8),
                 _settings.index);
    _logger.information("logged out of indexd at " + _settings.index.toString());
}

void WireLink::setState(local::LinkState state, const std::string& detail)
{
    _state = state;
    _listener.linkStateChanged(state, detail);
}

void WireLink::drop(const Endpoint& from, std::string_view reason)
{
    _logger.warning("dropped datagram from " + from.toString() + ": " + std::string(reason));
}

} // namespace peerchat
