#pragma once

#include "CryptoTypes.h"
#include "Endpoint.h"
#include "KxKeyPair.h"
#include "Protocol.h"
#include "SessionCipher.h"
#include "SigningKey.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace peerchat::bench {

/// One simulated peerchat/3 user's side of its session with indexd, as
/// peerd's LoginState and IndexSession play it (docs/PROTOCOL.md, "Logging
/// in", "Presence", "Contacts"), for a load generator of many users in one
/// process: hello with a fresh HNONCE, padded; an auth only for a challenge
/// that echoes one of its hellos and is signed by the index key it was
/// given; the KXSIG and the auth signature over SignedStatement's texts; a
/// welcome only when signed over the nonce of a challenge it answered, for
/// that challenge's run; then the session with indexd (SessionCipher), its
/// contact list declared sealed and signed, sealed alives and its sealed
/// logout. Not LoginState itself: that one keeps indexd's pin in peerd's
/// KeyPins, which live in a peerd database, and bench/ does not link peerd.
/// State only: the caller sends what it returns, keeps the time, and makes
/// of the presence open() hands it what it wants (CrowdWorker keeps a
/// roster).
class CrowdUser
{
public:
    /// Hellos of one round a challenge may echo, and challenges whose
    /// nonce a welcome may be signed over; older ones are forgotten.
    static constexpr std::size_t kRemembered = 4;

    /// Where the user's session stands: none yet, waiting for indexd's
    /// challenge or welcome, welcomed (the session holds), or given up.
    enum class Phase : std::uint8_t { Idle, AwaitingChallenge, AwaitingWelcome, InSession, Failed };

    /// What answer() made of a challenge: the auth to send, or why none.
    struct Answer
    {
        std::optional<Auth> auth;
        std::string dropped;      ///< why there is no auth: the challenge is dropped, as peerd drops it
        bool wrongIndex = false;  ///< no auth because indexd signs with another key than the one given: final
    };

    /// One presence message of a seal: a snapshot's head, a here or a gone.
    struct Presence
    {
        enum class Kind : std::uint8_t { Snapshot, Here, Gone };
        Kind kind = Kind::Here;
        std::uint64_t seq = 0;
        std::uint64_t count = 0;  ///< a snapshot's COUNT
        std::string name;         ///< a here's or gone's NAME
        PresenceState state = PresenceState::Online;
    };

    /// What open() found in a sealed datagram from indexd, in order.
    struct Opened
    {
        std::optional<std::uint64_t> declared;  ///< the VERSION of a `declared`
        bool seen = false;                      ///< indexd answered an alive
        std::vector<Presence> presence;
        std::size_t passedOver = 0;             ///< other messages, and parts that do not parse
        std::string refused;                    ///< why the seal was not taken; empty when it was
    };

    /// The user "u<number>" with identity, logging in to the indexd whose key is indexKey.
    CrowdUser(std::uint32_t number, SigningKey identity, const PublicKey& indexKey);

    std::string name() const { return "u" + std::to_string(_number); }
    std::uint32_t number() const { return _number; }
    Phase phase() const { return _phase; }

    /// The hello to send (then AwaitingChallenge), with a fresh HNONCE,
    /// padded to Protocol::kMinHelloBytes; starts a round with a new
    /// key-exchange pair unless one is under way.
    Hello hello();

    /// The auth answering challenge (then AwaitingWelcome), or why none: it
    /// names another user, echoes no hello of this round or one answered
    /// already, or is not signed by the INDEXID it names (dropped); it names
    /// another index key than the one given (wrongIndex: peerd stops there,
    /// refused, and so should the caller).
    Answer answer(const Challenge& challenge);

    /// Takes a welcome and makes the session with indexd (then InSession);
    /// returns why not, empty when taken: it names another user, is not
    /// signed by the index key over the nonce of a challenge this round
    /// answered, for that challenge's run, or its key-exchange key makes no
    /// session.
    std::string welcome(const Welcome& welcome);

    /// True when echo is the HNONCE of a hello, or the NONCE of an auth, of
    /// the round under way: a refusal that echoes neither is not for it.
    bool echoesOwn(const std::optional<Nonce>& echo) const;

    /// The contact list names as version, shown as state, in as many parts
    /// as it takes (as peerd's ContactDeclaration cuts it), each signed and
    /// sealed to indexd; sent again, the same version goes under new
    /// counters. Needs the session.
    std::vector<Seal> declare(const std::vector<std::string>& names, std::uint64_t version, PresenceState state);

    /// A sealed `alive,NAME,0`. Needs the session.
    Seal alive();

    /// A sealed `logout,NAME,ENDPOINT`, ENDPOINT where indexd saw the hello
    /// of this session come from. Needs the session, which stays: an alive
    /// sealed in it afterwards is answered `relogin` once indexd has let
    /// the user go.
    Seal logout();

    /// Opens a seal from indexd and takes apart what it holds (a bundle
    /// part by part).
    Opened open(const Seal& seal);

    /// Gives up on this user.
    void fail() { _phase = Phase::Failed; }

private:
    /// A challenge this round answered: a welcome must be signed over its
    /// nonce, for its run.
    struct Answered
    {
        Nonce nonce{};
        Epoch epoch{};
    };

    std::uint32_t _number;
    SigningKey _identity;
    PublicKey _indexKey;
    Phase _phase = Phase::Idle;
    std::optional<KxKeyPair> _kx;
    std::optional<SessionCipher> _session;
    Endpoint _observed;                               ///< OBSERVED of the last challenge answered: the user's one socket
    std::array<Nonce, kRemembered> _hellos{};         ///< HNONCEs of this round, hello n at n % kRemembered
    std::array<bool, kRemembered> _helloAnswered{};   ///< each hello gets one auth at most
    std::size_t _hellosSent = 0;
    std::array<Answered, kRemembered> _answered{};
    std::size_t _answers = 0;
};

} // namespace peerchat::bench
