#include "LoginHandler.h"

#include "Fingerprint.h"
#include "SignedStatement.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <type_traits>
#include <utility>

namespace peerchat {

namespace {

Poco::Logger& logger() { return Poco::Logger::get("LoginHandler"); }

constexpr std::string_view kPeerchatPrefix = "peerchat/";

// The endpoint a client wrote, with an unspecified address ("0.0.0.0") taken
// from where the datagram came from, as the .NET program means it.
Endpoint resolveWritten(const Endpoint& written, const Endpoint& source)
{
    if (!written.host().isWildcard()) return written;
    return Endpoint(Poco::Net::SocketAddress(source.host(), written.port()));
}

} // namespace

LoginHandler::LoginHandler(Parts parts, RosterPorts ports, bool legacy, Clock clock, WallClock wallClock)
    : _parts(parts), _ports(ports), _legacy(legacy), _clock(std::move(clock)), _wallClock(std::move(wallClock))
{
}

std::uint64_t LoginHandler::systemMilliseconds()
{
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

void LoginHandler::handleDatagram(std::string_view bytes, const Endpoint& source)
{
    // Only a seal from a logged-in peerchat/2 user's endpoint may be
    // authentic; everything else is charged to its address before it costs
    // any parsing (a seal from there is charged when it does not open).
    const OnlineUser* sender = _parts.directory.findAt(source);
    const bool fromSession = sender && sender->keys;
    if (!fromSession && !admit(source)) return;
    if (bytes.size() > Protocol::kMaxDatagramBytes) {
        drop(source, "datagram of " + std::to_string(bytes.size()) + " bytes, more than the "
                         + std::to_string(Protocol::kMaxDatagramBytes) + " allowed");
        return;
    }
    auto inbound = Protocol::decodeDatagram(bytes);
    const bool sealed = inbound && std::holds_alternative<Seal>(inbound->message);
    if (fromSession && !sealed && !admit(source)) return;
    if (!inbound) {
        drop(source, inbound.error());
        return;
    }
    try {
        dispatch(*inbound, Request{source, bytes.size()});
    } catch (const Poco::Exception& e) {
        // The database failed (disk full, file taken away): the sender hears
        // nothing and sends again.
        logger().error("cannot handle %s from %s: %s", std::string(Protocol::verb(inbound->message)),
                       source.toString(), e.displayText());
    }
}

void LoginHandler::dispatch(const Inbound& inbound, const Request& request)
{
    const TextEncoding encoding = inbound.encoding;
    std::visit(
        [&](const auto& message) {
            using T = std::decay_t<decltype(message)>;
            constexpr bool seedVerb = std::is_same_v<T, Login> || std::is_same_v<T, Logout>;
            if (!seedVerb && encoding != TextEncoding::Utf8) {
                drop(request.source,
                     std::string(Protocol::verb(message)) + " in UTF-16LE: peerchat/2 is spoken in UTF-8 only");
                return;
            }
            if constexpr (std::is_same_v<T, Hello>)
                handleHello(message, request);
            else if constexpr (std::is_same_v<T, Auth>)
                handleAuth(message, request);
            else if constexpr (std::is_same_v<T, Seal>)
                handleSeal(message, request);
            else if constexpr (std::is_same_v<T, Login>)
                handleLegacyLogin(message, encoding, request);
            else if constexpr (std::is_same_v<T, Logout>)
                handleLegacyLogout(message, request.source);
            else if constexpr (std::is_same_v<T, Alive> || std::is_same_v<T, Post> || std::is_same_v<T, Ack>)
                drop(request.source, "plain " + std::string(Protocol::verb(message))
                                         + ": peerchat/2 users send it sealed");
            else
                drop(request.source, std::string(Protocol::verb(message)) + " is not a message for indexd");
        },
        inbound.message);
}

void LoginHandler::handleHello(const Hello& hello, const Request& request)
{
    if (dialectFromToken(hello.dialect) != Dialect::Peerchat) {
        logger().information("refused hello %s from %s: dialect %s is not supported", hello.name,
                             request.source.toString(), hello.dialect);
        answer(Refuse{hello.name, "version", hello.nonce}, TextEncoding::Utf8, request.source, request.bytes);
        return;
    }
    // Hellos come from every peerd at every login, and floods of them from anyone: debug.
    logger().debug("hello %s from %s: challenged", hello.name, request.source.toString());
    // The hello's own nonce echoed: peerd answers only challenges to its hellos.
    const Challenge challenge{hello.name, request.source,
                              _cookie.issue(hello.name, request.source, _wallClock()), hello.nonce};
    answer(challenge, TextEncoding::Utf8, request.source, request.bytes);
}

void LoginHandler::handleAuth(const Auth& auth, const Request& request)
{
    const Endpoint& source = request.source;
    // Cheapest checks first: nothing here costs a signature check until the
    // auth answers a challenge of this run, for this name at this address,
    // that no auth has answered yet.
    const auto refuse = [&](const std::string& reason, const std::string& why) {
        logger().information("refused auth %s from %s: %s", auth.name, source.toString(), why);
        answer(Refuse{auth.name, reason, auth.nonce}, TextEncoding::Utf8, source, request.bytes);
    };
    if (dialectFromToken(auth.dialect) != Dialect::Peerchat) {
        refuse("version", "dialect " + auth.dialect + " is not supported");
        return;
    }
    if (auth.observed != source) {
        drop(source, "auth " + auth.name + " answers a challenge sent to " + auth.observed.toString());
        return;
    }
    const auto stamp =
        _cookie.check(auth.nonce, auth.name, auth.observed, _wallClock(), kChallengeMaxAgeMs);
    if (!stamp) {
        refuse("auth", "challenge " + stamp.error());
        return;
    }
    if (!_parts.keys.isFresh(auth.name, *stamp)) {
        drop(source, "auth " + auth.name + " replayed: its challenge is not newer than the last one answered");
        return;
    }
    const auto owner = _parts.keys.identityOf(auth.name);
    if (owner && *owner != auth.keys.identity) {
        logger().warning("refused auth %s from %s: %s belongs to identity key %s, not %s", auth.name,
                         source.toString(), auth.name, Fingerprint::of(*owner), Fingerprint::of(auth.keys.identity));
        answer(Refuse{auth.name, "key", auth.nonce}, TextEncoding::Utf8, source, request.bytes);
        return;
    }
    if (_parts.directory.isRetired(auth.keys.kx)) {
        refuse("auth", "its key-exchange key is one of an earlier login; each login needs a new one");
        return;
    }
    if (!SigningKey::verify(auth.keys.identity, SignedStatement::auth(auth), auth.sig)
        || !SigningKey::verify(auth.keys.identity, SignedStatement::kx(auth.name, auth.keys.kx), auth.keys.kxSig)) {
        refuse("auth", "its signature does not verify with its identity key");
        return;
    }
    auto cipher = SessionCipher::between(_parts.identity.kx(), auth.keys.kx);
    if (!cipher) {
        refuse("auth", "its key-exchange key is not usable");
        return;
    }
    _parts.keys.acceptStamp(auth.name, *stamp);

    const auto now = _clock();
    const LoginOutcome outcome = _parts.directory.login(auth.name, source, Dialect::Peerchat, source.host(), now,
                                                        PeerSession{auth.keys, *cipher});
    if (outcome.kind == LoginOutcome::Kind::Taken) {
        refuse("taken", "already online at " + _parts.directory.find(auth.name)->endpoint.toString());
        return;
    }
    if (!owner) {
        _parts.keys.bind(auth.name, auth.keys.identity);
        logger().information("%s now belongs to identity key %s (first login under that name)", auth.name,
                             Fingerprint::of(auth.keys.identity));
    }
    Welcome welcome{auth.name, _ports.peerchat, _parts.identity.epoch(), _parts.identity.publicKey(),
                    _parts.identity.kx().publicKey(), Signature{}};
    welcome.sig = _parts.identity.sign(SignedStatement::welcome(welcome, auth.nonce));
    answer(welcome, TextEncoding::Utf8, source, request.bytes);
    if (outcome.kind == LoginOutcome::Kind::AlreadyHere)
        logger().information("login %s again at %s: welcomed, nothing to announce", auth.name, source.toString());
    else
        logger().information("login %s at %s (peerchat/2, key %s); %z online", auth.name, source.toString(),
                             Fingerprint::of(auth.keys.identity), _parts.directory.size());
    announce(outcome, auth.name, now);
}

void LoginHandler::handleLegacyLogin(const Login& login, TextEncoding encoding, const Request& request)
{
    const bool utf16 = encoding == TextEncoding::Utf16le;
    // A UTF-8 client is reachable where its datagram came from (NAT included);
    // the .NET program sends from throwaway sockets and listens where it wrote.
    const Endpoint registered = utf16 ? resolveWritten(login.endpoint, request.source) : request.source;
    const auto refuse = [&](const std::string& reason, const std::string& why) {
        logger().information("refused login %s from %s: %s", login.name, request.source.toString(), why);
        answer(Refuse{login.name, reason}, encoding, registered, request.bytes);
    };

    if (login.dialect.compare(0, kPeerchatPrefix.size(), kPeerchatPrefix) == 0) {
        // peerchat/1 was retired and peerchat/2 logs in with hello and auth.
        refuse("version", "dialect " + login.dialect + " is not supported in a plain login");
        return;
    }
    if (!_legacy) {
        refuse("legacy", "seed and .NET clients log in only when indexd runs with --legacy");
        return;
    }
    if (_parts.keys.identityOf(login.name)) {
        refuse("key", login.name + " belongs to an identity key, which a plain login cannot prove it holds");
        return;
    }
    if (const OnlineUser* held = _parts.directory.findAt(registered);
        held && held->keys && held->name != login.name) {
        refuse("taken", registered.toString() + " is where peerchat/2 user " + held->name + " is logged in");
        return;
    }

    const Dialect dialect = utf16 ? Dialect::DotNet : Dialect::Seed;
    const auto now = _clock();
    const LoginOutcome outcome = _parts.directory.login(login.name, registered, dialect, request.source.host(), now);
    switch (outcome.kind) {
    case LoginOutcome::Kind::Taken:
        refuse("taken", "already online at " + _parts.directory.find(login.name)->endpoint.toString());
        return;
    case LoginOutcome::Kind::AlreadyHere:
        logger().information("login %s again at %s: accepted, nothing to announce", login.name,
                             registered.toString());
        answer(Accept{rosterPortFor(dialect)}, encoding, registered, request.bytes);
        return;
    case LoginOutcome::Kind::Registered:
    case LoginOutcome::Kind::Changed:
        logger().information("login %s at %s (%s, wrote %s, unauthenticated); %z online", login.name,
                             registered.toString(), std::string(dialectToken(dialect)), login.endpoint.toString(),
                             _parts.directory.size());
        answer(Accept{rosterPortFor(dialect)}, encoding, registered, request.bytes);
        announce(outcome, login.name, now);
        return;
    }
}

void LoginHandler::handleLegacyLogout(const Logout& logout, const Endpoint& source)
{
    if (const OnlineUser* user = _parts.directory.find(logout.name); user && user->keys) {
        drop(source, "plain logout of peerchat/2 user " + logout.name + ", who logs out sealed");
        return;
    }
    if (!_legacy) {
        drop(source, "plain logout of " + logout.name + ": seed and .NET clients need --legacy");
        return;
    }
    const LogoutOutcome outcome =
        _parts.directory.logout(logout.name, resolveWritten(logout.endpoint, source), source);
    switch (outcome.kind) {
    case LogoutOutcome::Kind::NotOnline:
        drop(source, "logout of " + logout.name + ", who is not online");
        return;
    case LogoutOutcome::Kind::WrongSource:
        drop(source, "logout of " + logout.name + ", who is registered at " + outcome.user->endpoint.toString());
        return;
    case LogoutOutcome::Kind::LoggedOut:
        logger().information("logout %s at %s; %z online", logout.name, outcome.user->endpoint.toString(),
                             _parts.directory.size());
        _parts.broadcaster.announceLogout(*outcome.user, outcome.seq);
        return;
    }
}

void LoginHandler::handleSeal(const Seal& seal, const Request& request)
{
    const Endpoint& source = request.source;
    const OnlineUser* user = _parts.directory.findAt(source);
    SessionCipher* session = user ? _parts.directory.session(user->name) : nullptr;
    if (!session || seal.sender != session->remoteId() || seal.recipient != session->localId()) {
        // From a user's endpoint the seal was not charged yet.
        if (session && !admit(source)) return;
        // Sealed between keys this run does not hold: indexd restarted, or
        // the user's login expired. Unknown, so the bare relogin.
        logger().information("sealed datagram from %s between keys this indexd does not hold: relogin",
                             source.toString());
        answer(Relogin{}, TextEncoding::Utf8, source, request.bytes);
        return;
    }
    const std::string name = user->name;
    const auto plaintext = session->open(seal);
    if (!plaintext) {
        if (!admit(source)) return;
        drop(source, "sealed datagram of " + name + " refused: " + plaintext.error());
        return;
    }
    const auto inner = Protocol::decode(*plaintext);
    if (!inner) {
        drop(source, "sealed datagram of " + name + " holds no message: " + inner.error());
        return;
    }
    dispatchSealed(*inner, name, source);
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
            else if constexpr (std::is_same_v<T, Post>)
                _parts.carrier.handlePost(message, name, _clock());
            else if constexpr (std::is_same_v<T, Ack>)
                _parts.carrier.handleAck(message, name);
            else
                drop(source, "sealed " + std::string(Protocol::verb(message)) + " of " + name
                                 + " is not a message for indexd");
        },
        inner);
}

