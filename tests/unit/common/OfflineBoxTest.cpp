#include "OfflineBox.h"

#include "SignedStatement.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <sodium.h>

#include <string>

using peerchat::OfflineBox;
using peerchat::PublicKey;
using peerchat::SignedStatement;
using peerchat::SigningKey;

namespace {

void assertRefused(const peerchat::Parsed<std::string>& opened)
{
    CPPUNIT_ASSERT_MESSAGE("opened a box that should be refused", !opened.ok());
    CPPUNIT_ASSERT(!opened.error().empty());
}

std::array<std::uint8_t, 32> curvePublicOf(const SigningKey& key)
{
    PublicKey curve;
    CPPUNIT_ASSERT(SigningKey::curvePublic(key.publicKey(), curve));
    return curve;
}

// Opens box the way peerchat/2 boxes opened (crypto_box_open_easy of a
// 24-byte nonce and the ciphertext) with the static DH of holder's key and
// other's: what anyone holding one end's key could do to a static-static box.
bool opensWithStaticDh(const SigningKey& holder, const SigningKey& other, const std::string& box)
{
    if (box.size() < crypto_box_NONCEBYTES + crypto_box_MACBYTES) return false;
    std::string plaintext(box.size() - crypto_box_NONCEBYTES - crypto_box_MACBYTES, '\0');
    const auto* bytes = reinterpret_cast<const unsigned char*>(box.data());
    return crypto_box_open_easy(reinterpret_cast<unsigned char*>(plaintext.data()), bytes + crypto_box_NONCEBYTES,
                                box.size() - crypto_box_NONCEBYTES, bytes, curvePublicOf(other).data(),
                                holder.curveSecret()->data())
        == 0;
}

// A peerchat/2 box "from" claimedSender that forger, holding recipient's key, makes with the static DH.
std::string forgeWithStaticDh(const SigningKey& recipient, const SigningKey& claimedSender, const std::string& text)
{
    std::string box(crypto_box_NONCEBYTES + crypto_box_MACBYTES + text.size(), '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(box.data());
    randombytes_buf(bytes, crypto_box_NONCEBYTES);
    CPPUNIT_ASSERT(crypto_box_easy(bytes + crypto_box_NONCEBYTES, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size(), bytes, curvePublicOf(claimedSender).data(),
                                   recipient.curveSecret()->data())
                   == 0);
    return box;
}

// A box in the layout docs/PROTOCOL.md gives ("Offline messages"), built
// here from libsodium alone, sealed to recipient and naming sender, with
// signature inside whatever it is: the test's own account of the format, and
// what a forger holding some keys but not the sender's could make.
std::string sealByHand(const PublicKey& sender, const PublicKey& recipient, const PublicKey& ephemeral,
                       const std::array<std::uint8_t, 32>& ephemeralSecret, const peerchat::Signature& signature,
                       const std::string& msg)
{
    const std::string label = "peerchat/3 mail";
    PublicKey recipientCurve;
    CPPUNIT_ASSERT(SigningKey::curvePublic(recipient, recipientCurve));
    std::array<std::uint8_t, 32> shared;
    CPPUNIT_ASSERT(crypto_scalarmult(shared.data(), ephemeralSecret.data(), recipientCurve.data()) == 0);
    std::string keyInput = label;
    keyInput.append(shared.begin(), shared.end());
    for (const PublicKey* part : {&ephemeral, &sender, &recipient}) keyInput.append(part->begin(), part->end());
    std::array<std::uint8_t, 32> key;
    crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(keyInput.data()), keyInput.size(),
                       nullptr, 0);
    const std::string associated = label + std::string(sender.begin(), sender.end())
        + std::string(recipient.begin(), recipient.end());
    const std::string inner = std::string(signature.begin(), signature.end()) + msg;
    std::string sealed(inner.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    const std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> zeroNonce{};
    crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(sealed.data()), nullptr,
                                               reinterpret_cast<const unsigned char*>(inner.data()), inner.size(),
                                               reinterpret_cast<const unsigned char*>(associated.data()),
                                               associated.size(), nullptr, zeroNonce.data(), key.data());
    return std::string(ephemeral.begin(), ephemeral.end()) + sealed;
}

struct Ephemeral
{
    Ephemeral() { crypto_box_keypair(publicKey.data(), secretKey.data()); }
    PublicKey publicKey;
    std::array<std::uint8_t, 32> secretKey;
};

} // namespace

class OfflineBoxTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(OfflineBoxTest);
    CPPUNIT_TEST(testOpenSealedBox);
    CPPUNIT_TEST(testSealEmptyAndLargestPlaintext);
    CPPUNIT_TEST(testHideRepeatedPlaintext);
    CPPUNIT_TEST(testRefuseWrongRecipient);
    CPPUNIT_TEST(testRefuseWrongSender);
    CPPUNIT_TEST(testRefuseReflectedBox);
    CPPUNIT_TEST(testKeepSentBoxFromItsSender);
    CPPUNIT_TEST(testRefuseForgeryByRecipient);
    CPPUNIT_TEST(testOpenBoxOfDocumentedLayout);
    CPPUNIT_TEST(testRefuseBoxSignedByOther);
    CPPUNIT_TEST(testRefuseBoxForwardedToOther);
    CPPUNIT_TEST(testRefuseTruncatedBox);
    CPPUNIT_TEST(testRefuseTamperedBox);
    CPPUNIT_TEST(testRefuseTooLongPlaintext);
    CPPUNIT_TEST(testRefuseUnusableKeys);
    CPPUNIT_TEST_SUITE_END();

public:
    void testOpenSealedBox()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const std::string text = "msg,1a,3,2024-01-01T00:00:00Z,alice,see you tomorrow";
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), text);
        CPPUNIT_ASSERT_EQUAL(text.size() + OfflineBox::kOverheadBytes, box.size());
        CPPUNIT_ASSERT(box.find("see you") == std::string::npos);
        const auto opened = OfflineBox::open(bob, alice.publicKey(), box);
        CPPUNIT_ASSERT_MESSAGE(opened.error(), opened.ok());
        CPPUNIT_ASSERT_EQUAL(text, *opened);
    }

    void testSealEmptyAndLargestPlaintext()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        CPPUNIT_ASSERT_EQUAL(std::string(), *OfflineBox::open(bob, alice.publicKey(), OfflineBox::seal(alice, bob.publicKey(), "")));
        const std::string largest(OfflineBox::kMaxPlaintextBytes, '\x80');
        CPPUNIT_ASSERT(largest == *OfflineBox::open(bob, alice.publicKey(), OfflineBox::seal(alice, bob.publicKey(), largest)));
    }

    void testHideRepeatedPlaintext()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        CPPUNIT_ASSERT(OfflineBox::seal(alice, bob.publicKey(), "same") != OfflineBox::seal(alice, bob.publicKey(), "same"));
    }

    void testRefuseWrongRecipient()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const SigningKey carol = SigningKey::generate();
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), "for bob only");
        assertRefused(OfflineBox::open(carol, alice.publicKey(), box));
        assertRefused(OfflineBox::open(carol, bob.publicKey(), box));
    }

    void testRefuseWrongSender()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const SigningKey mallory = SigningKey::generate();
        const std::string box = OfflineBox::seal(mallory, bob.publicKey(), "I am alice");
        assertRefused(OfflineBox::open(bob, alice.publicKey(), box));
        CPPUNIT_ASSERT(OfflineBox::open(bob, mallory.publicKey(), box).ok());
    }

    void testRefuseReflectedBox()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        // indexd (or anyone on the way) hands alice's box to bob back to alice, as from bob.
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), "msg,1a,1,T,alice,meet at noon");
        assertRefused(OfflineBox::open(alice, bob.publicKey(), box));
    }

    void testKeepSentBoxFromItsSender()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), "msg,1a,1,T,alice,my secret");
        // Whoever steals alice's key later cannot read what she sent.
        CPPUNIT_ASSERT_MESSAGE("the sender's key opens the box it sent", !opensWithStaticDh(alice, bob, box));
        assertRefused(OfflineBox::open(alice, bob.publicKey(), box));
        assertRefused(OfflineBox::open(alice, alice.publicKey(), box));
    }

    void testRefuseForgeryByRecipient()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        // Whoever holds bob's key makes mail "from alice" to bob.
        const std::string forged = forgeWithStaticDh(bob, alice, "msg,1a,1,T,alice,send me money");
        assertRefused(OfflineBox::open(bob, alice.publicKey(), forged));
    }

    void testOpenBoxOfDocumentedLayout()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const Ephemeral ephemeral;
        const std::string msg = "msg,1a,1,T,alice,bob,hi";
        const auto signature = alice.sign(SignedStatement::mail(bob.publicKey(), ephemeral.publicKey, msg));
        const std::string box
            = sealByHand(alice.publicKey(), bob.publicKey(), ephemeral.publicKey, ephemeral.secretKey, signature, msg);
        const auto opened = OfflineBox::open(bob, alice.publicKey(), box);
        CPPUNIT_ASSERT_MESSAGE(opened.error(), opened.ok());
        CPPUNIT_ASSERT_EQUAL(msg, *opened);
    }

    void testRefuseBoxSignedByOther()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const Ephemeral ephemeral;
        const std::string msg = "msg,1a,1,T,alice,bob,send me money";
        // Bob's key makes everything of a box "from alice" but her signature.
        const auto signature = bob.sign(SignedStatement::mail(bob.publicKey(), ephemeral.publicKey, msg));
        assertRefused(OfflineBox::open(
            bob, alice.publicKey(),
            sealByHand(alice.publicKey(), bob.publicKey(), ephemeral.publicKey, ephemeral.secretKey, signature, msg)));
    }

    void testRefuseBoxForwardedToOther()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const SigningKey carol = SigningKey::generate();
        const Ephemeral ephemeral;
        const std::string msg = "msg,1a,1,T,alice,bob,for bob only";
        // Bob opened alice's box and seals its signature and msg anew to carol, as from alice.
        const auto signature = alice.sign(SignedStatement::mail(bob.publicKey(), ephemeral.publicKey, msg));
        const Ephemeral fresh;
        for (const Ephemeral* used : {&ephemeral, &fresh})
            assertRefused(OfflineBox::open(carol, alice.publicKey(),
                                           sealByHand(alice.publicKey(), carol.publicKey(), used->publicKey,
                                                      used->secretKey, signature, msg)));
    }

    void testRefuseTruncatedBox()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), "hello");
        for (std::size_t size = 0; size < box.size(); ++size)
            assertRefused(OfflineBox::open(bob, alice.publicKey(), box.substr(0, size)));
        assertRefused(OfflineBox::open(bob, alice.publicKey(), box + '\0'));
    }

    void testRefuseTamperedBox()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), "hello");
        for (std::size_t i = 0; i < box.size(); ++i) {
            std::string tampered = box;
            tampered[i] = static_cast<char>(tampered[i] ^ 0x04);
            assertRefused(OfflineBox::open(bob, alice.publicKey(), tampered));
        }
    }

    void testRefuseTooLongPlaintext()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const std::string tooLong(OfflineBox::kMaxPlaintextBytes + 1, 'a');
        CPPUNIT_ASSERT_THROW(OfflineBox::seal(alice, bob.publicKey(), tooLong), Poco::InvalidArgumentException);
        assertRefused(OfflineBox::open(bob, alice.publicKey(), std::string(OfflineBox::kMaxPlaintextBytes + OfflineBox::kOverheadBytes + 1, 'a')));
    }

    void testRefuseUnusableKeys()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        CPPUNIT_ASSERT_THROW(OfflineBox::seal(alice, PublicKey{}, "x"), Poco::InvalidArgumentException);
        assertRefused(OfflineBox::open(bob, PublicKey{}, OfflineBox::seal(alice, bob.publicKey(), "x")));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OfflineBoxTest);
