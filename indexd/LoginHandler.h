#pragma once

#include "Broadcaster.h"
#include "ContactRoutes.h"
#include "DatagramSink.h"
#include "Directory.h"
#include "DropCounter.h"
#include "IndexIdentity.h"
#include "Introducer.h"
#include "KeyRegistry.h"
#include "LoginCookie.h"
#include "MailCarrier.h"
#include "PresenceRouter.h"
#include "Protocol.h"
#include "RateLimiter.h"
#include "SealedSender.h"
#include "TurnRelay.h"
#include "UnprovenLogins.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// The TCP roster ports indexd names in Accept, one per legacy dialect (0
/// for a port that is not open). peerchat/3 users read no roster: their
/// presence comes sealed (PresenceRouter).
struct RosterPorts
{
    std::uint16_t seed = 0;
    std::uint16_t dotnet = 0;
};

/// Serves indexd's UDP socket. peerchat/3 users log in by challenge and
/// response (hello, challenge, auth, welcome) and then speak to indexd only
/// sealed: heartbeats, logouts and offline letters, each checked against the
/// user's session. Seed and .NET clients log in and out in plain text, in
/// legacy mode only, and are put online only once a roster connection from
/// their address proves it (UnprovenLogins). Every datagram that does not
/// come sealed from a logged-in user is rate-limited per address before it is
/// parsed, is answered only at its source, and never with more bytes than it
/// had. Logins that would be announced are limited per identity key (per
/// address for plain logins). Logins and logouts go to the Directory,
/// presence to the PresenceRouter (peerchat/3 users, who see their mutual
/// contacts) and the Broadcaster (seed and .NET users), letters to the MailCarrier, punches to the
/// Introducer, whois to the KeyRegistry, contact lists (signed by their
/// users) to ContactRoutes. With a TURN relay, each welcome of a peerchat/3 user is
/// followed by a sealed Turn, and an alive is answered with a new one once
/// the last is half spent (TurnRelay). A user whose NAT rebound (a seal of
/// its session from another endpoint) is moved there and announced. Anything
/// else is dropped, never answered and never stored; drops and refusals are
/// counted (DropCounter) and logged at debug level only, so that nobody can
/// make indexd log a line per datagram, and reportDrops() sums them up.
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
        RateLimiter& limiter;      ///< unauthenticated datagrams, by source address
        RateLimiter& loginLimiter; ///< announced logins, by identity key or (plain logins) source address
        Broadcaster& broadcaster;  ///< presence among seed and .NET users
        PresenceRouter& presence;  ///< presence to peerchat/3 users
        MailCarrier& carrier;
        const ContactRoutes& routes;  ///< the contact lists online users declared (PresenceRouter keeps them)
        SealedSender& sealed;
        const IndexIdentity& identity;
        DatagramSink& replies;
        /// The TURN relay peerchat/3 users get credentials for, or nullptr for none.
        const TurnRelay* relay;
    };

    /// legacy lets seed and .NET clients log in; clock tells the time of each
    /// datagram and expiry sweep, wallClock the time login nonces are stamped
    /// with and TURN credentials expire by (tests pass fake ones).
    LoginHandler(Parts parts, RosterPorts ports, bool legacy, Clock clock = &std::chrono::steady_clock::now,
                 WallClock wallClock = &systemMilliseconds);

    /// Handles one datagram that came from source.
    void handleDatagram(std::string_view bytes, const Endpoint& source);

    /// A roster connection came from address: puts online the oldest plain
    /// login from there that waits for this proof, and announces it. Called
    /// before the connection's roster is made, so that roster lists it.
    void handleRosterConnection(const Poco::Net::IPAddress& address);

    /// Logs out every peerchat user not heard from (login or heartbeat) for
    /// silence, and announces each as if it had logged out.
    void expireSilentUsers(std::chrono::milliseconds silence);

    /// Forgets the plain logins that no roster connection proved within maxAge.
    void expireUnprovenLogins(std::chrono::milliseconds maxAge);

    /// Logs, as one warning, what was dropped and refused since the last
    /// call, interval ago; nothing when nothing was.
    void reportDrops(std::chrono::milliseconds interval);

    /// What was dropped and refused since the start.
    const DropCounter& drops() const { return _drops; }

    /// Requesters and pairs whose introductions are rate-limited at most (Introducer).
    static constexpr std::size_t kMaxIntroductionRates = 65536;

    /// Whois answers a user gets a second, and at once: enough to add a few
    /// contacts by hand, not to list which names exist.
    static constexpr double kWhoisRate = 1;
    static constexpr double kWhoisBurst = 20;

    /// Contact-list parts a user may declare a second, and at once: a whole
    /// list of the most parts, and a few changes a minute after that.
    static constexpr double kDeclarationRate = 0.5;
    static constexpr double kDeclarationBurst = 2 * Protocol::kMaxDeclarationParts;

    /// Plain logins held at most, waiting for their proof.
    static constexpr std::size_t kMaxUnprovenLogins = 65536;

    /// The wall clock in milliseconds since 1970.
    static std::uint64_t systemMilliseconds();

