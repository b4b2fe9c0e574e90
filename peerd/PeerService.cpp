#include "PeerService.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <algorithm>

namespace peerchat {

PeerService::PeerService(const PeerSettings& settings, std::function<void()> onRefused)
    : _settings(settings), _roster(settings.user)
{
    // The local socket first: a second peerd for the same user is refused by
    // name even when it also uses the same database and asked for the same
    // UDP port.
    UiServer::refuseIfServed(settings.user, settings.socketPath);
    _store = std::make_unique<ConversationStore>(settings.database, settings.historyLimit);
    _ui = std::make_unique<UiServer>(_loop, _roster, *_store, settings.user, settings.socketPath);
    try {
        _udp = std::make_unique<UdpChannel>(_loop, settings.bind, [this](std::string_view bytes, const Endpoint& from) {
            _wire->handleDatagram(bytes, from);
        });
    } catch (const Poco::Exception& e) {
        throw Poco::IOException("cannot bind UDP " + settings.bind.toString() + ": " + e.displayText() +
                                "; pass another --port or --bind");
    }
    if (settings.faults.enabled()) {
        _udp->setFaults(settings.faults);
        Poco::Logger::get("peerd").warning("fault injection is on (" + settings.faults.toString() +
                                           "): datagrams are dropped, duplicated and delayed on purpose; "
                                           "for tests only");
    }
    WireLink::Settings link;
    link.self = settings.user;
    link.index = settings.index;
    link.loginRetry = settings.loginRetry;
    link.heartbeat = settings.heartbeat;
    link.retransmit.first = settings.retransmit;
    link.retransmit.longest = std::max(settings.retransmit, link.retransmit.longest);
    link.retransmit.giveUp = settings.giveUp;
    try {
        link.loginEndpoint = WireLink::loginEndpoint(_udp->localEndpoint(), settings.index);
    } catch (const Poco::Exception& e) {
        throw Poco::IOException("cannot find a local address that reaches indexd at " + settings.index.toString() +
                                ": " + e.displayText() + "; check --index or pass --bind");
    }
    _wire = std::make_unique<WireLink>(_loop, *_udp, _roster, *_store, *_ui, link, std::move(onRefused));
}

PeerService::~PeerService() = default;

std::string PeerService::readyLine() const
{
    return "peerd ready user=" + _settings.user + " udp=" + _udp->localEndpoint().toString() +
           " socket=" + _ui->path();
}

void PeerService::run()
{
    _ui->serve(*_wire);
    _wire->start();
    _loop.run();
}

void PeerService::stop()
{
    _loop.post([this] {
        _ui->stop("peerd is shutting down");
        _wire->logout();
        _loop.stop();
    });
}

} // namespace peerchat
