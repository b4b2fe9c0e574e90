#pragma once

#include "Broadcaster.h"
#include "DaemonService.h"
#include "Directory.h"
#include "EventLoop.h"
#include "IndexDatabase.h"
#include "IndexIdentity.h"
#include "IndexSettings.h"
#include "KeyRegistry.h"
#include "LoginHandler.h"
#include "MailCarrier.h"
#include "PresenceRouter.h"
#include "Mailbox.h"
#include "RateLimiter.h"
#include "RosterListener.h"
#include "SealedSender.h"
#include "FaultySink.h"
#include "TurnRelay.h"
#include "UdpChannel.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace peerchat {

/// Everything indexd serves, on one EventLoop: its identity (the key file's
/// key, and a key-exchange pair and epoch drawn at start), the UDP socket
/// with its LoginHandler, two RateLimiters (datagrams per address, logins
/// per identity), Broadcaster and MailCarrier, the seed and .NET roster
/// ports (legacy mode only; their connections prove plain logins),
/// the Directory they share, the database with the offline Mailbox and the
/// KeyRegistry, with --turn the TurnRelay users get credentials for, and
/// periodic tasks: one expires silent peerchat users, one (legacy mode)
/// forgets unproven plain logins, one resends unacked offline letters, one
/// expires old offline letters, one logs what was dropped.
class IndexService : public DaemonService
{
public:
    /// Opens the TURN relay (with --turn), loads (or creates) the identity
    /// key, opens the database and binds every socket; throws Poco::Exception
    /// with a message for a person ("cannot listen on UDP 0.0.0.0:9400:
    /// address in use; ...", "... chmod 600 ...") when the relay or the key
    /// cannot be used, the database cannot be opened or a socket bound.
    explicit IndexService(const IndexSettings& settings);
    ~IndexService() override;
    IndexService(const IndexService&) = delete;
    IndexService& operator=(const IndexService&) = delete;

    /// The line scripts and tests wait for, with the real ports and indexd's
    /// public identity key in base64 (what peerd takes as --index-key):
    /// "indexd ready udp=HOST:PORT seed-roster=P1 dotnet-roster=P2 identity=KEY".
    /// The seed and .NET roster ports are 0 when they are closed (legacy mode off).
    std::string readyLine() const override;

    /// Serves until stop(); call from the thread that owns the service.
    void run() override;
    /// Makes run() return; safe from any thread.
    void stop() override;

private:
    std::unique_ptr<RosterListener> listen(RosterFormat format, std::uint16_t port, const std::string& flag,
                                           RosterListener::ConnectionObserver observer);
    static std::unique_ptr<TurnRelay> openRelay(const IndexSettings& settings);
    static IndexIdentity loadIdentity(const IndexSettings& settings);
    static std::unique_ptr<IndexDatabase> openDatabase(const IndexSettings& settings);
    /// Runs task every period on the loop, for as long as the loop runs.
    void every(std::chrono::milliseconds period, const std::function<void()>& task);

    IndexSettings _settings;
    /// With --turn only; first, so that a relay that cannot be used stops
    /// indexd before it makes a key or a database.
    std::unique_ptr<TurnRelay> _relay;
    IndexIdentity _identity;
    EventLoop _loop;
    Directory _directory;
    std::unique_ptr<IndexDatabase> _database;
    std::unique_ptr<Mailbox> _mailbox;
    std::unique_ptr<KeyRegistry> _keys;
    RateLimiter _limiter;
    RateLimiter _loginLimiter;
    std::unique_ptr<MailCarrier> _carrier;
    ContactRoutes _routes;
    std::unique_ptr<RosterListener> _seedRoster;
    std::unique_ptr<RosterListener> _dotnetRoster;
    std::unique_ptr<LoginHandler> _handler;
    std::unique_ptr<UdpChannel> _udp;
    std::unique_ptr<FaultySink> _faulty;  ///< in front of _udp when --faults asks
    DatagramSink* _out = nullptr;         ///< where datagrams go: _faulty or _udp
    std::unique_ptr<SealedSender> _sealed;
    std::unique_ptr<Broadcaster> _broadcaster;
    std::unique_ptr<PresenceRouter> _presence;
};

} // namespace peerchat