void LoginHandler::handleAlive(const Alive& alive, const std::string& name, const Endpoint& source)
{
    if (alive.name != name) {
        drop(source, "alive for " + alive.name + " sealed by " + name);
        return;
    }
    _parts.directory.heardFrom(name, source, _clock());
    // Heartbeats come from every peerd all the time: debug, not information.
    logger().debug("alive %s from %s (has %?u): seen %?u", name, source.toString(), alive.seq,
                   _parts.directory.presenceSeq());
    _parts.sealed.send(name, Seen{_parts.directory.presenceSeq()});
}

void LoginHandler::handleSealedLogout(const Logout& logout, const std::string& name, const Endpoint& source)
{
    if (logout.name != name) {
        drop(source, "logout of " + logout.name + " sealed by " + name);
        return;
    }
    const LogoutOutcome outcome = _parts.directory.logout(name, source, source);
    if (outcome.kind != LogoutOutcome::Kind::LoggedOut) return;
    logger().information("logout %s at %s; %z online", name, source.toString(), _parts.directory.size());
    _parts.broadcaster.announceLogout(*outcome.user, outcome.seq);
}

void LoginHandler::expireSilentUsers(std::chrono::milliseconds silence)
{
    for (const auto& expiry : _parts.directory.expireHeardBefore(_clock() - silence)) {
        logger().information("logout %s at %s: not heard from for %ld ms; %z online", expiry.user.name,
                             expiry.user.endpoint.toString(), static_cast<long>(silence.count()),
                             _parts.directory.size());
        _parts.broadcaster.announceLogout(expiry.user, expiry.seq);
    }
    const std::uint64_t wallNow = _wallClock();
    if (wallNow > kChallengeMaxAgeMs) _parts.keys.forgetStampsBefore(wallNow - kChallengeMaxAgeMs);
}

