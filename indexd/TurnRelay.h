#pragma once

#include "Endpoint.h"
#include "LockedSecret.h"
#include "Protocol.h"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace peerchat {

/// The TURN relay (coturn with use-auth-secret) indexd hands its peerchat/3
/// users credentials for: its numeric endpoint and the static-auth-secret it
/// shares with coturn, kept in locked memory. A grant is a sealed Turn whose
/// key is TurnCredentials::key(secret, NAME, EXPIRY), valid kTtl; coturn
/// checks it with the same secret, so indexd never talks to coturn. Holds
/// no per-user state: the expiry last granted to each user is kept in its
/// Directory entry, and callers pass the time.
class TurnRelay
{
public:
    /// How long a grant is valid. Long enough that a user needs a new one
    /// only every kTtl / 2 (isHalfSpent), short enough that a name's
    /// credential leaked or left behind by a user who left soon stops working.
    static constexpr std::chrono::hours kTtl{12};

    /// Bytes a secret may have at most; coturn's own secrets are far shorter.
    static constexpr std::size_t kMaxSecretBytes = 256;

    /// A static-auth-secret: its first size bytes.
    struct Secret
    {
        std::array<char, kMaxSecretBytes> bytes;
        std::size_t size;
    };

    TurnRelay(Endpoint server, LockedSecret<Secret> secret);

    /// The relay at host:port with the secret in secretFile, as --turn and
    /// --turn-secret-file give them: host resolved once, now, to one address
    /// (IPv4 first), since peerds are told a numeric endpoint. Throws
    /// Poco::Exception with a message for a person when host does not
    /// resolve or readSecret refuses the file.
    static TurnRelay open(const std::string& host, std::uint16_t port, const std::string& secretFile);

    /// The secret in the file at path: its content without one trailing line
    /// break. Throws Poco::Exception with a message for a person, naming path
    /// and what to do, when the file is missing or unreadable, not a regular
    /// file, readable or writable by group or others ("chmod 600 PATH"),
    /// empty, longer than kMaxSecretBytes, or of more than one line.
    static LockedSecret<Secret> readSecret(const std::string& path);

    /// The relay's numeric endpoint.
    const Endpoint& server() const { return _server; }

    /// name's credential, valid kTtl from now (unix seconds).
    Turn grant(const std::string& name, std::uint64_t now) const;

    /// True when a grant that expires at expiry (unix seconds; 0 for none)
    /// has less than half of kTtl left at now: time for a new one.
    static bool isHalfSpent(std::uint64_t expiry, std::uint64_t now);

private:
    std::string_view secret() const;

    Endpoint _server;
    LockedSecret<Secret> _secret;
};

} // namespace peerchat
