#include "SessionCipher.h"

#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

using peerchat::KeyId;
using peerchat::KxKeyPair;
using peerchat::PublicKey;
using peerchat::Seal;
using peerchat::SessionCipher;
using peerchat::SigningKey;

// A second cipher between the same keys would reuse nonces: one can only be moved.
static_assert(!std::is_copy_constructible_v<SessionCipher>);
static_assert(!std::is_copy_assignable_v<SessionCipher>);
static_assert(std::is_nothrow_move_constructible_v<SessionCipher>);

namespace {

/// One side of a session: an identity key and a login's key-exchange pair.
struct Party
{
    SigningKey identity = SigningKey::generate();
    KxKeyPair kx = KxKeyPair::generate();
};

SessionCipher sessionBetween(const Party& me, const PublicKey& theirIdentity, const PublicKey& theirKx)
{
    auto cipher = SessionCipher::between(me.kx, me.identity, theirIdentity, theirKx);
    CPPUNIT_ASSERT_MESSAGE("no session", cipher.has_value());
    return std::move(*cipher);
}

SessionCipher sessionBetween(const Party& me, const Party& them)
{
    return sessionBetween(me, them.identity.publicKey(), them.kx.publicKey());
}

std::string openOk(SessionCipher& cipher, const Seal& seal)
{
    const auto opened = cipher.open(seal);
    CPPUNIT_ASSERT_MESSAGE("refused: " + opened.error(), opened.ok());
    return *opened;
}

void assertRefused(SessionCipher& cipher, const Seal& seal)
{
    const auto opened = cipher.open(seal);
    CPPUNIT_ASSERT_MESSAGE("accepted a seal that should be refused", !opened.ok());
    CPPUNIT_ASSERT(!opened.error().empty());
}

} // namespace

class SessionCipherTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(SessionCipherTest);
    CPPUNIT_TEST(testSealBothDirections);
    CPPUNIT_TEST(testNameKeysInHeader);
    CPPUNIT_TEST(testCountFromOne);
    CPPUNIT_TEST(testHideIdenticalPlaintexts);
    CPPUNIT_TEST(testSealEmptyAndLongPlaintext);
    CPPUNIT_TEST(testRefuseTamperedBox);
    CPPUNIT_TEST(testRefuseTamperedHeader);
    CPPUNIT_TEST(testRefuseShortBox);
    CPPUNIT_TEST(testRefuseReplay);
    CPPUNIT_TEST(testAcceptReorderedOnce);
    CPPUNIT_TEST(testRefuseWrongKeys);
    CPPUNIT_TEST(testRefuseOwnSealReflected);
    CPPUNIT_TEST(testRefuseUnusableKeys);
    CPPUNIT_TEST(testBindBothIdentities);
    CPPUNIT_TEST(testMoveKeepsCounter);
    CPPUNIT_TEST(testSurviveFailedOpen);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _alice.emplace();
        _bob.emplace();
    }

    void tearDown() override
    {
        _alice.reset();
        _bob.reset();
    }

    void testSealBothDirections()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        for (int round = 0; round < 5; ++round) {
            const std::string there = "msg,1,1,t,alice,hello " + std::to_string(round);
            const std::string back = "ack,bob,1," + std::to_string(round);
            CPPUNIT_ASSERT_EQUAL(there, openOk(bob, alice.seal(there)));
            CPPUNIT_ASSERT_EQUAL(back, openOk(alice, bob.seal(back)));
        }
    }

    void testNameKeysInHeader()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        CPPUNIT_ASSERT(alice.localId() == _alice->kx.id());
        CPPUNIT_ASSERT(alice.remoteId() == _bob->kx.id());
        const Seal seal = alice.seal("x");
        CPPUNIT_ASSERT(seal.sender == _alice->kx.id());
        CPPUNIT_ASSERT(seal.recipient == _bob->kx.id());
        // The box is the plaintext's length plus a 16-byte tag.
        CPPUNIT_ASSERT_EQUAL(std::size_t{17}, seal.box.size());
    }

    void testCountFromOne()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{1}, alice.seal("a").counter);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{2}, alice.seal("b").counter);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{3}, alice.seal("c").counter);
    }

    void testHideIdenticalPlaintexts()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        const Seal first = alice.seal("same words");
        const Seal second = alice.seal("same words");
        CPPUNIT_ASSERT(first.box != second.box);
        // Each direction has its own key: bob's first seal differs from alice's.
        CPPUNIT_ASSERT(bob.seal("same words").box != first.box);
    }

    void testSealEmptyAndLongPlaintext()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        CPPUNIT_ASSERT_EQUAL(std::string(), openOk(bob, alice.seal("")));
        const std::string longText(8000, '\xe4');
        CPPUNIT_ASSERT(longText == openOk(bob, alice.seal(longText)));
        const std::string binary("a\0b\0", 4);
        CPPUNIT_ASSERT(binary == openOk(bob, alice.seal(binary)));
    }

    void testRefuseTamperedBox()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        const Seal seal = alice.seal("pay bob 10");
        for (std::size_t i = 0; i < seal.box.size(); ++i) {
            Seal tampered = seal;
            tampered.box[i] = static_cast<char>(tampered.box[i] ^ 0x20);
            assertRefused(bob, tampered);
        }
        Seal longer = seal;
        longer.box += 'x';
        assertRefused(bob, longer);
        Seal shorter = seal;
        shorter.box.pop_back();
        assertRefused(bob, shorter);
        // A refused forgery does not use up the counter: the real one still opens.
        CPPUNIT_ASSERT_EQUAL(std::string("pay bob 10"), openOk(bob, seal));
    }

    void testRefuseTamperedHeader()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        alice.seal("skipped");
        const Seal seal = alice.seal("second");
        Seal counter = seal;
        counter.counter = 1;
        assertRefused(bob, counter);
        counter.counter = 3;
        assertRefused(bob, counter);
        Seal sender = seal;
        sender.sender[0] ^= 1;
        assertRefused(bob, sender);
        Seal recipient = seal;
        recipient.recipient[7] ^= 1;
        assertRefused(bob, recipient);
        CPPUNIT_ASSERT_EQUAL(std::string("second"), openOk(bob, seal));
    }

    void testRefuseShortBox()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        Seal seal = alice.seal("");
        seal.box.resize(15);
        assertRefused(bob, seal);
        seal.box.clear();
        assertRefused(bob, seal);
    }

    void testRefuseReplay()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        const Seal first = alice.seal("one");
        const Seal second = alice.seal("two");
        CPPUNIT_ASSERT_EQUAL(std::string("one"), openOk(bob, first));
        assertRefused(bob, first);
        CPPUNIT_ASSERT_EQUAL(std::string("two"), openOk(bob, second));
        assertRefused(bob, second);
        assertRefused(bob, first);
        Seal zero = alice.seal("zero");
        zero.counter = 0;
        assertRefused(bob, zero);
    }

    void testAcceptReorderedOnce()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        std::vector<Seal> seals;
        for (int i = 1; i <= 6; ++i) seals.push_back(alice.seal("line " + std::to_string(i)));
        for (int i : {5, 0, 3, 1, 4, 2}) {
            CPPUNIT_ASSERT_EQUAL("line " + std::to_string(i + 1), openOk(bob, seals[i]));
        }
        for (const Seal& seal : seals) assertRefused(bob, seal);
    }

    void testRefuseWrongKeys()
    {
        const Party mallory;
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        SessionCipher malloryToBob = sessionBetween(mallory, *_bob);
        SessionCipher bobToMallory = sessionBetween(*_bob, mallory);
        const Seal seal = alice.seal("for bob");
        // Another session of bob's does not open alice's seal, even with alice's header.
        assertRefused(bobToMallory, seal);
        Seal relabelled = seal;
        relabelled.sender = mallory.kx.id();
        assertRefused(bobToMallory, relabelled);
        // Mallory's seal, relabelled as alice's, does not open in alice's session.
        Seal forged = malloryToBob.seal("I am alice");
        forged.sender = _alice->kx.id();
        assertRefused(bob, forged);
        CPPUNIT_ASSERT_EQUAL(std::string("for bob"), openOk(bob, seal));
    }

    void testRefuseOwnSealReflected()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        assertRefused(alice, alice.seal("echo"));
        Seal swapped = alice.seal("echo");
        std::swap(swapped.sender, swapped.recipient);
        assertRefused(alice, swapped);
    }

    void testRefuseUnusableKeys()
    {
        const auto between = [&](const PublicKey& identity, const PublicKey& kx) {
            return SessionCipher::between(_alice->kx, _alice->identity, identity, kx).has_value();
        };
        const PublicKey bob = _bob->identity.publicKey();
        CPPUNIT_ASSERT(!between(bob, _alice->kx.publicKey()));
        // Low-order points (zero, one) make all-zero secrets: refused, as key-exchange or as identity keys.
        PublicKey one{};
        one[0] = 1;
        for (const PublicKey& bad : {PublicKey{}, one}) {
            CPPUNIT_ASSERT(!between(bob, bad));
            CPPUNIT_ASSERT(!between(bad, _bob->kx.publicKey()));
        }
        CPPUNIT_ASSERT(between(bob, _bob->kx.publicKey()));
    }

    // Row 1 of issue 10: mallory announces alice's key-exchange key under her
    // own identity. bob's session with "mallory" shares no key with his
    // session with alice, so alice cannot read what bob seals for mallory
    // (nor can mallory, who lacks the secret), and neither passes for the other.
    void testBindBothIdentities()
    {
        const Party mallory;
        SessionCipher bobToAlice = sessionBetween(*_bob, *_alice);
        SessionCipher bobToMallory = sessionBetween(*_bob, mallory.identity.publicKey(), _alice->kx.publicKey());
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        const Seal toAlice = bobToAlice.seal("for alice");
        const Seal toMallory = bobToMallory.seal("for mallory");
        // The same header, counter 1 each: before issue 10 the same keystream too.
        CPPUNIT_ASSERT(toAlice.sender == toMallory.sender && toAlice.recipient == toMallory.recipient &&
                       toAlice.counter == toMallory.counter);
        assertRefused(alice, toMallory);
        CPPUNIT_ASSERT_EQUAL(std::string("for alice"), openOk(alice, toAlice));
        // Nor does a session naming alice's identity with mallory's key-exchange key share alice's keys.
        SessionCipher bobToMalloryKx = sessionBetween(*_bob, _alice->identity.publicKey(), mallory.kx.publicKey());
        SessionCipher aliceAgain = sessionBetween(*_alice, *_bob);
        assertRefused(aliceAgain, bobToMalloryKx.seal("for alice's name, mallory's key"));
    }

    void testMoveKeepsCounter()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        CPPUNIT_ASSERT_EQUAL(std::string("one"), openOk(bob, alice.seal("one")));
        SessionCipher moved = std::move(alice);
        const Seal second = moved.seal("two");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{2}, second.counter);
        CPPUNIT_ASSERT_EQUAL(std::string("two"), openOk(bob, second));
    }

    void testSurviveFailedOpen()
    {
        SessionCipher alice = sessionBetween(*_alice, *_bob);
        SessionCipher bob = sessionBetween(*_bob, *_alice);
        Seal bogus;
        bogus.sender = _alice->kx.id();
        bogus.recipient = _bob->kx.id();
        bogus.counter = 1000;
        bogus.box = std::string(64, 'z');
        assertRefused(bob, bogus);
        // The forged high counter did not move bob's window: counter 1 still opens.
        CPPUNIT_ASSERT_EQUAL(std::string("real"), openOk(bob, alice.seal("real")));
    }

private:
    std::optional<Party> _alice;
    std::optional<Party> _bob;
};

CPPUNIT_TEST_SUITE_REGISTRATION(SessionCipherTest);
