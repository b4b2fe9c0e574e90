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
/// hellos, and each hello at most once, and only when indexd signed it
/// (with the key expected: the configured key, else the key pinned for this
/// indexd, else, on first contact, the INDEXID it names), so peerd signs no
/// OBSERVED endpoint indexd did not vouch for. The auth is signed by the
/// identity key, with a KXSIG binding the round's key-exchange key to the
/// user, its name and the challenge's indexd run. The round ends with the
/// first welcome signed over the nonce of an answered challenge by that
/// challenge's INDEXID, for its epoch; a key seen first is pinned then. A
/// refusal, which nobody signs, counts only when it echoes a hello or an
/// auth of the round. State only.
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
        bool refused = false;  ///< when auth is unset: indexd presents a key other than the one expected
    };

    /// A login indexd welcomed: what the session with it is made of.
    struct Welcomed
    {
        Epoch epoch{};
        PublicKey indexIdentity{};
        PublicKey indexKx{};
        Endpoint observed;  ///< where indexd sees this peerd: the endpoint it registered
        KxKeyPair kx;       ///< this login's key-exchange pair
    };

    /// What check() made of a welcome.
    struct Verdict
    {
        enum class Outcome { Accepted, Dropped };
        Outcome outcome = Outcome::Dropped;
        std::string detail;                ///< why it was dropped; for Accepted, a pin made now (or empty)
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
    /// hello of this round or its SIG does not verify with its INDEXID; none
    /// and refused when that INDEXID is not the key expected (detail names
    /// both fingerprints and what to do).
    Answer answer(const Challenge& challenge);

    /// True when echo is the HNONCE of a hello, or the NONCE of an auth, of
    /// the round under way: what a refusal of them echoes.
    bool echoesOwn(const std::optional<Nonce>& echo) const;

    /// Checks a welcome: Dropped when it names another user, or is not
    /// signed over the nonce of a challenge of this round by that challenge's
    /// INDEXID for its epoch; Accepted otherwise, which ends the round.
    Verdict check(const Welcome& welcome);

    /// True between hello() and the welcome that ends the round.
    bool underWay() const { return _kx.has_value(); }

    /// Abandons the round under way, if any.
    void reset();

private:
    /// A challenge this round answered: its nonce, the endpoint it said
    /// indexd saw, and the indexd run that signed it.
    struct Answered
    {
        Nonce nonce{};
        Endpoint observed;
        PublicKey indexIdentity{};
        Epoch epoch{};
    };

    /// The index key a challenge must be signed by: the configured one, else
    /// the pinned one; nullopt on first contact.
    std::optional<PublicKey> expectedIndexKey() const;
    /// What a person is told when indexd presents another key than expected.
    std::string impostorDetail(const PublicKey& presented, const PublicKey& expected) const;

    std::string _self;
    const SigningKey& _identity;
    Endpoint _index;
    std::optional<PublicKey> _configuredIndexKey;
    KeyPins& _pins;
    std::optional<KxKeyPair> _kx;
    std::vector<Answered> _nonces;                    ///< answered this round, oldest first
    std::vector<std::pair<Nonce, bool>> _hellos;      ///< HNONCEs sent this round, oldest first; true once answered
};

} // namespace peerchat
