#include "WireLink.h"

#include "Fingerprint.h"

#include <utility>

namespace peerchat {

struct WireLink::Dispatch
{
    WireLink& link;
    const Endpoint& from;

    void operator()(const Challenge& message) const
    {
        if (link.fromIndex(from, "challenge")) link._index.challenge(message);
    }
    void operator()(const Welcome& message) const
    {
        if (link.fromIndex(from, "welcome")) link._index.welcome(message);
    }
    void operator()(const Refuse& message) const
    {
        if (link.fromIndex(from, "refuse")) link._index.refuse(message);
    }
    void operator()(const Relogin& message) const
    {
        if (link.fromIndex(from, "relogin")) link._index.relogin(message);
    }
    void operator()(const Seal& message) const { link.handleSeal(message, from, false); }
    void operator()(const Talk& message) const { link._delivery.talk(message, from); }
    /// Verbs peerd never takes plain: those it sends, what peerchat/3 seals,
    /// and presence, which indexd tells peerchat/3 users sealed only.
    template <typename Other>
    void operator()(const Other& message) const
    {
        link._drops.drop(DropReason::Unexpected, from,
                         "plain " + std::string(Protocol::verb(message)) + " is not a message for peerd");
    }
};

struct WireLink::SealedDispatch
{
    WireLink& link;
    const SealSource& source;

    void operator()(const Msg& message) const
    {
        if (link.sealedFromPeer(source, message.from, "msg")) link._delivery.msg(message, source.peer, source.from);
    }
    void operator()(const Ack& message) const
    {
        if (link.sealedFromPeer(source, message.from, "ack")) link._delivery.ack(message);
    }
    void operator()(const Seen& message) const
    {
        if (!link.sealedFromIndex(source, "seen")) return;
        link._index.seen();
        link._presence.seen(message.seq);
    }
    void operator()(const Here& message) const
    {
        if (link.sealedFromIndex(source, "here")) link._presence.receive(message);
    }
    void operator()(const Gone& message) const
    {
        if (link.sealedFromIndex(source, "gone")) link._presence.receive(message);
    }
    void operator()(const Snapshot& message) const
    {
        if (link.sealedFromIndex(source, "snapshot")) link._presence.receive(message);
    }
    void operator()(const Stored& message) const
    {
        if (!link.sealedFromIndex(source, "stored")) return;
        if (link._contactMail.ownsStream(message.stream)) {
            link._contactMail.stored(message);
        } else {
            link._delivery.stored(message);
        }
    }
    void operator()(const Full& message) const
    {
        if (!link.sealedFromIndex(source, "full")) return;
        if (link._contactMail.ownsStream(message.stream)) {
            link._contactMail.full(message);
        } else {
            link._delivery.full(message);
        }
    }
    void operator()(const NameKey& message) const
    {
        if (!link.sealedFromIndex(source, "key") || !link._index.answered(message)) return;
        // Pinned on first sight, as from presence; then what waited for the key goes.
        if (message.identity) link._trust.see(message.name, message.identity);
        link._contactMail.nameKey(message);
        link._delivery.nameKey(message);
    }
    void operator()(const Declared& message) const
    {
        if (link.sealedFromIndex(source, "declared")) link._declaration.declared(message);
    }
    void operator()(const Mail& message) const
    {
        if (link.sealedFromIndex(source, "mail")) link._delivery.mail(message, source.from);
    }
    void operator()(const Meet& message) const
    {
        if (!link.sealedFromIndex(source, "meet")) return;
        link._relay.permit(message);
        link._paths.meet(message);
    }
    void operator()(const Turn& message) const
    {
        if (link.sealedFromIndex(source, "turn")) link._relay.offer(message);
    }
    void operator()(const Probe& message) const
    {
        if (sealedFromPeerToSelf(message, "probe")) link._paths.probe(source.peer, message, source.from, source.relayed);
    }
    void operator()(const Caps& message) const
    {
        if (sealedFromPeerToSelf(message, "caps")) link._paths.caps(source.peer, message);
    }
    void operator()(const Typing& message) const
    {
        if (sealedFromPeerToSelf(message, "typing")) link.typingFrom(source.peer);
    }
    /// The answer to a probe: that it came, sealed, is all it says (heard() took it).
    void operator()(const Probed& message) const { link.sealedFromPeer(source, message.from, "probed"); }
    /// Verbs that never come sealed to peerd.
    template <typename Other>
    void operator()(const Other& message) const
    {
        link._drops.drop(DropReason::Unexpected, source.from,
                         "sealed " + std::string(Protocol::verb(message)) + " is not a message for peerd");
    }

