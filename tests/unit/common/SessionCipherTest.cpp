#include "SessionCipher.h"

#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <string>
#include <vector>

using peerchat::KeyId;
using peerchat::KxKeyPair;
using peerchat::PublicKey;
using peerchat::Seal;
using peerchat::SessionCipher;

namespace {

SessionCipher sessionBetween(const KxKeyPair& mine, const PublicKey& theirs)
{
    auto cipher = SessionCipher::between(mine, theirs);
    CPPUNIT_ASSERT_MESSAGE("no session", cipher.has_value());
    return *cipher;
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
    CPPUNIT_TEST(testSurviveFailedOpen);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _alice.emplace(KxKeyPair::generate());
        _bob.emplace(KxKeyPair::generate());
    }

    void tearDown() override
    {
        _alice.reset();
        _bob.reset();
    }

    void testSealBothDirections()
    {
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
        for (int round = 0; round < 5; ++round) {
            const std::string there = "msg,1,1,t,alice,hello " + std::to_string(round);
            const std::string back = "ack,bob,1," + std::to_string(round);
            CPPUNIT_ASSERT_EQUAL(there, openOk(bob, alice.seal(there)));
            CPPUNIT_ASSERT_EQUAL(back, openOk(alice, bob.seal(back)));
        }
    }

    void testNameKeysInHeader()
    {
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        CPPUNIT_ASSERT(alice.localId() == _alice->id());
        CPPUNIT_ASSERT(alice.remoteId() == _bob->id());
        const Seal seal = alice.seal("x");
        CPPUNIT_ASSERT(seal.sender == _alice->id());
        CPPUNIT_ASSERT(seal.recipient == _bob->id());
        // The box is the plaintext's length plus a 16-byte tag.
        CPPUNIT_ASSERT_EQUAL(std::size_t{17}, seal.box.size());
    }

    void testCountFromOne()
    {
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{1}, alice.seal("a").counter);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{2}, alice.seal("b").counter);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{3}, alice.seal("c").counter);
    }

    void testHideIdenticalPlaintexts()
    {
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
        const Seal first = alice.seal("same words");
        const Seal second = alice.seal("same words");
        CPPUNIT_ASSERT(first.box != second.box);
        // Each direction has its own key: bob's first seal differs from alice's.
        CPPUNIT_ASSERT(bob.seal("same words").box != first.box);
    }

    void testSealEmptyAndLongPlaintext()
    {
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
        CPPUNIT_ASSERT_EQUAL(std::string(), openOk(bob, alice.seal("")));
        const std::string longText(8000, '\xe4');
        CPPUNIT_ASSERT(longText == openOk(bob, alice.seal(longText)));
        const std::string binary("a\0b\0", 4);
        CPPUNIT_ASSERT(binary == openOk(bob, alice.seal(binary)));
    }

    void testRefuseTamperedBox()
    {
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
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
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
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
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
        Seal seal = alice.seal("");
        seal.box.resize(15);
        assertRefused(bob, seal);
        seal.box.clear();
        assertRefused(bob, seal);
    }

    void testRefuseReplay()
    {
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
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
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
        std::vector<Seal> seals;
        for (int i = 1; i <= 6; ++i) seals.push_back(alice.seal("line " + std::to_string(i)));
        for (int i : {5, 0, 3, 1, 4, 2}) {
            CPPUNIT_ASSERT_EQUAL("line " + std::to_string(i + 1), openOk(bob, seals[i]));
        }
        for (const Seal& seal : seals) assertRefused(bob, seal);
    }

    void testRefuseWrongKeys()
    {
        const KxKeyPair mallory = KxKeyPair::generate();
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
        SessionCipher malloryToBob = sessionBetween(mallory, _bob->publicKey());
        SessionCipher bobToMallory = sessionBetween(*_bob, mallory.publicKey());
        const Seal seal = alice.seal("for bob");
        // Another session of bob's does not open alice's seal, even with alice's header.
        assertRefused(bobToMallory, seal);
        Seal relabelled = seal;
        relabelled.sender = mallory.id();
        assertRefused(bobToMallory, relabelled);
        // Mallory's seal, relabelled as alice's, does not open in alice's session.
        Seal forged = malloryToBob.seal("I am alice");
        forged.sender = _alice->id();
        assertRefused(bob, forged);
        CPPUNIT_ASSERT_EQUAL(std::string("for bob"), openOk(bob, seal));
    }

    void testRefuseOwnSealReflected()
    {
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        assertRefused(alice, alice.seal("echo"));
        Seal swapped = alice.seal("echo");
        std::swap(swapped.sender, swapped.recipient);
        assertRefused(alice, swapped);
    }

    void testRefuseUnusableKeys()
    {
        CPPUNIT_ASSERT(!SessionCipher::between(*_alice, _alice->publicKey()).has_value());
        CPPUNIT_ASSERT(!SessionCipher::between(*_alice, PublicKey{}).has_value());
        PublicKey one{};
        one[0] = 1;
        CPPUNIT_ASSERT(!SessionCipher::between(*_alice, one).has_value());
    }

    void testSurviveFailedOpen()
    {
        SessionCipher alice = sessionBetween(*_alice, _bob->publicKey());
        SessionCipher bob = sessionBetween(*_bob, _alice->publicKey());
        Seal bogus;
        bogus.sender = _alice->id();
        bogus.recipient = _bob->id();
        bogus.counter = 1000;
        bogus.box = std::string(64, 'z');
        assertRefused(bob, bogus);
        // The forged high counter did not move bob's window: counter 1 still opens.
        CPPUNIT_ASSERT_EQUAL(std::string("real"), openOk(bob, alice.seal("real")));
    }

private:
    std::optional<KxKeyPair> _alice;
    std::optional<KxKeyPair> _bob;
};

CPPUNIT_TEST_SUITE_REGISTRATION(SessionCipherTest);
