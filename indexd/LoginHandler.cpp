#include "LoginHandler.h"

#include "Fingerprint.h"
#include "SignedStatement.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <type_traits>
#include <utility>

namespace peerchat {

namespace {

// Looked up once: Logger::get takes a lock and a map lookup, and drop()
// asks the logger's level for every datagram of a flood.
Poco::Logger& logger()
{
    static Poco::Logger& instance = Poco::Logger::get("LoginHandler");
    return instance;
}

constexpr std::string_view kPeerchatPrefix = "peerchat/";

// The endpoint a client wrote, with an unspecified address ("0.0.0.0") taken
// from where the datagram came from, as the .NET program means it.
Endpoint resolveWritten(const Endpoint& written, const Endpoint& source)
{
    if (!written.host().isWildcard()) return written;
    return Endpoint(Poco::Net::SocketAddress(source.host(), written.port()));
}

// The raw bytes of endpoint's address, read in place: the rate limit's key,
// had for every datagram without making a Poco::Net::IPAddress.
std::string_view addressBytes(const Endpoint& endpoint)
{
    const sockaddr* address = endpoint.address().addr();
    if (address->sa_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
        return std::string_view(reinterpret_cast<const char*>(&in6), sizeof in6);
    }
    const auto& in = reinterpret_cast<const sockaddr_in*>(address)->sin_addr;
    return std::string_view(reinterpret_cast<const char*>(&in), sizeof in);
}

} // namespace

LoginHandler::LoginHandler(Parts parts, RosterPorts ports, bool legacy, Clock clock, WallClock wallClock)
    : _parts(parts),
      _ports(ports),
      _legacy(legacy),
      _clock(std::move(clock)),
      _wallClock(std::move(wallClock)),
      _introducer(parts.directory, kMaxIntroductionRates)
{
}

std::uint64_t LoginHandler::systemMilliseconds()
{
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

template <typename Detail>
void LoginHandler::drop(DropReason reason, const Endpoint& source, Detail detail)
{
    // Most drops of a flood are neither the interval's example nor logged:
    // a counter, and no string is made.
    const bool logged = logger().debug();
    if (!logged && !_drops.wantsDetail(reason)) {
        _drops.count(reason, source, {});
        return;
    }
    const std::string text = detail();
    _drops.count(reason, source, text);
    if (logged)
        logger().debug("dropped datagram from %s: %s (%s)", source.toString(), text,
                       std::string(DropCounter::name(reason)));
}

void LoginHandler::handleDatagram(std::string_view bytes, const Endpoint& source)
{
    // Only a seal from a logged-in peerchat/3 user's endpoint may be
    // authentic; everything else is charged to its address before it costs
    // any parsing (a seal from there is charged when it does not open).
    const OnlineUser* sender = _parts.directory.findAt(source);
    const bool fromSession = sender && sender->keys;
    if (!fromSession && !admit(source)) return;
    if (bytes.size() > Protocol::kMaxDatagramBytes) {
        drop(DropReason::Oversize, source, [] {
            return "more than the " + std::to_string(Protocol::kMaxDatagramBytes) + " bytes a datagram may have";
        });
        return;
    }
    auto inbound = Protocol::decodeDatagram(bytes);
    const bool sealed = inbound && std::holds_alternative<Seal>(inbound->message);
    if (fromSession && !sealed && !admit(source)) return;
    if (!inbound) {
        drop(DropReason::Malformed, source, [&] { return inbound.error(); });
        return;
    }
    try {
        dispatch(*inbound, Request{source, bytes.size(), inbound->encoding, Protocol::verb(inbound->message)});
    } catch (const Poco::Exception& e) {
        // The database failed (disk full, file taken away): the sender hears
        // nothing and sends again. An error once an interval, counted besides.
        if (_drops.wantsDetail(DropReason::Failed))
            logger().error("cannot handle %s from %s: %s", std::string(Protocol::verb(inbound->message)),
                           source.toString(), e.displayText());
        drop(DropReason::Failed, source,
             [&] { return std::string(Protocol::verb(inbound->message)) + ": " + e.displayText(); });
    }
}

void LoginHandler::dispatch(const Inbound& inbound, const Request& request)
{
    std::visit(
        [&](const auto& message) {
            using T = std::decay_t<decltype(message)>;
            constexpr bool seedVerb = std::is_same_v<T, Login> || std::is_same_v<T, Logout>;
            if (!seedVerb && request.encoding != TextEncoding::Utf8) {
                drop(DropReason::Unexpected, request.source, [&] {
                    return std::string(request.verb) + " in UTF-16LE: peerchat/3 is spoken in UTF-8 only";
                });
                return;
            }
            if constexpr (std::is_same_v<T, Hello>)
                handleHello(message, request);
            else if constexpr (std::is_same_v<T, Auth>)
                handleAuth(message, request);
            else if constexpr (std::is_same_v<T, Seal>)
                handleSeal(message, request);
            else if constexpr (std::is_same_v<T, Login>)
                handleLegacyLogin(message, request);
            else if constexpr (std::is_same_v<T, Logout>)
                handleLegacyLogout(message, request.source);
            else if constexpr (std::is_same_v<T, Alive> || std::is_same_v<T, Post> || std::is_same_v<T, Ack>)
                drop(DropReason::Unexpected, request.source,
                     [&] { return "plain " + std::string(request.verb) + ": peerchat/3 users send it sealed"; });
            else
                drop(DropReason::Unexpected, request.source,
                     [&] { return std::string(request.verb) + " is not a message for indexd"; });
        },
        inbound.message);
}

void LoginHandler::handleHello(const Hello& hello, const Request& request)
{
    if (dialectFromToken(hello.dialect) != Dialect::Peerchat) {
        refuse(request, hello.name, "version", hello.nonce, "dialect " + hello.dialect + " is not supported");
        return;
    }
    if (!hello.nonce) {
        drop(DropReason::Malformed, request.source,
             [&] { return "hello " + hello.name + " without HNONCE, which peerchat/3 requires"; });
        return;
    }
    if (logger().debug()) logger().debug("hello %s from %s: challenged", hello.name, request.source.toString());
    Challenge challenge{hello.name,
                        request.source,
                        _cookie.issue(hello.name, request.source, _wallClock()),
                        *hello.nonce,
                        _parts.identity.epoch(),
                        _parts.identity.publicKey(),
                        Signature{}};
    // Signed, so peerd signs only an OBSERVED indexd vouches for: a hello
    // costs indexd a signature, which its rate limit per address bounds.
    challenge.sig = _parts.identity.sign(SignedStatement::challenge(challenge));
    answer(challenge, request.source, request);
}

void LoginHandler::handleAuth(const Auth& auth, const Request& request)
{
    const Endpoint& source = request.source;
    // Cheapest checks first: nothing here costs a signature check until the
    // auth answers a challenge of this run, for this name at this address,
    // that no auth has answered yet.
    const auto refuseAuth = [&](const std::string& reason, const std::string& why) {
        refuse(request, auth.name, reason, auth.nonce, why);
    };
    if (dialectFromToken(auth.dialect) != Dialect::Peerchat) {
        refuseAuth("version", "dialect " + auth.dialect + " is not supported");
        return;
    }
    if (auth.observed != source) {
        drop(DropReason::Unauthentic, source,
             [&] { return "auth " + auth.name + " answers a challenge sent to " + auth.observed.toString(); });
        return;
    }
    const auto stamp =
        _cookie.check(auth.nonce, auth.name, auth.observed, _wallClock(), kChallengeMaxAgeMs);
    if (!stamp) {
        refuseAuth("auth", "challenge " + stamp.error());
        return;
    }
    if (!_parts.keys.isFresh(auth.name, *stamp)) {
        drop(DropReason::Unauthentic, source, [&] {
            return "auth " + auth.name + " replayed: its challenge is not newer than the last one answered";
        });
        return;
    }
    const auto owner = _parts.keys.identityOf(auth.name);
    if (owner && *owner != auth.keys.identity) {
        refuseAuth("key", auth.name + " belongs to identity key " + Fingerprint::of(*owner) + ", not "
                              + Fingerprint::of(auth.keys.identity));
        return;
    }
    if (_parts.directory.isRetired(auth.keys.kx)) {
        refuseAuth("auth", "its key-exchange key is one of an earlier login; each login needs a new one");
        return;
    }
    if (const std::string* holder = _parts.directory.holderOf(auth.keys.kx); holder && *holder != auth.name) {
        refuseAuth("auth", "its key-exchange key is the one " + *holder + " is online with");
        return;
    }
    const std::string kxStatement = SignedStatement::kx(auth.keys.identity, auth.name, auth.keys.kx,
                                                        _parts.identity.publicKey(), _parts.identity.epoch());
    if (!SigningKey::verify(auth.keys.identity, SignedStatement::auth(auth), auth.sig)
        || !SigningKey::verify(auth.keys.identity, kxStatement, auth.keys.kxSig)) {
        refuseAuth("auth", "its signature does not verify with its identity key");
        return;
    }
    auto cipher =
        SessionCipher::between(_parts.identity.kx(), _parts.identity.key(), auth.keys.identity, auth.keys.kx);
    if (!cipher) {
        refuseAuth("auth", "its key-exchange key is not usable");
        return;
    }
    const auto now = _clock();
    const LoginOutcome::Kind kind = _parts.directory.loginKind(auth.name, source, Dialect::Peerchat, auth.keys);
    if (kind == LoginOutcome::Kind::Taken) {
        refuseAuth("taken", "already online at " + _parts.directory.find(auth.name)->endpoint.toString());
        return;
    }
    // A login that would be announced costs a token of its identity's
    // bucket, so one key cannot make indexd flood its contacts with its
    // comings and goings; a repeated auth of the same login is free.
    if (kind != LoginOutcome::Kind::AlreadyHere
        && !_parts.loginLimiter.admit(RateLimiter::keyOf(auth.keys.identity), now)) {
        refuseAuth("busy", "identity key " + Fingerprint::of(auth.keys.identity) + " logged in more than "
                               + std::to_string(static_cast<long>(_parts.loginLimiter.rate() * 60))
                               + " times a minute");
        return;
    }
    // Bound first: should the database fail, the login has changed nothing.
    if (!owner) _parts.keys.bind(auth.name, auth.keys.identity);
    _parts.keys.acceptStamp(auth.name, *stamp);

    const LoginOutcome outcome = _parts.directory.login(auth.name, source, Dialect::Peerchat, source.host(), now,
                                                        PeerSession{auth.keys, std::move(*cipher)});
    Welcome welcome{auth.name, _parts.identity.epoch(), _parts.identity.publicKey(),
                    _parts.identity.kx().publicKey(), Signature{}};
    welcome.sig = _parts.identity.sign(SignedStatement::welcome(welcome, auth.nonce));
    answer(welcome, source, request);
    // After every welcome, a repeated one included: the peerd that asked
    // again may have lost the first Turn with the first welcome.
    grantRelay(auth.name);
    if (outcome.kind == LoginOutcome::Kind::AlreadyHere)
        logger().debug("login %s again at %s: welcomed, nothing to announce", auth.name, source.toString());
    else
        logger().information("login %s at %s (peerchat/3, key %s%s); %z online", auth.name, source.toString(),
                             Fingerprint::of(auth.keys.identity),
                             std::string(owner ? "" : ", which now owns the name"), _parts.directory.size());
    announce(outcome, auth.name, now);
}

void LoginHandler::handleLegacyLogin(const Login& login, const Request& request)
{
    const bool utf16 = request.encoding == TextEncoding::Utf16le;
    // A UTF-8 client is reachable where its datagram came from (NAT included);
    // the .NET program sends from throwaway sockets and listens where it wrote.
    const Endpoint registered = utf16 ? resolveWritten(login.endpoint, request.source) : request.source;
    const auto refuseLogin = [&](const std::string& reason, const std::string& why) {
        refuse(request, login.name, reason, std::nullopt, why);
    };

    if (login.dialect.compare(0, kPeerchatPrefix.size(), kPeerchatPrefix) == 0) {
        // peerchat/1 was retired and peerchat/3 logs in with hello and auth.
        refuseLogin("version", "dialect " + login.dialect + " is not supported in a plain login");
        return;
    }
    if (!_legacy) {
        refuseLogin("legacy", "seed and .NET clients log in only when indexd runs with --legacy");
        return;
    }
    if (registered.host() != request.source.host()) {
        // indexd answers only where a datagram came from; an Accept to an
        // endpoint of another address would let anyone aim indexd at anyone.
        drop(DropReason::Unexpected, request.source, [&] {
            return ".NET login of " + login.name + " names endpoint " + registered.toString()
                   + ", of another address than its own";
        });
        return;
    }
    if (const auto conflict = legacyConflict(login.name, registered)) {
        refuseLogin(conflict->reason, conflict->why);
        return;
    }

    const Dialect dialect = utf16 ? Dialect::DotNet : Dialect::Seed;
    const Accept accept{rosterPortFor(dialect)};
    if (_parts.directory.loginKind(login.name, registered, dialect, std::nullopt) == LoginOutcome::Kind::AlreadyHere) {
        logger().debug("login %s again at %s: accepted, nothing to announce", login.name, registered.toString());
        answer(accept, registered, request);
        return;
    }
    const OnlineUser* waiting = _unproven.find(login.name);
    if (!waiting || waiting->endpoint != registered || waiting->dialect != dialect) {
        // Counted per address, as the peerchat/3 logins per identity key:
        // a proven login is announced to every user.
        const auto now = _clock();
        if (!_parts.loginLimiter.admit(addressBytes(request.source), now)) {
            refuseLogin("busy", "its address logged in more than "
                                    + std::to_string(static_cast<long>(_parts.loginLimiter.rate() * 60))
                                    + " times a minute");
            return;
        }
        _unproven.hold(OnlineUser{login.name, registered, dialect, request.source.host(), std::nullopt}, now);
    }
    if (logger().debug())
        logger().debug("login %s at %s (%s, wrote %s): accepted; online once a roster connection comes from %s",
                       login.name, registered.toString(), std::string(dialectToken(dialect)),
                       login.endpoint.toString(), request.source.host().toString());
    answer(accept, registered, request);
}

std::optional<LoginHandler::Refusal> LoginHandler::legacyConflict(const std::string& name, const Endpoint& endpoint)
{
    if (_parts.keys.identityOf(name))
        return Refusal{"key", name + " belongs to an identity key, which a plain login cannot prove it holds"};
    if (const OnlineUser* held = _parts.directory.findAt(endpoint); held && held->keys && held->name != name)
        return Refusal{"taken", endpoint.toString() + " is where peerchat/3 user " + held->name + " is logged in"};
    if (const OnlineUser* online = _parts.directory.find(name); online && online->endpoint != endpoint)
        return Refusal{"taken", "already online at " + online->endpoint.toString()};
    return std::nullopt;
}

void LoginHandler::handleRosterConnection(const Poco::Net::IPAddress& address)
{
    const auto user = _unproven.prove(address);
    if (!user) return;
    try {
        if (const auto conflict = legacyConflict(user->name, user->endpoint)) {
            logger().debug("login %s at %s not put online though proven: %s", user->name, user->endpoint.toString(),
                           conflict->why);
            return;
        }
        const auto now = _clock();
        const LoginOutcome outcome =
            _parts.directory.login(user->name, user->endpoint, user->dialect, user->loginSource, now);
        if (outcome.kind == LoginOutcome::Kind::AlreadyHere) return;
        logger().information("login %s at %s (%s, unauthenticated, proven by a roster connection from %s); %z online",
                             user->name, user->endpoint.toString(), std::string(dialectToken(user->dialect)),
                             address.toString(), _parts.directory.size());
        announce(outcome, user->name, now);
    } catch (const Poco::Exception& e) {
        logger().error("cannot put %s online: %s", user->name, e.displayText());
    }
}

void LoginHandler::handleLegacyLogout(const Logout& logout, const Endpoint& source)
{
    if (const OnlineUser* user = _parts.directory.find(logout.name); user && user->keys) {
        drop(DropReason::Unexpected, source,
             [&] { return "plain logout of peerchat/3 user " + logout.name + ", who logs out sealed"; });
        return;
    }
    if (!_legacy) {
        drop(DropReason::Unexpected, source,
             [&] { return "plain logout of " + logout.name + ": seed and .NET clients need --legacy"; });
        return;
    }
    const Endpoint written = resolveWritten(logout.endpoint, source);
    if (const OnlineUser* waiting = _unproven.find(logout.name);
        waiting && Directory::isOwnLogout(*waiting, written, source)) {
        logger().debug("logout %s at %s before its login was proven", logout.name, waiting->endpoint.toString());
        _unproven.forget(logout.name);
        return;
    }
    const LogoutOutcome outcome = _parts.directory.logout(logout.name, written, source);
    switch (outcome.kind) {
    case LogoutOutcome::Kind::NotOnline:
        drop(DropReason::Unexpected, source, [&] { return "logout of " + logout.name + ", who is not online"; });
        return;
    case LogoutOutcome::Kind::WrongSource:
        drop(DropReason::Unauthentic, source, [&] {
            return "logout of " + logout.name + ", who is registered at " + outcome.user->endpoint.toString();
        });
        return;
    case LogoutOutcome::Kind::LoggedOut:
        logger().information("logout %s at %s; %z online", logout.name, outcome.user->endpoint.toString(),
                             _parts.directory.size());
        announceLeft(*outcome.user);
        return;
    }
}

void LoginHandler::handleSeal(const Seal& seal, const Request& request)
{
    const Endpoint& source = request.source;
    const OnlineUser* user = _parts.directory.findAt(source);
    SessionCipher* session = user ? _parts.directory.session(user->name) : nullptr;
    if (!session || !session->carries(seal)) {
        // From a user's endpoint the seal was not charged yet.
        if (session && !admit(source)) return;
        handleSealFromElsewhere(seal, request);
        return;
    }
    const std::string name = user->name;
    const auto plaintext = session->open(seal);
    if (!plaintext) {
        if (!admit(source)) return;
        drop(DropReason::Unauthentic, source,
             [&] { return "sealed datagram of " + name + " refused: " + plaintext.error(); });
        return;
    }
    if (const auto inner = decodeSealed(*plaintext, name, source)) dispatchSealed(*inner, name, source);
}

void LoginHandler::handleSealFromElsewhere(const Seal& seal, const Request& request)
{
    const Endpoint& source = request.source;
    // One session is tried, the one the SKID names; the datagram was charged
    // to its source's rate limit before any of this.
    const std::string* holder = _parts.directory.holderOfKeyId(seal.sender);
    SessionCipher* session = holder ? _parts.directory.session(*holder) : nullptr;
    if (!session || !session->carries(seal)) {
        // Sealed between keys this run does not hold: indexd restarted, or
        // the user's login expired. Unknown, so the bare relogin.
        drop(DropReason::Unauthentic, source,
             [] { return std::string("sealed between keys this indexd does not hold; answered relogin"); });
        answer(Relogin{}, source, request);
        return;
    }
    const std::string name = *holder;
    const auto plaintext = session->open(seal);
    if (!plaintext) {
        // Forged, or a replay of the user's own datagram: it moves nothing,
        // and its source hears what any unknown seal gets.
        drop(DropReason::Unauthentic, source, [&] {
            return "seal under " + name + "'s session from " + source.toString()
                   + ", where it is not registered, refused: " + plaintext.error() + "; answered relogin";
        });
        answer(Relogin{}, source, request);
        return;
    }
    const auto inner = decodeSealed(*plaintext, name, source);
    if (!inner) return;
    // A move is announced to the user's contacts, as a login is, so it costs
    // a token of the same bucket: a user cannot make indexd flood them by
    // sending from port after port. Charged only once the seal opened, so that a
    // forger cannot spend a user's logins.
    const PublicKey& identity = _parts.directory.find(name)->keys->identity;
    if (!_parts.loginLimiter.admit(RateLimiter::keyOf(identity), _clock())) {
        drop(DropReason::RateLimited, source, [&] {
            return name + " cannot move to " + source.toString() + ": identity key " + Fingerprint::of(identity)
                   + " logged in or moved more than "
                   + std::to_string(static_cast<long>(_parts.loginLimiter.rate() * 60)) + " times a minute";
        });
        return;
    }
    const MoveOutcome moved = _parts.directory.move(name, source);
    if (moved.kind != MoveOutcome::Kind::Moved) {
        drop(DropReason::Unexpected, source, [&] {
            return name + " cannot move to " + source.toString() + ": another user is registered there";
        });
        return;
    }
    logger().information("%s moved from %s to %s (its NAT mapping changed); announced at its new endpoint", name,
                         moved.from.toString(), source.toString());
    _parts.presence.arrived(*_parts.directory.find(name));
    dispatchSealed(*inner, name, source);
}

std::optional<Message> LoginHandler::decodeSealed(const std::string& plaintext, const std::string& name,
                                                  const Endpoint& source)
{
    auto inner = Protocol::decode(plaintext);
    if (!inner) {
        drop(DropReason::Malformed, source,
             [&] { return "sealed datagram of " + name + " holds no message: " + inner.error(); });
        return std::nullopt;
    }
    return std::move(inner.value());
}

void LoginHandler::dispatchSealed(const Message& inner, const std::string& name, const Endpoint& source)
{
    std::visit(
        [&](const auto& message) {
            using T = std::decay_t<decltype(message)>;
            if constexpr (std::is_same_v<T, Alive>)
                handleAlive(message, name, source);
            else if constexpr (std::is_same_v<T, Logout>)
                handleSealedLogout(message, name, source);
            else if constexpr (std::is_same_v<T, Punch>)
                handlePunch(message, name, source);
            else if constexpr (std::is_same_v<T, Post>)
                _parts.carrier.handlePost(message, name, _clock());
            else if constexpr (std::is_same_v<T, Ack>)
                _parts.carrier.handleAck(message, name);
            else if constexpr (std::is_same_v<T, Whois>)
                handleWhois(message, name, source);
            else if constexpr (std::is_same_v<T, ContactsDeclaration>)
                handleContacts(message, name, source);
            else
                drop(DropReason::Unexpected, source, [&] {
                    return "sealed " + std::string(Protocol::verb(message)) + " of " + name
                           + " is not a message for indexd";
                });
        },
        inner);
}

void LoginHandler::handleAlive(const Alive& alive, const std::string& name, const Endpoint& source)
{
    if (alive.name != name) {
        drop(DropReason::Unexpected, source, [&] { return "alive for " + alive.name + " sealed by " + name; });
        return;
    }
    _parts.directory.heardFrom(name, source, _clock());
    // Claimed srflx candidates and implausible ones are left out quietly:
    // the alive is good, only part of what it says is not kept.
    if (alive.candidates) _parts.directory.setCandidates(name, *alive.candidates);
    // Heartbeats come from every peerd all the time: debug, not information.
    const std::uint64_t sent = _parts.directory.find(name)->presenceSeq;
    if (logger().debug())
        logger().debug("alive %s from %s (applied presence %?u of %?u)", name, source.toString(), alive.seq, sent);
    _parts.sealed.send(name, Seen{sent});
    // Renewed on a heartbeat rather than on a timer per user: a peerd sends
    // one every few seconds, and half a credential's life is hours.
    if (_parts.relay && TurnRelay::isHalfSpent(_parts.directory.find(name)->turnExpiry, _wallClock() / 1000))
        grantRelay(name);
}

void LoginHandler::grantRelay(const std::string& name)
{
    if (!_parts.relay) return;
    const Turn turn = _parts.relay->grant(name, _wallClock() / 1000);
    if (!_parts.sealed.send(name, turn)) return;
    _parts.directory.setTurnExpiry(name, turn.expiry);
    if (logger().debug())
        logger().debug("turn %s: credential for %s valid until %?u", name, _parts.relay->server().toString(),
                       turn.expiry);
}

void LoginHandler::handleSealedLogout(const Logout& logout, const std::string& name, const Endpoint& source)
{
    if (logout.name != name) {
        drop(DropReason::Unexpected, source, [&] { return "logout of " + logout.name + " sealed by " + name; });
        return;
    }
    const LogoutOutcome outcome = _parts.directory.logout(name, source, source);
    if (outcome.kind != LogoutOutcome::Kind::LoggedOut) return;
    logger().information("logout %s at %s; %z online", name, source.toString(), _parts.directory.size());
    announceLeft(*outcome.user);
}

void LoginHandler::handlePunch(const Punch& punch, const std::string& name, const Endpoint& source)
{
    using Kind = Introduction::Kind;
    // An address goes only to whom presence goes: a user who does not see
    // the peer (not mutual contacts, or the peer is invisible) learns no more
    // from a punch than that it was dropped.
    const OnlineUser* peer = _parts.directory.find(punch.peer);
    if (peer && peer->dialect == Dialect::Peerchat && !_parts.presence.sees(name, *peer)) {
        drop(DropReason::Unexpected, source, [&] {
            return "punch of " + punch.peer + " by " + name + ": " + name + " does not see " + punch.peer
                   + " (not mutual contacts, or invisible)";
        });
        return;
    }
    const Introduction introduction = _introducer.introduce(name, punch.peer, _clock());
    if (introduction.kind == Kind::Introduced) {
        // Both sides are logged-in users, told at their registered endpoints.
        _parts.sealed.send(name, introduction.toRequester);
        _parts.sealed.send(punch.peer, introduction.toPeer);
        if (logger().debug()) logger().debug("punch %s to %s: both told to meet", name, punch.peer);
        // The one turn after the welcome may have been lost, and nothing
        // says so: a peerd that punches may need the relay next.
        grantRelay(name);
        return;
    }
    const bool limited = introduction.kind == Kind::RequesterBusy || introduction.kind == Kind::PairTooSoon;
    drop(limited ? DropReason::RateLimited : DropReason::Unexpected, source, [&] {
        const std::string what = "punch of " + punch.peer + " by " + name + ": ";
        switch (introduction.kind) {
        case Kind::Introduced: break;
        case Kind::PeerOffline: return what + punch.peer + " is not online";
        case Kind::PeerLegacy: return what + punch.peer + " is a seed or .NET user, who cannot punch";
        case Kind::Self: return what + "it names its sender";
        case Kind::RequesterBusy:
            return what + "more than " + std::to_string(static_cast<long>(Introducer::kRequesterRate * 10))
                   + " introductions in 10 s (" + std::to_string(static_cast<long>(Introducer::kRequesterBurst))
                   + " at once)";
        case Kind::PairTooSoon: return what + "the two were introduced less than a second ago";
        }
        return what;
    });
}

void LoginHandler::handleWhois(const Whois& whois, const std::string& name, const Endpoint& source)
{
    const PublicKey& identity = _parts.directory.find(name)->keys->identity;
    if (!_whoisLimiter.admit(RateLimiter::keyOf(identity), _clock())) {
        drop(DropReason::RateLimited, source, [&] {
            return "whois " + whois.name + " by " + name + ": more than " + std::to_string(static_cast<long>(kWhoisBurst))
                   + " at once, or " + std::to_string(static_cast<long>(kWhoisRate)) + " a second";
        });
        return;
    }
    _parts.sealed.send(name, NameKey{whois.name, _parts.keys.identityOf(whois.name)});
    if (logger().debug()) logger().debug("whois %s by %s", whois.name, name);
}

void LoginHandler::handleContacts(const ContactsDeclaration& declaration, const std::string& name,
                                  const Endpoint& source)
{
    if (declaration.name != name) {
        drop(DropReason::Unexpected, source,
             [&] { return "contact list of " + declaration.name + " sealed by " + name; });
        return;
    }
    const PublicKey& identity = _parts.directory.find(name)->keys->identity;
    if (!_declarationLimiter.admit(RateLimiter::keyOf(identity), _clock())) {
        drop(DropReason::RateLimited, source, [&] {
            return "contact list of " + name + ": more than " + std::to_string(static_cast<long>(kDeclarationBurst))
                   + " parts at once, or one every " + std::to_string(static_cast<long>(1 / kDeclarationRate))
                   + " s";
        });
        return;
    }
    if (!SigningKey::verify(identity, SignedStatement::contacts(declaration), declaration.sig)) {
        drop(DropReason::Unauthentic, source,
             [&] { return "contact list of " + name + " not signed by " + name + "'s identity key"; });
        return;
    }
    switch (_parts.presence.declare(declaration)) {
    case ContactRoutes::Taken::Complete:
        if (logger().debug()) {
            std::string names;
            for (const std::string& contact : _parts.routes.contactsOf(name)) names += (names.empty() ? "" : " ") + contact;
            logger().debug("contacts of %s, version %?u: %s", name, declaration.version,
                           names.empty() ? std::string("none") : names);
        }
        _parts.sealed.send(name, Declared{_parts.routes.versionOf(name)});
        return;
    case ContactRoutes::Taken::Incomplete: return;
    case ContactRoutes::Taken::Stale:
        drop(DropReason::Unexpected, source, [&] {
            return "part " + std::to_string(declaration.part) + " of an older contact list of " + name;
        });
        return;
    case ContactRoutes::Taken::TooLong:
        drop(DropReason::Unexpected, source, [&] {
            return "contact list of " + name + " holds more than " + std::to_string(Protocol::kMaxContacts) +
                   " names";
        });
        return;
    }
}

void LoginHandler::announceLeft(const OnlineUser& user)
{
    _parts.presence.left(user);
    _parts.broadcaster.announceLogout(user);
}

void LoginHandler::expireSilentUsers(std::chrono::milliseconds silence)
{
    for (const OnlineUser& user : _parts.directory.expireHeardBefore(_clock() - silence)) {
        logger().information("logout %s at %s: not heard from for %ld ms; %z online", user.name,
                             user.endpoint.toString(), static_cast<long>(silence.count()), _parts.directory.size());
        announceLeft(user);
    }
    const std::uint64_t wallNow = _wallClock();
    if (wallNow > kChallengeMaxAgeMs) _parts.keys.forgetStampsBefore(wallNow - kChallengeMaxAgeMs);
}

void LoginHandler::expireUnprovenLogins(std::chrono::milliseconds maxAge)
{
    // Counted with the drops: most are forged, and there may be many.
    for (const OnlineUser& user : _unproven.expireHeldBefore(_clock() - maxAge)) {
        drop(DropReason::Unauthentic, user.endpoint, [&] {
            return std::string(dialectToken(user.dialect)) + " login of " + user.name
                   + " not proven by a roster connection within " + std::to_string(maxAge.count()) + " ms";
        });
    }
}

void LoginHandler::reportDrops(std::chrono::milliseconds interval)
{
    const std::string summary = _drops.takeSummary(interval);
    if (!summary.empty()) logger().warning("%s", summary);
}

bool LoginHandler::admit(const Endpoint& source)
{
    if (_parts.limiter.admit(addressBytes(source), _clock())) return true;
    drop(DropReason::RateLimited, source, [&] {
        return "its address sent more than " + std::to_string(static_cast<long>(_parts.limiter.rate()))
               + " a second (" + std::to_string(static_cast<long>(_parts.limiter.burst()))
               + " at once) that do not come sealed from a logged-in user";
    });
    return false;
}

void LoginHandler::answer(const Message& message, const Endpoint& to, const Request& request)
{
    const std::string bytes = Protocol::encodeDatagram(message, request.encoding);
    if (bytes.size() > request.bytes) {
        drop(DropReason::Unexpected, request.source, [&] {
            return "did not send " + std::string(Protocol::verb(message)) + " to " + to.toString() + ": its "
                   + std::to_string(bytes.size()) + " bytes would answer a datagram of "
                   + std::to_string(request.bytes);
        });
        return;
    }
    _parts.replies.sendTo(bytes, to);
}

void LoginHandler::refuse(const Request& request, const std::string& name, const std::string& reason,
                          const std::optional<Nonce>& echo, const std::string& why)
{
    const std::string detail = std::string(request.verb) + " " + name + ": " + reason + ", " + why;
    _drops.count(DropReason::Refused, request.source, detail);
    if (logger().debug())
        logger().debug("refused %s %s from %s: %s", std::string(request.verb), name, request.source.toString(), why);
    answer(Refuse{name, reason, echo}, request.source, request);
}

void LoginHandler::announce(const LoginOutcome& outcome, const std::string& name, Directory::TimePoint now)
{
    if (outcome.displaced) {
        logger().information("logout %s at %s: %s logged in from its endpoint", outcome.displaced->name,
                             outcome.displaced->endpoint.toString(), name);
        announceLeft(*outcome.displaced);
    }
    if (outcome.kind == LoginOutcome::Kind::Registered || outcome.kind == LoginOutcome::Kind::Changed) {
        const OnlineUser& user = *_parts.directory.find(name);
        _parts.presence.arrived(user);
        _parts.broadcaster.announceLogin(user);
    }
    _parts.carrier.deliverTo(name, now);
}

std::uint16_t LoginHandler::rosterPortFor(Dialect dialect) const
{
    switch (dialect) {
    case Dialect::Seed: return _ports.seed;
    case Dialect::DotNet: return _ports.dotnet;
    case Dialect::Peerchat: break;
    }
    return 0;
}

} // namespace peerchat