    /// True when the peer message.from sealed message, and it names this user as TO.
    template <typename PeerMessage>
    bool sealedFromPeerToSelf(const PeerMessage& message, std::string_view verb) const
    {
        if (!link.sealedFromPeer(source, message.from, verb)) return false;
        if (message.to == link._settings.self) return true;
        link._drops.drop(DropReason::Unauthentic, source.from,
                         std::string(verb) + " from " + message.from + " to " + message.to + ", not to " +
                             link._settings.self);
        return false;
    }
};

WireLink::WireLink(EventLoop& loop, DatagramSink& sink, Roster& roster, PeerStore& store, KeyPins& pins,
                   const SigningKey& identity, WireListener& listener, Settings settings,
                   std::function<void(const std::string& why)> onRefused)
    : _settings(std::move(settings)),
      _timers(loop),
      _roster(roster),
      _listener(listener),
      _identity(identity),
      _drops(loop, _settings.dropReport),
      _sessions(identity),
      _trust(pins, _sessions, listener, _settings.legacy,
             [this](const std::string& name) { _delivery.sendWaitingNow(name); }),
      _relay(loop, sink, _settings.self,
             RelayLink::Hooks{[this] {
                 // indexd first: the punch that follows must find the relay candidate there.
                 _index.candidatesChanged();
                 if (_relay.candidate()) {
                     _paths.relayReady();
                 } else {
                     _paths.relayLost();
                 }
             }}),
      _paths(loop, sink, _relay, roster, _sessions, _settings.self,
             PeerPaths::Hooks{
                 [this](const std::string& peer) { _index.send(Punch{peer}); },
                 [this](const std::string& peer) { _delivery.sendWaitingNow(peer); },
                 [this](const std::string& peer, PathKind kind) { _listener.pathChanged(peer, kind); },
                 [this] { _relay.want(); },
             }),
      _index(loop, sink, _sessions, identity, pins, listener, _drops,
             IndexSession::Settings{_settings.self, _settings.index, _settings.indexKey, _settings.loginRetry,
                                    _settings.heartbeat,
                                    _settings.hostCandidates ? std::function([this] { return candidates(); })
                                                             : std::function<std::vector<Candidate>()>()},
             IndexSession::Hooks{
                 [this](const LoginState::Welcomed&) {
                     _presence.start();
                     _declaration.online();
                 },
                 [this] { return _presence.pending(); },
                 [this] { _presence.heartbeat(); },
                 [this] { _presence.cancel(); },
                 [this] { return _presence.applied(); },
                 [onRefused = std::move(onRefused)](const std::string& why) {
                     if (onRefused) onRefused(why);
                 },
             }),
      _presence(loop, roster, _index.verifier(), _trust, _drops, _settings.index, _settings.presenceRetry,
                PresenceTracker::Hooks{
                    [this] { return _index.online(); },
                    [this](const Roster::Change& change) { peerChanged(change); },
                    [this](std::size_t peers) {
                        _index.presenceLoaded(peers);
                        _delivery.presenceLoaded();
                        _contactMail.online();
                    },
                    [this](const std::string& detail) { _index.presenceFailed(detail); },
                    [this] { _declaration.resend(); },
                }),
      _contacts(store.contacts, store.settings, _settings.self, _settings.strangers),
      _groups(store.groups, _settings.self, identity),
      _status(store.settings, _settings.autoAway, loop.now()),
      _declaration(loop, _contacts, _status, _index, identity,
                   ContactDeclaration::Settings{_settings.self, _settings.loginRetry}),
      _contactMail(loop, _contacts, _trust, _index, identity, listener,
                   ContactMail::Settings{_settings.self, _settings.loginRetry}, [this] { _declaration.changed(); }),
      _delivery(loop, store.lines, store.outbox, store.incoming, roster, _contacts, _trust, _paths, _index, _presence, _status, identity, listener, _drops,
                Delivery::Settings{_settings.self, _settings.retransmit, _settings.receiveWindow},
                [this](const ContactLetter& letter) { _contactMail.letter(letter); }),
      _awayTimer(loop),
      _logger(Poco::Logger::get("peerd.wire"))
{
    armAway();
}

void WireLink::start()
{
    _delivery.start();
    _logger.information("logging in to indexd at " + _settings.index.toString() + " as " + _settings.self +
                        " (identity " + Fingerprint::of(_identity.publicKey()) + ")" +
                        (_settings.legacy ? "; legacy mode: plain talk with seed and .NET clients is on" : ""));
    _index.start();
}

std::string WireLink::setStatus(PresenceState state, const std::string& text)
{
    const PresenceState before = _status.state();
    if (std::string error = _status.set(state, text, _timers.now()); !error.empty()) return error;
    _logger.information("%s is now %s%s", _settings.self, std::string(presenceStateToken(state)),
                        text.empty() ? std::string() : ": " + text);
    ownStatusChanged(before);
    armAway();
    return {};
}

void WireLink::userActive()
{
    if (_status.active(_timers.now())) {
        _logger.information("%s is back", _settings.self);
        ownStatusChanged(PresenceState::Away);
    }
    armAway();
}

void WireLink::ownStatusChanged(PresenceState from)
{
    _listener.ownStatusChanged();
    // Contacts see the new state with the next version of the contact list.
    _declaration.changed();
    if (from == PresenceState::Invisible && _status.state() != PresenceState::Invisible) _delivery.visible();
}

void WireLink::armAway()
{
    const auto due = _status.awayAt();
    if (!due) {
        _awayTimer.cancel();
        return;
    }
    // Activity only moves the time later: an armed timer that fires early
    // finds the identity not idle yet and arms itself for the new time, so a
    // line sent costs no timer of its own.
    if (_awayTimer.armed()) return;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*due - _timers.now());
    _awayTimer.start(std::max(wait, std::chrono::milliseconds(0)), [this] {
        if (_status.idle(_timers.now())) {
            _logger.information("%s is away: no window was used for a while", _settings.self);
            ownStatusChanged(PresenceState::Online);
        }
        armAway();
    });
}

