#include "SigningKey.h"

#include "MappingFlags.h"

#include <cppunit/extensions/HelperMacros.h>

#include <sodium.h>

#include <string>

using peerchat::KeySeed;
using peerchat::PublicKey;
using peerchat::Signature;
using peerchat::SigningKey;
using peerchat::test::MappingFlags;

class SigningKeyTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(SigningKeyTest);
    CPPUNIT_TEST(testVerifySignedMessage);
    CPPUNIT_TEST(testRefuseTamperedMessage);
    CPPUNIT_TEST(testRefuseTamperedSignature);
    CPPUNIT_TEST(testRefuseOtherKey);
    CPPUNIT_TEST(testSignEmptyAndBinaryMessages);
    CPPUNIT_TEST(testRoundTripSeed);
    CPPUNIT_TEST(testMatchKnownVector);
    CPPUNIT_TEST(testGenerateDistinctKeys);
    CPPUNIT_TEST(testCopyKeepsKey);
    CPPUNIT_TEST(testConvertToCurveKeys);
    CPPUNIT_TEST(testRefuseInvalidCurvePoint);
    CPPUNIT_TEST(testKeepSecretsOutOfCoreDumps);
    CPPUNIT_TEST_SUITE_END();

public:
    void testVerifySignedMessage()
    {
        const SigningKey key = SigningKey::generate();
        const Signature signature = key.sign("hello bob");
        CPPUNIT_ASSERT(SigningKey::verify(key.publicKey(), "hello bob", signature));
    }

    void testRefuseTamperedMessage()
    {
        const SigningKey key = SigningKey::generate();
        const Signature signature = key.sign("hello bob");
        CPPUNIT_ASSERT(!SigningKey::verify(key.publicKey(), "hello bOb", signature));
        CPPUNIT_ASSERT(!SigningKey::verify(key.publicKey(), "hello bob ", signature));
        CPPUNIT_ASSERT(!SigningKey::verify(key.publicKey(), "", signature));
    }

    void testRefuseTamperedSignature()
    {
        const SigningKey key = SigningKey::generate();
        const Signature signature = key.sign("hello bob");
        for (std::size_t i = 0; i < signature.size(); i += 7) {
            Signature tampered = signature;
            tampered[i] ^= 0x01;
            CPPUNIT_ASSERT_MESSAGE("byte " + std::to_string(i), !SigningKey::verify(key.publicKey(), "hello bob", tampered));
        }
        CPPUNIT_ASSERT(!SigningKey::verify(key.publicKey(), "hello bob", Signature{}));
    }

    void testRefuseOtherKey()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey mallory = SigningKey::generate();
        CPPUNIT_ASSERT(!SigningKey::verify(alice.publicKey(), "hi", mallory.sign("hi")));
        CPPUNIT_ASSERT(!SigningKey::verify(PublicKey{}, "hi", alice.sign("hi")));
    }

    void testSignEmptyAndBinaryMessages()
    {
        const SigningKey key = SigningKey::generate();
        const std::string binary("a\0b\xff", 4);
        CPPUNIT_ASSERT(SigningKey::verify(key.publicKey(), "", key.sign("")));
        CPPUNIT_ASSERT(SigningKey::verify(key.publicKey(), binary, key.sign(binary)));
        CPPUNIT_ASSERT(!SigningKey::verify(key.publicKey(), std::string("a\0b\xfe", 4), key.sign(binary)));
    }

    void testRoundTripSeed()
    {
        const SigningKey key = SigningKey::generate();
        const SigningKey again = SigningKey::fromSeed(key.seed());
        CPPUNIT_ASSERT(again.publicKey() == key.publicKey());
        CPPUNIT_ASSERT(again.seed() == key.seed());
        // Ed25519 signatures are deterministic: the same seed signs alike.
        CPPUNIT_ASSERT(again.sign("x") == key.sign("x"));
    }

    void testMatchKnownVector()
    {
        // RFC 8032 section 7.1, TEST 1: the empty message.
        const KeySeed seed = bytes<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        const SigningKey key = SigningKey::fromSeed(seed);
        CPPUNIT_ASSERT(key.publicKey() == bytes<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
        CPPUNIT_ASSERT(key.sign("") == bytes<64>("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                                                 "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
    }

    void testGenerateDistinctKeys()
    {
        CPPUNIT_ASSERT(SigningKey::generate().publicKey() != SigningKey::generate().publicKey());
    }

    void testCopyKeepsKey()
    {
        const SigningKey key = SigningKey::generate();
        SigningKey copy = key;
        CPPUNIT_ASSERT(copy.publicKey() == key.publicKey());
        CPPUNIT_ASSERT(SigningKey::verify(key.publicKey(), "m", copy.sign("m")));
        copy = SigningKey::generate();
        CPPUNIT_ASSERT(copy.publicKey() != key.publicKey());
        copy = key;
        CPPUNIT_ASSERT(copy.seed() == key.seed());
    }

    void testConvertToCurveKeys()
    {
        const SigningKey key = SigningKey::generate();
        PublicKey curve{};
        CPPUNIT_ASSERT(SigningKey::curvePublic(key.publicKey(), curve));
        CPPUNIT_ASSERT(curve != key.publicKey());
        // The converted secret must belong to the converted public key.
        const auto secret = key.curveSecret();
        PublicKey derived{};
        CPPUNIT_ASSERT(crypto_scalarmult_base(derived.data(), secret->data()) == 0);
        CPPUNIT_ASSERT(derived == curve);
    }

    void testRefuseInvalidCurvePoint()
    {
        PublicKey out{};
        // The all-zero key is a point of small order: no usable X25519 key.
        CPPUNIT_ASSERT(!SigningKey::curvePublic(PublicKey{}, out));
    }

private:
    template <std::size_t N>
    static std::array<std::uint8_t, N> bytes(const std::string& hex)
    {
        CPPUNIT_ASSERT_EQUAL(2 * N, hex.size());
        std::array<std::uint8_t, N> out{};
        for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
        return out;
    }

    void testKeepSecretsOutOfCoreDumps()
    {
        const SigningKey key = SigningKey::generate();
        MappingFlags::assertHoldsSecrets(key.seed().data());
        const SigningKey copy = key;
        MappingFlags::assertHoldsSecrets(copy.seed().data());
        CPPUNIT_ASSERT(copy.seed().data() != key.seed().data());
        MappingFlags::assertHoldsSecrets(key.curveSecret()->data());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SigningKeyTest);