private:
    /// A datagram being handled: where it came from, its size on the wire,
    /// its encoding and its verb.
    struct Request
    {
        const Endpoint& source;
        std::size_t bytes;
        TextEncoding encoding;
        std::string_view verb;
    };

    void dispatch(const Inbound& inbound, const Request& request);
    void handleHello(const Hello& hello, const Request& request);
    void handleAuth(const Auth& auth, const Request& request);
    void handleLegacyLogin(const Login& login, const Request& request);
    void handleLegacyLogout(const Logout& logout, const Endpoint& source);
    /// A refusal's REASON token and, for the debug log, why.
    struct Refusal
    {
        std::string reason;
        std::string why;
    };
    /// Why name may not be online at endpoint as a plain (seed or .NET)
    /// user; nullopt when it may.
    std::optional<Refusal> legacyConflict(const std::string& name, const Endpoint& endpoint);
    void handleSeal(const Seal& seal, const Request& request);
    /// A seal from an endpoint where its sender's session is not registered:
    /// when it opens under the session its SKID names, that user's NAT gave
    /// it a new mapping, and the user moves there.
    void handleSealFromElsewhere(const Seal& seal, const Request& request);
    /// The message in plaintext, opened from a seal of name's; nullopt, the
    /// drop counted, when it holds none.
    std::optional<Message> decodeSealed(const std::string& plaintext, const std::string& name,
                                        const Endpoint& source);

    /// The dispatch of what a seal from a logged-in user holds.
    void dispatchSealed(const Message& inner, const std::string& name, const Endpoint& source);
    void handleAlive(const Alive& alive, const std::string& name, const Endpoint& source);
    void handleSealedLogout(const Logout& logout, const std::string& name, const Endpoint& source);
    void handlePunch(const Punch& punch, const std::string& name, const Endpoint& source);
    void handleWhois(const Whois& whois, const std::string& name, const Endpoint& source);
    void handleContacts(const ContactsDeclaration& declaration, const std::string& name, const Endpoint& source);
    /// Announces that user left (logout, expiry, displaced) and forgets its contact list.
    void announceLeft(const OnlineUser& user);
    /// Sends name a sealed Turn for the relay, valid TurnRelay::kTtl from
    /// now, and notes its expiry; nothing without a relay.
    void grantRelay(const std::string& name);

    /// Whether the rate limit lets one more unauthenticated datagram from source in.
    bool admit(const Endpoint& source);
    /// Replies to a datagram that was not sealed by a session, in its
    /// encoding, when the reply is no longer than the datagram (no reflection
    /// amplification); to is its source but for a .NET client's Accept.
    void answer(const Message& message, const Endpoint& to, const Request& request);
    /// Refuses what came in request with `refuse,name,reason[,echo]` to its
    /// source, and counts it; why is for a person reading the debug log.
    void refuse(const Request& request, const std::string& name, const std::string& reason,
                const std::optional<Nonce>& echo, const std::string& why);
    /// Sends presence and waiting letters after a login that changed the directory.
    void announce(const LoginOutcome& outcome, const std::string& name, Directory::TimePoint now);
    /// Counts a datagram from source dropped for reason; detail() says what
    /// was wrong, and is called only when someone reads it (the summary's
    /// example, or the debug log), so a flood costs no strings.
    template <typename Detail>
    void drop(DropReason reason, const Endpoint& source, Detail detail);
    std::uint16_t rosterPortFor(Dialect dialect) const;

    Parts _parts;
    RosterPorts _ports;
    bool _legacy;
    Clock _clock;
    WallClock _wallClock;
    LoginCookie _cookie;
    UnprovenLogins _unproven{kMaxUnprovenLogins};
    Introducer _introducer;
    RateLimiter _whoisLimiter{kWhoisRate, kWhoisBurst, kMaxIntroductionRates};
    RateLimiter _declarationLimiter{kDeclarationRate, kDeclarationBurst, kMaxIntroductionRates};
    DropCounter _drops;
};

} // namespace peerchat
