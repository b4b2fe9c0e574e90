#include "PeerStore.h"
#include "Fingerprint.h"
#include "KeyPins.h"
#include "LoginState.h"
#include "Protocol.h"
#include "SignedStatement.h"
#include "SigningKey.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <optional>
#include <string>

using namespace peerchat;

namespace {

const Endpoint kIndex = Endpoint::parse("127.0.0.1:9400").value();
const Endpoint kObserved = Endpoint::parse("192.0.2.7:5001").value();
const Epoch kEpoch{1, 2, 3, 4, 5, 6, 7, 8};

Nonce nonce(std::uint8_t n)
{
    Nonce out{};
    out.fill(n);
    return out;
}

} // namespace

class LoginStateTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LoginStateTest);
    CPPUNIT_TEST(testHelloIsPaddedAndStartsRound);
    CPPUNIT_TEST(testAnswerSignsAuthWithRoundKeys);
    CPPUNIT_TEST(testAnswerRefusedForOtherNameOrWithoutRound);
    CPPUNIT_TEST(testEveryHelloHasFreshNonce);
    CPPUNIT_TEST(testChallengeAnsweredOnlyWhenEchoingHello);
    CPPUNIT_TEST(testOneAuthPerHello);
    CPPUNIT_TEST(testOldestHelloForgotten);
    CPPUNIT_TEST(testRefusalEchoesHelloOrAuthOfRound);
    CPPUNIT_TEST(testWelcomeAcceptedPinsIndexOnFirstUse);
    CPPUNIT_TEST(testWelcomeOverAnyAnsweredNonceAccepted);
    CPPUNIT_TEST(testWelcomeDroppedUnlessSignedOverAnsweredNonce);
    CPPUNIT_TEST(testForgedChallengeGetsNoAuth);
    CPPUNIT_TEST(testChallengeFromOtherThanPinnedKeyRefused);
    CPPUNIT_TEST(testConfiguredKeyWinsOverPinAndIsPinned);
    CPPUNIT_TEST(testNextRoundHasNewKeys);
    CPPUNIT_TEST(testOldestNonceForgotten);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _store = std::make_unique<PeerStore>(10);
        _pins = std::make_unique<KeyPins>(_store->keys, _store->outbox);
        _login = std::make_unique<LoginState>("alice", _alice, kIndex, std::nullopt, *_pins);
    }

    void testHelloIsPaddedAndStartsRound()
    {
        CPPUNIT_ASSERT(!_login->underWay());
        const Hello hello = _login->hello();
        CPPUNIT_ASSERT(_login->underWay());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), hello.name);
        CPPUNIT_ASSERT_EQUAL(std::string("peerchat/3"), hello.dialect);
        CPPUNIT_ASSERT(hello.nonce.has_value());
        CPPUNIT_ASSERT(Protocol::encode(hello).size() >= Protocol::kMinHelloBytes);
        CPPUNIT_ASSERT(Protocol::encode(hello).size() < Protocol::kMinHelloBytes + 8);
        CPPUNIT_ASSERT(Protocol::decode(Protocol::encode(hello)).ok());
    }

    void testAnswerSignsAuthWithRoundKeys()
    {
        const Auth first = answer(1);
        CPPUNIT_ASSERT(first.observed == kObserved);
        CPPUNIT_ASSERT(first.nonce == nonce(1));
        CPPUNIT_ASSERT(first.keys.identity == _alice.publicKey());
        CPPUNIT_ASSERT(SigningKey::verify(_alice.publicKey(), SignedStatement::auth(first), first.sig));
        // KXSIG binds the key to alice, her name and the indexd run of the challenge.
        CPPUNIT_ASSERT(SigningKey::verify(
            _alice.publicKey(), SignedStatement::kx(_alice.publicKey(), "alice", first.keys.kx, _index.publicKey(), kEpoch),
            first.keys.kxSig));
        // The next hello of the round: the same keys.
        CPPUNIT_ASSERT(answer(2).keys.kx == first.keys.kx);
    }

    void testAnswerRefusedForOtherNameOrWithoutRound()
    {
        const LoginState::Answer withoutRound = _login->answer(challenge(_index, nonce(1), nonce(2)));
        CPPUNIT_ASSERT(!withoutRound.auth);
        CPPUNIT_ASSERT(withoutRound.dropped == DropReason::Unexpected);
        const Hello hello = _login->hello();
        Challenge forBob = challenge(_index, nonce(1), *hello.nonce);
        forBob.name = "bob";
        forBob.sig = _index.sign(SignedStatement::challenge(forBob));
        const LoginState::Answer other = _login->answer(forBob);
        CPPUNIT_ASSERT(!other.auth);
        CPPUNIT_ASSERT_EQUAL(std::string("challenge names bob, not alice"), other.detail);
    }

    void testEveryHelloHasFreshNonce()
    {
        const Hello first = _login->hello();
        const Hello second = _login->hello();
        CPPUNIT_ASSERT(first.nonce && second.nonce);
        CPPUNIT_ASSERT(*first.nonce != *second.nonce);
        CPPUNIT_ASSERT(Protocol::encode(second).size() >= Protocol::kMinHelloBytes);
    }

    void testChallengeAnsweredOnlyWhenEchoingHello()
    {
        const Hello hello = _login->hello();
        const LoginState::Answer forged = _login->answer(challenge(_index, nonce(1), nonce(9)));
        CPPUNIT_ASSERT(!forged.auth);
        CPPUNIT_ASSERT(forged.dropped == DropReason::Unauthentic);
        // Forged challenges leave no nonce behind for a welcome to be signed over.
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(1))).outcome == LoginState::Verdict::Outcome::Dropped);
        const LoginState::Answer real = _login->answer(challenge(_index, nonce(2), *hello.nonce));
        CPPUNIT_ASSERT(real.auth);
        CPPUNIT_ASSERT(real.auth->nonce == nonce(2));
    }

    void testOneAuthPerHello()
    {
        const Hello hello = _login->hello();
        CPPUNIT_ASSERT(_login->answer(challenge(_index, nonce(1), *hello.nonce)).auth);
        const LoginState::Answer again = _login->answer(challenge(_index, nonce(2), *hello.nonce));
        CPPUNIT_ASSERT(!again.auth);
        CPPUNIT_ASSERT(again.dropped == DropReason::Unexpected);
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(2))).outcome == LoginState::Verdict::Outcome::Dropped);
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(1))).outcome == LoginState::Verdict::Outcome::Accepted);
    }

    void testOldestHelloForgotten()
    {
        const Hello oldest = _login->hello();
        const Hello next = _login->hello();
        for (std::size_t i = 2; i < LoginState::kMaxHellos + 1; ++i) _login->hello();
        CPPUNIT_ASSERT(!_login->answer(challenge(_index, nonce(1), *oldest.nonce)).auth);
        CPPUNIT_ASSERT(!_login->echoesOwn(oldest.nonce));
        CPPUNIT_ASSERT(_login->answer(challenge(_index, nonce(2), *next.nonce)).auth);
    }

    void testRefusalEchoesHelloOrAuthOfRound()
    {
        CPPUNIT_ASSERT(!_login->echoesOwn(std::nullopt));
        const Hello answered = _login->hello();
        const Hello waiting = _login->hello();
        CPPUNIT_ASSERT(_login->answer(challenge(_index, nonce(1), *answered.nonce)).auth);
        CPPUNIT_ASSERT(_login->echoesOwn(answered.nonce));
        CPPUNIT_ASSERT(_login->echoesOwn(waiting.nonce));
        CPPUNIT_ASSERT(_login->echoesOwn(nonce(1)));
        CPPUNIT_ASSERT(!_login->echoesOwn(nonce(2)));
        CPPUNIT_ASSERT(!_login->echoesOwn(std::nullopt));
        // The round is over: nothing of it is echoed any more.
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(1))).outcome == LoginState::Verdict::Outcome::Accepted);
        CPPUNIT_ASSERT(!_login->echoesOwn(waiting.nonce));
        CPPUNIT_ASSERT(!_login->echoesOwn(nonce(1)));
    }

    void testWelcomeAcceptedPinsIndexOnFirstUse()
    {
        const Auth auth = answer(1);
        LoginState::Verdict verdict = _login->check(welcome(_index, nonce(1)));
        CPPUNIT_ASSERT(verdict.outcome == LoginState::Verdict::Outcome::Accepted);
        CPPUNIT_ASSERT(verdict.detail.find(Fingerprint::of(_index.publicKey())) != std::string::npos);
        CPPUNIT_ASSERT(_pins->indexPin("127.0.0.1:9400") == _index.publicKey());
        const LoginState::Welcomed& welcomed = *verdict.welcomed;
        CPPUNIT_ASSERT(welcomed.kx.publicKey() == auth.keys.kx);
        CPPUNIT_ASSERT(welcomed.indexIdentity == _index.publicKey());
        CPPUNIT_ASSERT(welcomed.observed == kObserved);
        CPPUNIT_ASSERT(welcomed.epoch == kEpoch);
        CPPUNIT_ASSERT(welcomed.indexKx == _indexKx.publicKey());
        CPPUNIT_ASSERT(!_login->underWay());

        // The pinned key again: accepted, nothing pinned anew.
        answer(2);
        verdict = _login->check(welcome(_index, nonce(2)));
        CPPUNIT_ASSERT(verdict.outcome == LoginState::Verdict::Outcome::Accepted);
        CPPUNIT_ASSERT(verdict.detail.empty());
    }

    void testWelcomeOverAnyAnsweredNonceAccepted()
    {
        answer(1);
        answer(2);
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(1))).outcome == LoginState::Verdict::Outcome::Accepted);
    }

    void testWelcomeDroppedUnlessSignedOverAnsweredNonce()
    {
        answer(1);
        const SigningKey mallory = SigningKey::generate();
        Welcome forged = welcome(_index, nonce(1));
        forged.sig = mallory.sign(SignedStatement::welcome(forged, nonce(1)));
        CPPUNIT_ASSERT(_login->check(forged).outcome == LoginState::Verdict::Outcome::Dropped);
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(9))).outcome == LoginState::Verdict::Outcome::Dropped);
        Welcome other = welcome(_index, nonce(1));
        other.name = "bob";
        CPPUNIT_ASSERT(_login->check(other).outcome == LoginState::Verdict::Outcome::Dropped);
        // Signed by another key than the challenge's, or for another run: the KXSIG would not fit.
        CPPUNIT_ASSERT(_login->check(welcome(mallory, nonce(1))).outcome == LoginState::Verdict::Outcome::Dropped);
        Welcome otherRun = welcome(_index, nonce(1));
        otherRun.epoch[0] ^= 1;
        otherRun.sig = _index.sign(SignedStatement::welcome(otherRun, nonce(1)));
        CPPUNIT_ASSERT(_login->check(otherRun).outcome == LoginState::Verdict::Outcome::Dropped);
        CPPUNIT_ASSERT(_login->underWay());
        CPPUNIT_ASSERT(!_pins->indexPin("127.0.0.1:9400"));
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(1))).outcome == LoginState::Verdict::Outcome::Accepted);
    }

    // Row 5 of issue 10: whoever saw alice's hello knows its HNONCE and can
    // send a challenge naming any OBSERVED from indexd's address. Before,
    // peerd signed an auth for it; now only indexd's signature makes a
    // challenge worth answering, and a forged one does not use up the hello.
    void testForgedChallengeGetsNoAuth()
    {
        _pins->pinIndex("127.0.0.1:9400", _index.publicKey());
        const Hello hello = _login->hello();
        const Endpoint elsewhere = Endpoint::parse("203.0.113.9:4444").value();
        const SigningKey mallory = SigningKey::generate();
        // mallory's signature under indexd's key, indexd's signature over another OBSERVED, no signature.
        Challenge underIndexKey = challenge(mallory, nonce(1), *hello.nonce, elsewhere);
        underIndexKey.indexIdentity = _index.publicKey();
        Challenge moved = challenge(_index, nonce(1), *hello.nonce);
        moved.observed = elsewhere;
        Challenge unsignedOne = challenge(_index, nonce(1), *hello.nonce, elsewhere);
        unsignedOne.sig = Signature{};
        for (const Challenge& forged : {underIndexKey, moved, unsignedOne}) {
            const LoginState::Answer answer = _login->answer(forged);
            CPPUNIT_ASSERT(!answer.auth);
            CPPUNIT_ASSERT(!answer.refused);
            CPPUNIT_ASSERT(answer.dropped == DropReason::Unauthentic);
        }
        const LoginState::Answer real = _login->answer(challenge(_index, nonce(2), *hello.nonce));
        CPPUNIT_ASSERT_MESSAGE(real.detail, real.auth);
        CPPUNIT_ASSERT(real.auth->observed == kObserved);
    }

    void testChallengeFromOtherThanPinnedKeyRefused()
    {
        const SigningKey impostor = SigningKey::generate();
        _pins->pinIndex("127.0.0.1:9400", _index.publicKey());
        const Hello hello = _login->hello();
        const LoginState::Answer answer = _login->answer(challenge(impostor, nonce(1), *hello.nonce));
        CPPUNIT_ASSERT(!answer.auth);
        CPPUNIT_ASSERT(answer.refused);
        CPPUNIT_ASSERT(answer.detail.find(Fingerprint::of(_index.publicKey())) != std::string::npos);
        CPPUNIT_ASSERT(answer.detail.find(Fingerprint::of(impostor.publicKey())) != std::string::npos);
        CPPUNIT_ASSERT(_pins->indexPin("127.0.0.1:9400") == _index.publicKey());
        // Another indexd endpoint has a pin of its own.
        LoginState elsewhere("alice", _alice, Endpoint::parse("127.0.0.1:9500").value(), std::nullopt, *_pins);
        const Hello other = elsewhere.hello();
        CPPUNIT_ASSERT(elsewhere.answer(challenge(impostor, nonce(1), *other.nonce)).auth);
        CPPUNIT_ASSERT(elsewhere.check(welcome(impostor, nonce(1))).outcome ==
                       LoginState::Verdict::Outcome::Accepted);
    }

    void testConfiguredKeyWinsOverPinAndIsPinned()
    {
        const SigningKey configured = SigningKey::generate();
        _pins->pinIndex("127.0.0.1:9400", _index.publicKey());
        LoginState login("alice", _alice, kIndex, configured.publicKey(), *_pins);
        const Hello hello = login.hello();
        const LoginState::Answer refused = login.answer(challenge(_index, nonce(1), *hello.nonce));
        CPPUNIT_ASSERT(refused.refused);
        CPPUNIT_ASSERT(refused.detail.find("--index-key") != std::string::npos);
        CPPUNIT_ASSERT(login.answer(challenge(configured, nonce(2), *hello.nonce)).auth);
        CPPUNIT_ASSERT(login.check(welcome(configured, nonce(2))).outcome == LoginState::Verdict::Outcome::Accepted);
        CPPUNIT_ASSERT(_pins->indexPin("127.0.0.1:9400") == configured.publicKey());
    }

    void testNextRoundHasNewKeys()
    {
        const Auth first = answer(1);
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(1))).outcome == LoginState::Verdict::Outcome::Accepted);
        const Auth second = answer(2);
        CPPUNIT_ASSERT(second.keys.kx != first.keys.kx);
        // The first round's nonce does not answer for the second.
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(1))).outcome == LoginState::Verdict::Outcome::Dropped);
    }

    void testOldestNonceForgotten()
    {
        for (std::uint8_t n = 1; n <= LoginState::kMaxNonces + 1; ++n) answer(n);
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(1))).outcome == LoginState::Verdict::Outcome::Dropped);
        CPPUNIT_ASSERT(_login->check(welcome(_index, nonce(2))).outcome == LoginState::Verdict::Outcome::Accepted);
    }

