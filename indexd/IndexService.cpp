#include "IndexService.h"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>

#include <cerrno>

namespace peerchat {

namespace {

// Why a socket could not be bound, and what to do about it.
std::string bindFailure(const std::string& what, const Poco::Net::SocketAddress& address, const std::string& flag,
                        const Poco::Exception& e)
{
    std::string text = "cannot listen on " + what + " " + address.toString() + ": ";
    switch (e.code()) {
    case EADDRINUSE:
        return text + "address in use; is another indexd running? choose another --" + flag;
    case EADDRNOTAVAIL:
        return text + "no such address on this host; choose another --bind";
    case EACCES:
        return text + "permission denied (ports below 1024 need privileges); choose another --" + flag;
    default:
        return text + e.displayText();
    }
}

} // namespace

IndexService::IndexService(const IndexSettings& settings) : _settings(settings)
{
    _seedRoster = listen(RosterFormat::SeedText, settings.rosterPort, "roster-port");
    _dotnetRoster = listen(RosterFormat::DotNet, settings.dotnetRosterPort, "dotnet-roster-port");
    _peerchatRoster = listen(RosterFormat::Peerchat, settings.peerchatRosterPort, "peerchat-roster-port");

    const Poco::Net::SocketAddress udpAddress(settings.bind, settings.udpPort);
    try {
        // Datagrams are handled only once run() starts, when _handler is set.
        _udp = std::make_unique<UdpChannel>(
            _loop, udpAddress, [this](std::string_view bytes, const Endpoint& from) { _handler->handleDatagram(bytes, from); });
    } catch (const Poco::Exception& e) {
        throw Poco::IOException(bindFailure("UDP", udpAddress, "port", e));
    }
    _broadcaster = std::make_unique<Broadcaster>(_directory, *_udp);
    _handler = std::make_unique<LoginHandler>(
        _directory, *_broadcaster, *_udp,
        RosterPorts{_seedRoster->port(), _dotnetRoster->port(), _peerchatRoster->port()});
}

IndexService::~IndexService() = default;

std::unique_ptr<RosterListener> IndexService::listen(RosterFormat format, std::uint16_t port, const std::string& flag)
{
    const Poco::Net::SocketAddress address(_settings.bind, port);
    try {
        return std::make_unique<RosterListener>(_loop, _directory, format, address, _settings.maxRosterConnections,
                                                _settings.rosterDeadline);
    } catch (const Poco::Exception& e) {
        throw Poco::IOException(bindFailure("TCP", address, flag, e));
    }
}

std::string IndexService::readyLine() const
{
    return "indexd ready udp=" + _udp->localEndpoint().toString() + " seed-roster="
           + std::to_string(_seedRoster->port()) + " dotnet-roster=" + std::to_string(_dotnetRoster->port())
           + " peerchat-roster=" + std::to_string(_peerchatRoster->port());
}

void IndexService::run()
{
    _loop.run();
}

void IndexService::stop()
{
    _loop.stop();
}

} // namespace peerchat