bool LoginHandler::admit(const Endpoint& source)
{
    switch (_parts.limiter.admit(source.host(), _clock())) {
    case RateLimiter::Verdict::Admitted: return true;
    case RateLimiter::Verdict::Dropped: return false;
    case RateLimiter::Verdict::Reported:
        logger().warning("dropping datagrams from %s: more than %?u a second (%?u at once) that do not come sealed "
                         "from a logged-in user",
                         source.host().toString(), _parts.limiter.rate(), _parts.limiter.burst());
        return false;
    }
    return false;
}

void LoginHandler::answer(const Message& message, TextEncoding encoding, const Endpoint& to, std::size_t requestBytes)
{
    const std::string bytes = Protocol::encodeDatagram(message, encoding);
    if (bytes.size() > requestBytes) {
        logger().warning("did not send %s to %s: its %z bytes would answer a datagram of %z",
                         std::string(Protocol::verb(message)), to.toString(), bytes.size(), requestBytes);
        return;
    }
    _parts.replies.sendTo(bytes, to);
}

void LoginHandler::announce(const LoginOutcome& outcome, const std::string& name, Directory::TimePoint now)
{
    if (outcome.displaced) {
        logger().information("logout %s at %s: %s logged in from its endpoint", outcome.displaced->name,
                             outcome.displaced->endpoint.toString(), name);
        _parts.broadcaster.announceLogout(*outcome.displaced, outcome.displacedSeq);
    }
    if (outcome.kind == LoginOutcome::Kind::Registered || outcome.kind == LoginOutcome::Kind::Changed)
        _parts.broadcaster.announceLogin(*_parts.directory.find(name), outcome.seq);
    _parts.carrier.deliverTo(name, now);
}

void LoginHandler::drop(const Endpoint& source, const std::string& reason)
{
    logger().warning("dropped datagram from %s: %s", source.toString(), reason);
}

std::uint16_t LoginHandler::rosterPortFor(Dialect dialect) const
{
    switch (dialect) {
    case Dialect::Seed: return _ports.seed;
    case Dialect::DotNet: return _ports.dotnet;
    case Dialect::Peerchat: return _ports.peerchat;
    }
    return _ports.seed;
}

} // namespace peerchat
