#pragma once

#include "CryptoTypes.h"
#include "KxKeyPair.h"
#include "Parsed.h"
#include "Protocol.h"
#include "SessionCipher.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// The sealed channels of the current login: one to indexd and one to each
/// peer, by name, each a SessionCipher between this login's key-exchange pair
/// and the other side's key-exchange key. A peer's session is made on first
/// use and made anew only when the peer's key changes (a new login of its),
/// so its counters and replay window hold for as long as both logins last. A new login of this peerd drops them all. State only.
class PeerSessions
{
public:
    /// A new login with own as this peerd's pair and indexKx as indexd's key;
    /// every earlier session is gone. False (and no session at all) when
    /// indexKx is not a usable key.
    bool renew(KxKeyPair own, const PublicKey& indexKx);

    /// Forgets every session and the own pair (logged out, or refused).
    void clear();

    /// True after a successful renew(), until clear().
    bool ready() const { return _own.has_value(); }

    /// The datagram to indexd carrying message; nullopt when not ready().
    std::optional<Seal> sealToIndex(const Message& message);

    /// The plaintext of a datagram from indexd, or why it was refused.
    Parsed<std::string> openFromIndex(const Seal& seal);

    /// The datagram to name, whose key-exchange key is now theirKx, carrying
    /// message; nullopt when not ready() or theirKx is not usable.
    std::optional<Seal> sealTo(const std::string& name, const PublicKey& theirKx, const Message& message);

    /// The plaintext of a datagram from name, whose key-exchange key is now
    /// theirKx, or why it was refused.
    Parsed<std::string> openFrom(const std::string& name, const PublicKey& theirKx, const Seal& seal);

private:
    struct PeerSession
    {
        PublicKey kx{};
        SessionCipher cipher;
    };

    /// name's session for theirKx, made now if there is none for that key; nullptr when theirKx is unusable.
    SessionCipher* sessionWith(const std::string& name, const PublicKey& theirKx);

    std::optional<KxKeyPair> _own;
    std::optional<SessionCipher> _index;
    std::map<std::string, PeerSession> _peers;
};

} // namespace peerchat
