#include "LoginHandler.h"

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

LoginHandler::LoginHandler(Directory& directory, Broadcaster& broadcaster, MailCarrier& carrier, DatagramSink& replies,
                           RosterPorts ports, Clock clock)
    : _directory(directory),
      _broadcaster(broadcaster),
      _carrier(carrier),
      _replies(replies),
      _ports(ports),
      _clock(std::move(clock))
{
}

void LoginHandler::handleDatagram(std::string_view bytes, const Endpoint& source)
{
    auto inbound = Protocol::decodeDatagram(bytes);
    if (!inbound) {
        drop(source, inbound.error());
        return;
    }
    try {
        dispatch(*inbound, source);
    } catch (const Poco::Exception& e) {
        // The mailbox's database failed (disk full, file taken away): the
        // sender hears nothing and sends again.
        logger().error("cannot handle %s from %s: %s", std::string(Protocol::verb(inbound->message)),
                       source.toString(), e.displayText());
    }
}

void LoginHandler::dispatch(const Inbound& inbound, const Endpoint& source)
{
    const TextEncoding encoding = inbound.encoding;
    std::visit(
        [&](const auto& message) {
            using T = std::decay_t<decltype(message)>;
            constexpr bool peerchatOnly =
                std::is_same_v<T, Alive> || std::is_same_v<T, Store> || std::is_same_v<T, Ack>;
            if (peerchatOnly && encoding != TextEncoding::Utf8) {
                drop(source,
                     std::string(Protocol::verb(message)) + " in UTF-16LE: peerchat/1 is spoken in UTF-8 only");
                return;
            }
            if constexpr (std::is_same_v<T, Login>)
                handleLogin(message, encoding, source);
            else if constexpr (std::is_same_v<T, Logout>)
                handleLogout(message, source);
            else if constexpr (std::is_same_v<T, Alive>)
                handleAlive(message, source);
            else if constexpr (std::is_same_v<T, Store>)
                _carrier.handleStore(message, source, _clock());
            else if constexpr (std::is_same_v<T, Ack>)
                _carrier.handleAck(message, source);
            else
                drop(source, std::string(Protocol::verb(message)) + " is not a message for indexd");
        },
        inbound.message);
}

void LoginHandler::expireSilentUsers(std::chrono::milliseconds silence)
{
    for (const auto& expiry : _directory.expireHeardBefore(_clock() - silence)) {
        logger().information("logout %s at %s: not heard from for %ld ms; %z online", expiry.user.name,
                             expiry.user.endpoint.toString(), static_cast<long>(silence.count()), _directory.size());
        _broadcaster.announceLogout(expiry.user, expiry.seq);
    }
}

void LoginHandler::handleLogin(const Login& login, TextEncoding encoding, const Endpoint& source)
{
    const bool utf16 = encoding == TextEncoding::Utf16le;
    // A UTF-8 client is reachable where its datagram came from (NAT included);
    // the .NET program sends from throwaway sockets and listens where it wrote.
    const Endpoint registered = utf16 ? resolveWritten(login.endpoint, source) : source;

    Dialect dialect = utf16 ? Dialect::DotNet : Dialect::Seed;
    if (login.dialect.compare(0, kPeerchatPrefix.size(), kPeerchatPrefix) == 0) {
        // peerchat/1 is a UTF-8 dialect; any other version, or peerchat over
        // UTF-16LE, would be misread, so it is refused by name.
        if (utf16 || dialectFromToken(login.dialect) != Dialect::Peerchat) {
            logger().information("refused login %s from %s: dialect %s is not supported", login.name,
                                 source.toString(), login.dialect);
            reply(Refuse{login.name, "version"}, encoding, registered);
            return;
        }
        dialect = Dialect::Peerchat;
    }

    const auto now = _clock();
    const LoginOutcome outcome = _directory.login(login.name, registered, dialect, source.host(), now);
    switch (outcome.kind) {
    case LoginOutcome::Kind::Taken:
        logger().information("refused login %s from %s: already online at %s", login.name, source.toString(),
                             _directory.find(login.name)->endpoint.toString());
        reply(Refuse{login.name, "taken"}, encoding, registered);
        return;
    case LoginOutcome::Kind::AlreadyHere:
        logger().information("login %s again at %s: accepted, nothing to announce", login.name,
                             registered.toString());
        reply(Accept{rosterPortFor(dialect)}, encoding, registered);
        _carrier.deliverTo(login.name, now);
        return;
    case LoginOutcome::Kind::Registered:
        logger().information("login %s at %s (%s, wrote %s); %z online", login.name, registered.toString(),
                             std::string(dialectToken(dialect)), login.endpoint.toString(), _directory.size());
        reply(Accept{rosterPortFor(dialect)}, encoding, registered);
        if (outcome.displaced) {
            logger().information("logout %s at %s: %s logged in from its endpoint", outcome.displaced->name,
                                 outcome.displaced->endpoint.toString(), login.name);
            _broadcaster.announceLogout(*outcome.displaced, outcome.displacedSeq);
        }
        _broadcaster.announceLogin(*_directory.find(login.name), outcome.seq);
        _carrier.deliverTo(login.name, now);
        return;
    }
}

void LoginHandler::handleLogout(const Logout& logout, const Endpoint& source)
{
    const LogoutOutcome outcome = _directory.logout(logout.name, resolveWritten(logout.endpoint, source), source);
    switch (outcome.kind) {
    case LogoutOutcome::Kind::NotOnline:
        drop(source, "logout of " + logout.name + ", who is not online");
        return;
    case LogoutOutcome::Kind::WrongSource:
        drop(source, "logout of " + logout.name + ", who is registered at " + outcome.user->endpoint.toString());
        return;
    case LogoutOutcome::Kind::LoggedOut:
        logger().information("logout %s at %s; %z online", logout.name, outcome.user->endpoint.toString(),
                             _directory.size());
        _broadcaster.announceLogout(*outcome.user, outcome.seq);
        return;
    }
}

void LoginHandler::handleAlive(const Alive& alive, const Endpoint& source)
{
    // Heartbeats come from every peerd all the time: debug, not information.
    if (_directory.heardFrom(alive.name, source, _clock())) {
        logger().debug("alive %s from %s (has %?u): seen %?u", alive.name, source.toString(), alive.seq,
                       _directory.presenceSeq());
        reply(Seen{_directory.presenceSeq()}, TextEncoding::Utf8, source);
        return;
    }
    // Never larger than the heartbeat: "relogin,NAME" against "alive,NAME,SEQ".
    logger().debug("alive %s from %s, where no peerchat user %s is online: relogin", alive.name, source.toString(),
                   alive.name);
    reply(Relogin{alive.name}, TextEncoding::Utf8, source);
}

void LoginHandler::drop(const Endpoint& source, const std::string& reason)
{
    logger().warning("dropped datagram from %s: %s", source.toString(), reason);
}

void LoginHandler::reply(const Message& message, TextEncoding encoding, const Endpoint& to)
{
    _replies.sendTo(Protocol::encodeDatagram(message, encoding), to);
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
