#pragma once

#include "CryptoTypes.h"
#include "KxKeyPair.h"
#include "Parsed.h"
#include "Protocol.h"
#include "SessionCipher.h"
#include "SigningKey.h"

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace peerchat {

/// The sealed channels of the current login: one to indexd and one to each
/// peer, by name, each a SessionCipher between this login's key-exchange pair
/// with the user's identity and the other side's identity and key-exchange
/// key. A peer's session is made on first use and made anew only when the
/// peer's keys change (a new login of its), so its counters and replay window
/// hold for as long as both logins last. A key-exchange key gets one session
/// in a login: one that served another name, or that a peer used before and
/// changed from (its session retired), gets none, so a replayed or borrowed
/// here never brings a fresh cipher (counters from 1 again) under old
/// keys. A new login of this peerd drops them all. State only.
class PeerSessions
{
public:
    /// Most retired key-exchange keys remembered in one login; the oldest is forgotten first.
    static constexpr std::size_t kMaxRetiredKeys = 4096;

    /// Sessions of the user whose identity key is identity (outliving this).
    explicit PeerSessions(const SigningKey& identity);

    /// A new login with own as this peerd's pair, and indexd's identity and
    /// key-exchange keys; every earlier session, and every retired key, is
    /// gone. False (and no session at all) when indexd's keys make no session.
    bool renew(KxKeyPair own, const PublicKey& indexIdentity, const PublicKey& indexKx);

    /// Forgets every session and the own pair (logged out, or refused).
    void clear();

    /// True after a successful renew(), until clear().
    bool ready() const { return _own.has_value(); }

    /// The datagram to indexd carrying message; nullopt when not ready().
    std::optional<Seal> sealToIndex(const Message& message);

    /// The plaintext of a datagram from indexd, or why it was refused.
    Parsed<std::string> openFromIndex(const Seal& seal);

    /// Why name, presenting theirs, would get no session; empty when it
    /// would: its session now, or a new one for keys never used in this login.
    std::string refusal(const std::string& name, const PeerKeys& theirs) const;

    /// The datagram to name, whose keys are now theirs, carrying plaintext
    /// (a message's text, or a bundle of them), or why there is none (see
    /// refusal(); or the keys make no session).
    Parsed<Seal> sealTo(const std::string& name, const PeerKeys& theirs, std::string_view plaintext);

    /// The plaintext of a datagram from name, whose keys are now theirs, or
    /// why it was refused.
    Parsed<std::string> openFrom(const std::string& name, const PeerKeys& theirs, const Seal& seal);

private:
    struct PeerSession
    {
        PeerKeys keys;
        SessionCipher cipher;
    };

    /// name's session for theirs, made now if there is none and refusal()
    /// has nothing against it; or why there is none.
    Parsed<SessionCipher*> sessionWith(const std::string& name, const PeerKeys& theirs);
    void retire(const PublicKey& kx);

    const SigningKey& _identity;
    std::optional<KxKeyPair> _own;
    std::optional<SessionCipher> _index;
    std::map<std::string, PeerSession> _peers;
    std::set<PublicKey> _retired;
    std::deque<PublicKey> _retiredOrder;  ///< _retired, oldest first
};

} // namespace peerchat
