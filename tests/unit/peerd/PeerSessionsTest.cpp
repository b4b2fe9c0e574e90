#include "KxKeyPair.h"
#include "PeerSessions.h"
#include "Protocol.h"
#include "SessionCipher.h"

#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <string>

using namespace peerchat;

class PeerSessionsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PeerSessionsTest);
    CPPUNIT_TEST(testNothingSealedBeforeRenew);
    CPPUNIT_TEST(testIndexSessionBothWays);
    CPPUNIT_TEST(testPeerSessionBothWays);
    CPPUNIT_TEST(testReplayRefused);
    CPPUNIT_TEST(testSessionKeptWhilePeerKeyStays);
    CPPUNIT_TEST(testNewPeerKeyMakesNewSession);
    CPPUNIT_TEST(testRenewDropsEverySession);
    CPPUNIT_TEST(testUnusableKeysRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    void testNothingSealedBeforeRenew()
    {
        PeerSessions sessions;
        CPPUNIT_ASSERT(!sessions.ready());
        CPPUNIT_ASSERT(!sessions.sealToIndex(Alive{"alice", 1}));
        CPPUNIT_ASSERT(!sessions.sealTo("bob", _bob.publicKey(), Alive{"alice", 1}));
    }

    void testIndexSessionBothWays()
    {
        PeerSessions sessions;
        const PublicKey mine = renew(sessions);
        std::optional<SessionCipher> index = SessionCipher::between(_index, mine);
        const std::optional<Seal> seal = sessions.sealToIndex(Alive{"alice", 7});
        CPPUNIT_ASSERT(seal.has_value());
        CPPUNIT_ASSERT(seal->recipient == _index.id());
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,7"), index->open(*seal).value());
        const Parsed<std::string> opened = sessions.openFromIndex(index->seal("seen,7"));
        CPPUNIT_ASSERT_EQUAL(std::string("seen,7"), opened.value());
    }

    void testPeerSessionBothWays()
    {
        PeerSessions sessions;
        const PublicKey mine = renew(sessions);
        std::optional<SessionCipher> bob = SessionCipher::between(_bob, mine);
        const Msg msg{"a1", 1, "12:00:00", "alice", "hi"};
        CPPUNIT_ASSERT_EQUAL(Protocol::encode(msg), bob->open(*sessions.sealTo("bob", _bob.publicKey(), msg)).value());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,bob,a1,1"),
                             sessions.openFrom("bob", _bob.publicKey(), bob->seal("ack,bob,a1,1")).value());
        // Not bob's session: a seal from bob does not open as carol's.
        const KxKeyPair carol = KxKeyPair::generate();
        CPPUNIT_ASSERT(!sessions.openFrom("carol", carol.publicKey(), bob->seal("ack,bob,a1,1")).ok());
    }

    void testReplayRefused()
    {
        PeerSessions sessions;
        const PublicKey mine = renew(sessions);
        std::optional<SessionCipher> bob = SessionCipher::between(_bob, mine);
        const Seal seal = bob->seal("msg,b0b,1,12:00:00,bob,once");
        CPPUNIT_ASSERT(sessions.openFrom("bob", _bob.publicKey(), seal).ok());
        CPPUNIT_ASSERT(!sessions.openFrom("bob", _bob.publicKey(), seal).ok());
    }

    void testSessionKeptWhilePeerKeyStays()
    {
        PeerSessions sessions;
        renew(sessions);
        const Seal first = *sessions.sealTo("bob", _bob.publicKey(), Alive{"alice", 1});
        const Seal second = *sessions.sealTo("bob", _bob.publicKey(), Alive{"alice", 1});
        CPPUNIT_ASSERT_EQUAL(first.counter + 1, second.counter);
        CPPUNIT_ASSERT(first.box != second.box);
    }

    void testNewPeerKeyMakesNewSession()
    {
        PeerSessions sessions;
        const PublicKey mine = renew(sessions);
        sessions.sealTo("bob", _bob.publicKey(), Alive{"alice", 1});
        const KxKeyPair bobAgain = KxKeyPair::generate();
        std::optional<SessionCipher> bob = SessionCipher::between(bobAgain, mine);
        const Seal seal = *sessions.sealTo("bob", bobAgain.publicKey(), Alive{"alice", 2});
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), seal.counter);
        CPPUNIT_ASSERT(seal.recipient == bobAgain.id());
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,2"), bob->open(seal).value());
    }

    void testRenewDropsEverySession()
    {
        PeerSessions sessions;
        const PublicKey first = renew(sessions);
        std::optional<SessionCipher> bob = SessionCipher::between(_bob, first);
        const Seal old = bob->seal("ack,bob,a1,1");
        renew(sessions);
        CPPUNIT_ASSERT(!sessions.openFrom("bob", _bob.publicKey(), old).ok());
        sessions.clear();
        CPPUNIT_ASSERT(!sessions.ready());
        CPPUNIT_ASSERT(!sessions.openFromIndex(old).ok());
    }

    void testUnusableKeysRefused()
    {
        PeerSessions sessions;
        KxKeyPair own = KxKeyPair::generate();
        const PublicKey ownKey = own.publicKey();
        CPPUNIT_ASSERT(!sessions.renew(std::move(own), ownKey));
        CPPUNIT_ASSERT(!sessions.ready());
        const PublicKey mine = renew(sessions);
        CPPUNIT_ASSERT(!sessions.sealTo("bob", mine, Alive{"alice", 1}));
    }

private:
    /// A new own pair with _index as indexd's; returns the own public key.
    PublicKey renew(PeerSessions& sessions)
    {
        KxKeyPair own = KxKeyPair::generate();
        const PublicKey key = own.publicKey();
        CPPUNIT_ASSERT(sessions.renew(std::move(own), _index.publicKey()));
        CPPUNIT_ASSERT(sessions.ready());
        return key;
    }

    const KxKeyPair _index = KxKeyPair::generate();
    const KxKeyPair _bob = KxKeyPair::generate();
};

CPPUNIT_TEST_SUITE_REGISTRATION(PeerSessionsTest);
