#pragma once

#include "Broadcaster.h"
#include "DatagramSink.h"
#include "Directory.h"
#include "IndexIdentity.h"
#include "KeyRegistry.h"
#include "LoginCookie.h"
#include "MailCarrier.h"
#include "Protocol.h"
#include "RateLimiter.h"
#include "SealedSender.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace peerchat {

/// The TCP roster ports indexd names in Accept and Welcome, one per dialect
/// (0 for a port that is not open).
struct RosterPorts
{
    std::uint16_t seed = 0;
    std::uint16_t dotnet = 0;
    std::uint16_t peerchat = 0;
};

/// Serves indexd's UDP socket. peerchat/2 users log in by challenge and
/// response (hello, challenge, auth, welcome) and then speak to indexd only
/// sealed: heartbeats, logouts and offline letters, each checked against the
/// user's session. Seed and .NET clients log in and out in plain text, in
/// legacy mode only. Every datagram that does not come sealed from a
/// logged-in user is rate-limited per address before it is parsed, and is
/// never answered with more bytes than it had. Logins and logouts go to the
/// Directory, presence to the Broadcaster, letters to the MailCarrier.
/// Anything else is dropped with one log line, never answered and never stored.
class LoginHandler
{
public:
    using Clock = std::function<Directory::TimePoint()>;
    /// Milliseconds since 1970, for login nonces.
    using WallClock = std::function<std::uint64_t()>;

    /// How long a challenge may be answered.
    static constexpr std::uint64_t kChallengeMaxAgeMs = 30000;

    /// Everything else LoginHandler needs, owned by the caller and outliving it.
    struct Parts
    {
        Directory& directory;
        KeyRegistry& keys;
        RateLimiter& limiter;
        Broadcaster& broadcaster;
        MailCarrier& carrier;
        SealedSender& sealed;
        const IndexIdentity& identity;
        DatagramSink& replies;
    };

    /// legacy lets seed and .NET clients log in; clock tells the time of each
    /// datagram and expiry sweep, wallClock the time login nonces are stamped
    /// with (tests pass fake ones).
    LoginHandler(Parts parts, RosterPorts ports, bool legacy, Clock clock = &std::chrono::steady_clock::now,
                 WallClock wallClock = &systemMilliseconds);

    /// Handles one datagram that came from source.
    void handleDatagram(std::string_view bytes, const Endpoint& source);

    /// Logs out every peerchat user not heard from (login or heartbeat) for
    /// silence, and announces each as if it had logged out.
    void expireSilentUsers(std::chrono::milliseconds silence);

    /// The wall clock in milliseconds since 1970.
    static std::uint64_t systemMilliseconds();

private:
    /// A datagram being handled: where it came from and its size on the wire.
    struct Request
    {
        const Endpoint& source;
        std::size_t bytes;
    };

    void dispatch(const Inbound& inbound, const Request& request);
    void handleHello(const Hello& hello, const Request& request);
    void handleAuth(const Auth& auth, const Request& request);
    void handleLegacyLogin(const Login& login, TextEncoding encoding, const Request& request);
    void handleLegacyLogout(const Logout& logout, const Endpoint& source);
    void handleSeal(const Seal& seal, const Request& request);

    /// The dispatch of what a seal from a logged-in user holds.
    void dispatchSealed(const Message& inner, const std::string& name, const Endpoint& source);
    void handleAlive(const Alive& alive, const std::string& name, const Endpoint& source);
    void handleSealedLogout(const Logout& logout, const std::string& name, const Endpoint& source);

    /// Whether the rate limit lets one more unauthenticated datagram from source in.
    bool admit(const Endpoint& source);
    /// Replies to a datagram that was not sealed by a session, when the reply
    /// is no longer than the datagram (no reflection amplification).
    void answer(const Message& message, TextEncoding encoding, const Endpoint& to, std::size_t requestBytes);
    /// Sends presence and waiting letters after a login that changed the directory.
    void announce(const LoginOutcome& outcome, const std::string& name, Directory::TimePoint now);
    void drop(const Endpoint& source, const std::string& reason);
    std::uint16_t rosterPortFor(Dialect dialect) const;

    Parts _parts;
    RosterPorts _ports;
    bool _legacy;
    Clock _clock;
    WallClock _wallClock;
    LoginCookie _cookie;
};

} // namespace peerchat