void WireLink::sendTyping(const std::string& peer)
{
    // An invisible user's notices would be dropped: its peers do not see it.
    if (!_settings.sendTyping || _status.state() == PresenceState::Invisible) return;
    const Roster::Peer* online = _roster.find(peer);
    if (online == nullptr || !_trust.trusted(peer, *online)) return;
    if (_typing.typing(peer, _timers.now())) _paths.send(peer, Typing{_settings.self, peer});
}

// Blocked users, and strangers while their lines are refused, type unseen.
void WireLink::typingFrom(const std::string& peer)
{
    if (_contacts.takesLinesFrom(peer) && _typing.noticed(peer, _timers.now())) _listener.peerTyping(peer);
}

void WireLink::logout()
{
    _delivery.stop();
    _contactMail.stop();
    _declaration.stop();
    _presence.cancel();
    _relay.release();
    _index.logout();
}

void WireLink::handleDatagram(std::string_view bytes, const Endpoint& from)
{
    // The TURN server's datagrams are STUN or ChannelData, whatever their first byte looks like.
    if (_relay.isServer(from)) {
        if (const auto relayed = _relay.receive(bytes)) handleRelayed(relayed->payload, relayed->peer);
        return;
    }
    // Cheapest first: where it comes from, then its size, then its text.
    if (!fromKnownSource(from)) {
        _drops.drop(DropReason::Stranger, from, "neither from indexd nor from a peer online");
        return;
    }
    if (const auto inbound = decode(bytes, from)) std::visit(Dispatch{*this, from}, inbound->message);
}

// What a peer sent to our relayed address: only a peer's seal is taken (the
// relay lets in only the hosts of peers indexd introduced, and whoever
// shares their address).
void WireLink::handleRelayed(std::string_view bytes, const Endpoint& from)
{
    const auto inbound = decode(bytes, from);
    if (!inbound) return;
    const Seal* seal = std::get_if<Seal>(&inbound->message);
    if (seal == nullptr) {
        _drops.drop(DropReason::Unexpected, from,
                    "plain " + std::string(Protocol::verb(inbound->message)) + " through the relay");
        return;
    }
    handleSeal(*seal, from, true);
}

// Its size, then its text; nullopt (dropped and counted) when either is wrong.
std::optional<Inbound> WireLink::decode(std::string_view bytes, const Endpoint& from)
{
    if (bytes.size() > Protocol::kMaxDatagramBytes) {
        _drops.drop(DropReason::Oversize, from,
                    "more than the " + std::to_string(Protocol::kMaxDatagramBytes) + " bytes a datagram may have");
        return std::nullopt;
    }
    Parsed<Inbound> inbound = Protocol::decodeDatagram(bytes);
    if (!inbound) {
        _drops.drop(DropReason::Malformed, from, inbound.error());
        return std::nullopt;
    }
    return std::move(inbound.value());
}

std::vector<Candidate> WireLink::candidates() const
{
    std::vector<Candidate> candidates = _settings.hostCandidates();
    if (const auto relay = _relay.candidate()) candidates.push_back(Candidate{CandidateKind::Relay, *relay});
    return candidates;
}

// True when from is indexd's endpoint or a peer's path (any port of a .NET
// peer's address in legacy mode): nobody else has anything to say to peerd.
bool WireLink::fromKnownSource(const Endpoint& from) const
{
    return from == _settings.index || _paths.knows(from) ||
           (_settings.legacy && _roster.hasDotNetAt(from.host()));
}

