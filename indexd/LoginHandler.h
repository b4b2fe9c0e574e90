#pragma once

#include "Broadcaster.h"
#include "DatagramSink.h"
#include "Directory.h"
#include "MailCarrier.h"
#include "Protocol.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace peerchat {

/// The TCP roster ports indexd names in Accept, one per dialect.
struct RosterPorts
{
    std::uint16_t seed = 0;
    std::uint16_t dotnet = 0;
    std::uint16_t peerchat = 0;
};

/// Serves indexd's UDP socket: logins, logouts and heartbeats go to the
/// Directory, replies to the client, presence to the Broadcaster, offline
/// messages (store, ack) to the MailCarrier. Everything else a client sends
/// is dropped with one log line, never answered and never stored.
class LoginHandler
{
public:
    using Clock = std::function<Directory::TimePoint()>;

    /// clock tells the time of each datagram and expiry sweep (tests pass a fake one).
    LoginHandler(Directory& directory, Broadcaster& broadcaster, MailCarrier& carrier, DatagramSink& replies,
                 RosterPorts ports, Clock clock = &std::chrono::steady_clock::now);

    /// Handles one datagram that came from source.
    void handleDatagram(std::string_view bytes, const Endpoint& source);

    /// Logs out every peerchat user not heard from (login or heartbeat) for
    /// silence, and announces each as if it had logged out.
    void expireSilentUsers(std::chrono::milliseconds silence);

private:
    void dispatch(const Inbound& inbound, const Endpoint& source);
    void handleLogin(const Login& login, TextEncoding encoding, const Endpoint& source);
    void handleLogout(const Logout& logout, const Endpoint& source);
    void handleAlive(const Alive& alive, const Endpoint& source);
    void drop(const Endpoint& source, const std::string& reason);
    void reply(const Message& message, TextEncoding encoding, const Endpoint& to);
    std::uint16_t rosterPortFor(Dialect dialect) const;

    Directory& _directory;
    Broadcaster& _broadcaster;
    MailCarrier& _carrier;
    DatagramSink& _replies;
    RosterPorts _ports;
    Clock _clock;
};

} // namespace peerchat
