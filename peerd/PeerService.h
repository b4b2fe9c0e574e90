#pragma once

#include "PeerStore.h"
#include "DaemonService.h"
#include "EventLoop.h"
#include "KeyPins.h"
#include "PeerSettings.h"
#include "Roster.h"
#include "SigningKey.h"
#include "FaultySink.h"
#include "UdpChannel.h"
#include "UiServer.h"
#include "WireLink.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace peerchat {

/// Everything one peerd serves, on one EventLoop: the local socket with its
/// UiServer, the UDP socket with its WireLink, and the identity key, Roster,
/// PeerStore and KeyPins they share.
class PeerService : public DaemonService
{
public:
    /// Loads (or creates) the identity key, opens the database, claims the
    /// local socket and binds the UDP socket. Throws Poco::ExistsException
    /// when another peerd for the user answers on the local socket, and
    /// another Poco::Exception with a message for a person when the key file
    /// is refused (readable by others, malformed) or the database or a socket
    /// cannot be set up. onRefused runs on the loop's thread, with the reason,
    /// once the login has failed for good.
    PeerService(const PeerSettings& settings, std::function<void(const std::string& why)> onRefused);
    ~PeerService() override;
    PeerService(const PeerService&) = delete;
    PeerService& operator=(const PeerService&) = delete;

    /// "peerd ready user=NAME udp=HOST:PORT socket=PATH", with the real port.
    std::string readyLine() const override;

    /// Logs in, serves UIs and the wire until stop(); call from the thread
    /// that owns the service.
    void run() override;

    /// Tells UIs peerd is stopping, logs out of indexd, closes the local
    /// socket (removing its file) and makes run() return; safe from any thread.
    void stop() override;

private:
    PeerSettings _settings;
    EventLoop _loop;
    Roster _roster;
    std::optional<SigningKey> _identity;
    std::unique_ptr<PeerStore> _store;
    std::unique_ptr<KeyPins> _pins;
    std::unique_ptr<UiServer> _ui;
    std::unique_ptr<UdpChannel> _udp;
    std::unique_ptr<FaultySink> _faulty;  ///< in front of _udp when --faults asks
    DatagramSink* _out = nullptr;         ///< where datagrams go: _faulty or _udp
    std::unique_ptr<WireLink> _wire;
};

} // namespace peerchat
