#include "LoginHandler.h"

#include <Poco/Logger.h>

#include <type_traits>

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

LoginHandler::LoginHandler(Directory& directory, Broadcaster& broadcaster, DatagramSink& replies, RosterPorts ports)
    : _directory(directory), _broadcaster(broadcaster), _replies(replies), _ports(ports)
{
}

void LoginHandler::handleDatagram(std::string_view bytes, const Endpoint& source)
{
    auto inbound = Protocol::decodeDatagram(bytes);
    if (!inbound) {
        drop(source, inbound.error());
        return;
    }
    const TextEncoding encoding = inbound->encoding;
    std::visit(
        [&](const auto& message) {
            using T = std::decay_t<decltype(message)>;
            if constexpr (std::is_same_v<T, Login>)
                handleLogin(message, encoding, source);
            else if constexpr (std::is_same_v<T, Logout>)
                handleLogout(message, source);
            else
                drop(source, std::string(Protocol::verb(message)) + " is not a message for indexd");
        },
        inbound->message);
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

    const LoginOutcome outcome = _directory.login(login.name, registered, dialect, source.host());
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
        return;
    case LoginOutcome::Kind::Registered:
        logger().information("login %s at %s (%s, wrote %s); %z online", login.name, registered.toString(),
                             std::string(dialectToken(dialect)), login.endpoint.toString(), _directory.size());
        reply(Accept{rosterPortFor(dialect)}, encoding, registered);
        if (outcome.displaced) {
            logger().information("logout %s at %s: %s logged in from its endpoint", outcome.displaced->name,
                                 outcome.displaced->endpoint.toString(), login.name);
            _broadcaster.announceLogout(*outcome.displaced);
        }
        _broadcaster.announceLogin(*_directory.find(login.name));
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
        _broadcaster.announceLogout(*outcome.user);
        return;
    }
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