bool WireLink::fromIndex(const Endpoint& from, std::string_view verb)
{
    if (from == _settings.index) return true;
    _drops.drop(DropReason::Unexpected, from, std::string(verb) + " not from indexd at " + _settings.index.toString());
    return false;
}

bool WireLink::sealedFromIndex(const SealSource& source, std::string_view verb)
{
    if (source.peer.empty()) return true;
    _drops.drop(DropReason::Unexpected, source.from,
                std::string(verb) + " sealed by " + source.peer + ", not by indexd");
    return false;
}

bool WireLink::sealedFromPeer(const SealSource& source, const std::string& name, std::string_view verb)
{
    if (source.peer.empty()) {
        _drops.drop(DropReason::Unexpected, source.from,
                    std::string(verb) + " sealed by indexd, which carries no chat between peers");
        return false;
    }
    if (name != source.peer) {
        _drops.drop(DropReason::Unauthentic, source.from,
                    std::string(verb) + " names " + name + " but was sealed by " + source.peer);
        return false;
    }
    return true;
}

// Reports a presence change and, unless only the peer's state or status
// message changed, restarts the lines waiting for that peer.
void WireLink::peerChanged(const Roster::Change& change)
{
    if (change.statusOnly) {
        _logger.debug("%s is %s now", change.name, std::string(presenceStateToken(change.peer.state)));
        _listener.presenceChanged(change);
        return;
    }
    if (change.online) {
        _logger.information(change.name + " is online at " + change.peer.endpoint.toString());
    } else {
        _logger.information(change.name + " went offline");
    }
    _listener.presenceChanged(change);
    _paths.peerChanged(change);
    _delivery.peerChanged(change);
}

void WireLink::handleSeal(const Seal& seal, const Endpoint& from, bool relayed)
{
    if (!_sessions.ready()) {
        _drops.drop(DropReason::Unexpected, from, "seal before indexd welcomed this login: no session to open it with");
        return;
    }
    std::string peerName;
    std::optional<Parsed<std::string>> opened;
    if (from == _settings.index && !relayed) {
        opened = _sessions.openFromIndex(seal);
    } else {
        // Cheap checks first: a peer's path, a trusted key, the peer's current key id.
        const std::string* name =
            relayed ? _paths.peerRelayedFrom(from, seal.sender) : _paths.peerAt(from, seal.sender);
        if (name == nullptr) {
            _drops.drop(DropReason::Stranger, from, "seal from an endpoint where no peer is online");
            return;
        }
        const Roster::Peer& peer = *_roster.find(*name);
        if (!_trust.trusted(*name, peer)) {
            _drops.drop(DropReason::Unauthentic, from,
                        "seal from " + *name + ", whose key is not trusted (changed, or " + *name + " has none)");
            return;
        }
        if (KxKeyPair::idOf(peer.keys->kx) != seal.sender) {
            _drops.drop(DropReason::Unauthentic, from,
                        "seal from " + *name + " under a key-exchange key that is not " + *name + "'s current one");
            return;
        }
        peerName = *name;
        opened = _sessions.openFrom(peerName, *peer.keys, seal);
    }
    if (!opened->ok()) {
        _drops.drop(DropReason::Unauthentic, from, "seal refused: " + opened->error());
        return;
    }
    // One message, or a bundle of them: each is taken as if it came alone. A
    // peer's bundle holds lines and acks only, so that one datagram cannot
    // ask for a hundred answers (probes, caps); indexd's may hold any of its
    // messages (presence comes so).
    std::vector<Parsed<Message>> inner = Protocol::decodeBundle(opened->value());
    bool parsed = false;
    for (Parsed<Message>& message : inner) {
        if (!message) {
            _drops.drop(DropReason::Malformed, from, "sealed message does not parse: " + message.error());
        } else if (inner.size() > 1 && !peerName.empty() && !std::holds_alternative<Msg>(*message) &&
                   !std::holds_alternative<Ack>(*message)) {
            _drops.drop(DropReason::Unexpected, from,
                        std::string(Protocol::verb(*message)) + " in a bundle: a bundle holds msg and ack only");
            message = Parsed<Message>::refuse("not taken in a bundle");
        } else {
            parsed = true;
        }
    }
    if (!parsed) return;
    if (peerName.empty()) {
        _index.heard();
    } else {
        _paths.heard(peerName, from, relayed);
    }
    const SealSource source{from, peerName, relayed};
    for (const Parsed<Message>& message : inner) {
        if (message) std::visit(SealedDispatch{*this, source}, *message);
    }
}

} // namespace peerchat
