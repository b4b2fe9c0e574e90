#include "PeerService.h"

#include "Fingerprint.h"
#include "HostCandidates.h"
#include "KeyFile.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <algorithm>

namespace peerchat {

PeerService::PeerService(const PeerSettings& settings, std::function<void(const std::string& why)> onRefused)
    : _settings(settings), _roster(settings.user)
{
    // The local socket first: a second peerd for the same user is refused by
    // name even when it also uses the same database and asked for the same
    // UDP port.
    UiServer::refuseIfServed(settings.user, settings.socketPath);
    Poco::Logger& logger = Poco::Logger::get("peerd");
    bool created = false;
    _identity.emplace(KeyFile::loadOrCreate(settings.keyFile, &created));
    logger.information(std::string(created ? "created the identity key " : "identity key ") + settings.keyFile +
                       ", fingerprint " + Fingerprint::of(_identity->publicKey()));
    _store = std::make_unique<PeerStore>(settings.database, settings.historyLimit);
    _pins = std::make_unique<KeyPins>(_store->keys, _store->outbox);
    _ui = std::make_unique<UiServer>(_loop, _roster, _store->lines, _store->incoming, *_pins, _identity->publicKey(),
                                     settings.user, settings.socketPath);
    try {
        _udp = std::make_unique<UdpChannel>(_loop, settings.bind, [this](std::string_view bytes, const Endpoint& from) {
            _wire->handleDatagram(bytes, from);
        });
    } catch (const Poco::Exception& e) {
        throw Poco::IOException("cannot bind UDP " + settings.bind.toString() + ": " + e.displayText() +
                                "; pass another --port or --bind");
    }
    _out = _udp.get();
    if (settings.faults.enabled()) {
        _faulty = std::make_unique<FaultySink>(*_udp, _loop, settings.faults);
        _out = _faulty.get();
        logger.warning("fault injection is on (" + settings.faults.toString() +
                       "): datagrams are dropped, duplicated and delayed on purpose; for tests only");
    }
    WireLink::Settings link;
    link.self = settings.user;
    link.index = settings.index;
    link.indexKey = settings.indexKey;
    link.legacy = settings.legacy;
    link.strangers = settings.strangers;
    link.sendTyping = settings.sendTyping;
    link.autoAway = settings.autoAway;
    link.loginRetry = settings.loginRetry;
    link.heartbeat = settings.heartbeat;
    link.dropReport = settings.dropReport;
    link.retransmit.first = settings.retransmit;
    link.retransmit.longest = std::max(settings.retransmit, link.retransmit.longest);
    link.retransmit.giveUp = settings.giveUp;
    const Endpoint bound = _udp->localEndpoint();
    link.hostCandidates = [bound] { return HostCandidates::of(bound); };
    _wire = std::make_unique<WireLink>(_loop, *_out, _roster, *_store, *_pins, *_identity, *_ui, link,
                                       std::move(onRefused));
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
