#include "KxKeyPair.h"
#include "PeerSessions.h"
#include "Protocol.h"
#include "SessionCipher.h"
#include "SigningKey.h"

#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <string>

using namespace peerchat;

namespace {

/// The other side of a session: an identity and a login's key-exchange pair.
struct Party
{
    SigningKey identity = SigningKey::generate();
    KxKeyPair kx = KxKeyPair::generate();

    /// Its keys as presence carries them (the KXSIG is not PeerSessions' business).
    PeerKeys keys() const { return PeerKeys{identity.publicKey(), kx.publicKey(), {}}; }

    /// Its side of the session with alice, whose login key is aliceKx.
    SessionCipher sessionWith(const SigningKey& alice, const PublicKey& aliceKx) const
    {
        auto cipher = SessionCipher::between(kx, identity, alice.publicKey(), aliceKx);
        CPPUNIT_ASSERT(cipher.has_value());
        return std::move(*cipher);
    }
};

} // namespace

class PeerSessionsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PeerSessionsTest);
    CPPUNIT_TEST(testNothingSealedBeforeRenew);
    CPPUNIT_TEST(testIndexSessionBothWays);
    CPPUNIT_TEST(testPeerSessionBothWays);
    CPPUNIT_TEST(testReplayRefused);
    CPPUNIT_TEST(testSessionKeptWhilePeerKeyStays);
    CPPUNIT_TEST(testNewPeerKeyMakesNewSession);
    CPPUNIT_TEST(testKeyChangedAndBackGetsNoFreshCipher);
    CPPUNIT_TEST(testOneKxForTwoNamesRefused);
    CPPUNIT_TEST(testOldestRetiredKeyForgotten);
    CPPUNIT_TEST(testRenewDropsEverySession);
    CPPUNIT_TEST(testUnusableKeysRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    void testNothingSealedBeforeRenew()
    {
        PeerSessions sessions(_alice);
        CPPUNIT_ASSERT(!sessions.ready());
        CPPUNIT_ASSERT(!sessions.sealToIndex(Alive{"alice", 1}));
        CPPUNIT_ASSERT(!sessions.sealTo("bob", _bob.keys(), Protocol::encode(Alive{"alice", 1})).ok());
        CPPUNIT_ASSERT(!sessions.refusal("bob", _bob.keys()).empty());
    }

    void testIndexSessionBothWays()
    {
        PeerSessions sessions(_alice);
        const PublicKey mine = renew(sessions);
        SessionCipher index = _index.sessionWith(_alice, mine);
        const std::optional<Seal> seal = sessions.sealToIndex(Alive{"alice", 7});
        CPPUNIT_ASSERT(seal.has_value());
        CPPUNIT_ASSERT(seal->recipient == _index.kx.id());
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,7"), index.open(*seal).value());
        const Parsed<std::string> opened = sessions.openFromIndex(index.seal("seen,7"));
        CPPUNIT_ASSERT_EQUAL(std::string("seen,7"), opened.value());
    }

    void testPeerSessionBothWays()
    {
        PeerSessions sessions(_alice);
        const PublicKey mine = renew(sessions);
        SessionCipher bob = _bob.sessionWith(_alice, mine);
        const Msg msg{"a1", 1, "12:00:00", "alice", "bob", "hi"};
        CPPUNIT_ASSERT_EQUAL(Protocol::encode(msg), bob.open(sessions.sealTo("bob", _bob.keys(), Protocol::encode(msg)).value()).value());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,bob,a1,1"),
                             sessions.openFrom("bob", _bob.keys(), bob.seal("ack,bob,a1,1")).value());
        // Not bob's session: a seal from bob does not open as carol's.
        const Party carol;
        CPPUNIT_ASSERT(!sessions.openFrom("carol", carol.keys(), bob.seal("ack,bob,a1,1")).ok());
    }

    void testReplayRefused()
    {
        PeerSessions sessions(_alice);
        const PublicKey mine = renew(sessions);
        SessionCipher bob = _bob.sessionWith(_alice, mine);
        const Seal seal = bob.seal("msg,b0b,1,12:00:00,bob,alice,once");
        CPPUNIT_ASSERT(sessions.openFrom("bob", _bob.keys(), seal).ok());
        CPPUNIT_ASSERT(!sessions.openFrom("bob", _bob.keys(), seal).ok());
    }

    void testSessionKeptWhilePeerKeyStays()
    {
        PeerSessions sessions(_alice);
        renew(sessions);
        const Seal first = sessions.sealTo("bob", _bob.keys(), Protocol::encode(Alive{"alice", 1})).value();
        const Seal second = sessions.sealTo("bob", _bob.keys(), Protocol::encode(Alive{"alice", 1})).value();
        CPPUNIT_ASSERT_EQUAL(first.counter + 1, second.counter);
        CPPUNIT_ASSERT(first.box != second.box);
    }

    void testNewPeerKeyMakesNewSession()
    {
        PeerSessions sessions(_alice);
        const PublicKey mine = renew(sessions);
        CPPUNIT_ASSERT(sessions.sealTo("bob", _bob.keys(), Protocol::encode(Alive{"alice", 1})).ok());
        Party bobAgain;
        bobAgain.identity = _bob.identity;
        SessionCipher bob = bobAgain.sessionWith(_alice, mine);
        const Seal seal = sessions.sealTo("bob", bobAgain.keys(), Protocol::encode(Alive{"alice", 2})).value();
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), seal.counter);
        CPPUNIT_ASSERT(seal.recipient == bobAgain.kx.id());
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,2"), bob.open(seal).value());
    }

    // Row 3 of issue 10: a malicious indexd presents bob's old KXPK again
    // after a new one. Before, peerd made a fresh cipher for it, counting from
    // 1 again: two rounds of ciphertext under one key and counter.
    void testKeyChangedAndBackGetsNoFreshCipher()
    {
        PeerSessions sessions(_alice);
        const PublicKey mine = renew(sessions);
        SessionCipher bob = _bob.sessionWith(_alice, mine);
        const Seal first = sessions.sealTo("bob", _bob.keys(), Protocol::encode(Alive{"alice", 1})).value();
        Party bobAgain;
        bobAgain.identity = _bob.identity;
        CPPUNIT_ASSERT(sessions.sealTo("bob", bobAgain.keys(), Protocol::encode(Alive{"alice", 2})).ok());

        CPPUNIT_ASSERT(!sessions.refusal("bob", _bob.keys()).empty());
        const Parsed<Seal> again = sessions.sealTo("bob", _bob.keys(), Protocol::encode(Alive{"alice", 3}));
        CPPUNIT_ASSERT(!again.ok());
        CPPUNIT_ASSERT(again.error().find("already used") != std::string::npos);
        CPPUNIT_ASSERT(!sessions.openFrom("bob", _bob.keys(), bob.seal("ack,bob,a1,1")).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,1"), bob.open(first).value());
        // The current key still works.
        CPPUNIT_ASSERT(sessions.sealTo("bob", bobAgain.keys(), Protocol::encode(Alive{"alice", 4})).ok());
    }

    // Row 1: one KXPK for two names (a malicious indexd presents mallory with
    // alice's key), or for one name under another identity key.
    void testOneKxForTwoNamesRefused()
    {
        PeerSessions sessions(_alice);
        renew(sessions);
        CPPUNIT_ASSERT(sessions.sealTo("bob", _bob.keys(), Protocol::encode(Alive{"alice", 1})).ok());
        const SigningKey mallory = SigningKey::generate();
        const PeerKeys borrowed{mallory.publicKey(), _bob.kx.publicKey(), {}};
        CPPUNIT_ASSERT(sessions.refusal("mallory", borrowed).find("of bob") != std::string::npos);
        CPPUNIT_ASSERT(!sessions.sealTo("mallory", borrowed, Protocol::encode(Alive{"alice", 1})).ok());
        CPPUNIT_ASSERT(!sessions.sealTo("bob", borrowed, Protocol::encode(Alive{"alice", 1})).ok());
        CPPUNIT_ASSERT(!sessions.openFrom("mallory", borrowed, Seal{}).ok());
        // Nor this login's own key, under any name.
        CPPUNIT_ASSERT(!sessions.refusal("carol", PeerKeys{mallory.publicKey(), _ownKx, {}}).empty());
        // bob keeps his.
        CPPUNIT_ASSERT(sessions.sealTo("bob", _bob.keys(), Protocol::encode(Alive{"alice", 2})).ok());
    }

    void testOldestRetiredKeyForgotten()
    {
        PeerSessions sessions(_alice);
        renew(sessions);
        const PeerKeys first = _bob.keys();
        CPPUNIT_ASSERT(sessions.sealTo("bob", first, Protocol::encode(Alive{"alice", 1})).ok());
        for (std::size_t i = 0; i < PeerSessions::kMaxRetiredKeys; ++i) {
            const KxKeyPair next = KxKeyPair::generate();
            CPPUNIT_ASSERT(sessions.sealTo("bob", PeerKeys{_bob.identity.publicKey(), next.publicKey(), {}},
                                           Protocol::encode(Alive{"alice", 1}))
                               .ok());
        }
        CPPUNIT_ASSERT_EQUAL(std::string(), sessions.refusal("bob", first));
    }

    void testRenewDropsEverySession()
    {
        PeerSessions sessions(_alice);
        const PublicKey first = renew(sessions);
        SessionCipher bob = _bob.sessionWith(_alice, first);
        const Seal old = bob.seal("ack,bob,a1,1");
        renew(sessions);
        CPPUNIT_ASSERT(!sessions.openFrom("bob", _bob.keys(), old).ok());
        sessions.clear();
        CPPUNIT_ASSERT(!sessions.ready());
        CPPUNIT_ASSERT(!sessions.openFromIndex(old).ok());
    }

    void testUnusableKeysRefused()
    {
        PeerSessions sessions(_alice);
        KxKeyPair own = KxKeyPair::generate();
        const PublicKey ownKey = own.publicKey();
        CPPUNIT_ASSERT(!sessions.renew(std::move(own), _index.identity.publicKey(), ownKey));
        CPPUNIT_ASSERT(!sessions.ready());
        renew(sessions);
        CPPUNIT_ASSERT(!sessions.sealTo("bob", PeerKeys{_bob.identity.publicKey(), PublicKey{}, {}}, Protocol::encode(Alive{"alice", 1}))
                            .ok());
    }

private:
    /// A new own pair with _index as indexd; returns the own public key.
    PublicKey renew(PeerSessions& sessions)
    {
        KxKeyPair own = KxKeyPair::generate();
        _ownKx = own.publicKey();
        CPPUNIT_ASSERT(sessions.renew(std::move(own), _index.identity.publicKey(), _index.kx.publicKey()));
        CPPUNIT_ASSERT(sessions.ready());
        return _ownKx;
    }

    const SigningKey _alice = SigningKey::generate();
    const Party _index;
    const Party _bob;
    PublicKey _ownKx{};
};

CPPUNIT_TEST_SUITE_REGISTRATION(PeerSessionsTest);