private:
    /// A new hello (of the round under way, or of a new one) and the auth
    /// answering its challenge with nonce n.
    Auth answer(std::uint8_t n)
    {
        const Hello hello = _login->hello();
        const LoginState::Answer answer = _login->answer(challenge(_index, nonce(n), *hello.nonce));
        CPPUNIT_ASSERT_MESSAGE(answer.detail, answer.auth.has_value());
        return *answer.auth;
    }

    /// A challenge for alice with nonce n echoing echo, signed by index for kEpoch.
    static Challenge challenge(const SigningKey& index, const Nonce& n, const Nonce& echo,
                               const Endpoint& observed = kObserved)
    {
        Challenge challenge{"alice", observed, n, echo, kEpoch, index.publicKey(), {}};
        challenge.sig = index.sign(SignedStatement::challenge(challenge));
        return challenge;
    }

    Welcome welcome(const SigningKey& index, const Nonce& answered) const
    {
        Welcome welcome{"alice", kEpoch, index.publicKey(), _indexKx.publicKey(), {}};
        welcome.sig = index.sign(SignedStatement::welcome(welcome, answered));
        return welcome;
    }

    const SigningKey _alice = SigningKey::generate();
    const SigningKey _index = SigningKey::generate();
    const KxKeyPair _indexKx = KxKeyPair::generate();
    std::unique_ptr<PeerStore> _store;
    std::unique_ptr<KeyPins> _pins;
    std::unique_ptr<LoginState> _login;
};

CPPUNIT_TEST_SUITE_REGISTRATION(LoginStateTest);
