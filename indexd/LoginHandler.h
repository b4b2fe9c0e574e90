#pragma once

#include "Broadcaster.h"
#include "DatagramSink.h"
#include "Directory.h"
#include "Protocol.h"

#include <cstdint>
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

/// Serves indexd's UDP socket: logins and logouts go to the Directory, replies
/// to the client, presence to the Broadcaster. Everything else a client sends
/// is dropped with one log line, never answered and never stored.
class LoginHandler
{
public:
    LoginHandler(Directory& directory, Broadcaster& broadcaster, DatagramSink& replies, RosterPorts ports);

    /// Handles one datagram that came from source.
    void handleDatagram(std::string_view bytes, const Endpoint& source);

private:
    void handleLogin(const Login& login, TextEncoding encoding, const Endpoint& source);
    void handleLogout(const Logout& logout, const Endpoint& source);
    void drop(const Endpoint& source, const std::string& reason);
    void reply(const Message& message, TextEncoding encoding, const Endpoint& to);
    std::uint16_t rosterPortFor(Dialect dialect) const;

    Directory& _directory;
    Broadcaster& _broadcaster;
    DatagramSink& _replies;
    RosterPorts _ports;
};

} // namespace peerchat
