#pragma once

#include "CryptoTypes.h"
#include "DropCounter.h"
#include "Endpoint.h"
#include "KeyPins.h"
#include "KxKeyPair.h"
#include "Protocol.h"
#include "SigningKey.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace peerchat {

/// peerd's half of the login handshake with indexd: hello, challenge, auth,
/// welcome. A login round draws a new key-exchange pair; every hello of it
/// carries a fresh random HNONCE, which indexd echoes in its challenge. The
/// round answers a challenge for this user only when it echoes one of its
/// hellos, and each hello at most once, with an auth signed by the identity
/// key (remembering its nonce), so challenges forged by someone who never
/// saw a hello get nothing. It ends with the first welcome signed by indexd
/// over one of those nonces whose identity key is the one expected: the
/// configured key, else the key pinned for this indexd, else (trust on first
/// use) the key it presents, which is pinned then. A refusal, which nobody
/// signs, counts only when it echoes a hello or an auth of the round. State only.
class LoginState
{
public:
    /// Most challenges answered in one round (a hello resent while indexd was
    /// slow brings one each); older nonces are forgotten.
    static constexpr std::size_t kMaxNonces = 8;
    /// Most hellos of one round a challenge or refusal may echo; older ones are forgotten.
    static constexpr std::size_t kMaxHellos = 8;

    /// What answer() made of a challenge: the auth to send, or why none.
    struct Answer
    {
        std::optional<Auth> auth;
        DropReason dropped = DropReason::Unexpected;  ///< when auth is unset
        std::string detail;                           ///< when auth is unset
    };

    /// A login indexd welcomed: what the session with it is made of.
    struct Welcomed
    {
        std::uint16_t rosterPort = 0;
        Epoch epoch{};
        PublicKey indexIdentity{};
        PublicKey indexKx{};
        Endpoint observed;  ///< where indexd sees this peerd: the endpoint it registered
        KxKeyPair kx;       ///< this login's key-exchange pair
    };

    /// What check() made of a welcome.
    struct Verdict
    {
        enum class Outcome { Accepted, Dropped, Refused };
        Outcome outcome = Outcome::Dropped;
        std::string detail;                ///< why it was dropped or refused; for Accepted, a pin made now (or empty)
        std::optional<Welcomed> welcomed;  ///< set when Accepted
    };

    /// self logs in with identity to the indexd at index; configuredIndexKey
    /// (peerd.indexKey) is indexd's key when set; pins keeps the index pin.
    LoginState(std::string self, const SigningKey& identity, const Endpoint& index,
               std::optional<PublicKey> configuredIndexKey, KeyPins& pins);

    /// The hello to send, with a fresh HNONCE (padded to
    /// Protocol::kMinHelloBytes). Starts a new round, with a new key-exchange
    /// pair, unless one is under way.
    Hello hello();

    /// The auth answering challenge, remembering its nonce. None (Unexpected)
    /// when the challenge names another user, no round is under way or its
    /// hello was answered already; none (Unauthentic) when it echoes no
    /// hello of this round.
    Answer answer(const Challenge& challenge);

    /// True when echo is the HNONCE of a hello, or the NONCE of an auth, of
    /// the round under way: what a refusal of them echoes.
    bool echoesOwn(const std::optional<Nonce>& echo) const;

    /// Checks a welcome: Dropped when it names another user, answers no nonce
    /// of this round or its signature does not verify; Refused when indexd's
    /// key is not the one expected (detail names both fingerprints and what to
    /// do); Accepted otherwise, which ends the round.
    Verdict check(const Welcome& welcome);

    /// True between hello() and the welcome that ends the round.
    bool underWay() const { return _kx.has_value(); }

    /// Abandons the round under way, if any.
    void reset();

private:
    std::string _self;
    const SigningKey& _identity;
    Endpoint _index;
    std::optional<PublicKey> _configuredIndexKey;
    KeyPins& _pins;
    std::optional<KxKeyPair> _kx;
    Signature _kxSig{};
    std::vector<std::pair<Nonce, Endpoint>> _nonces;  ///< answered this round, oldest first, with their OBSERVED
    std::vector<std::pair<Nonce, bool>> _hellos;      ///< HNONCEs sent this round, oldest first; true once answered
};

} // namespace peerchat
