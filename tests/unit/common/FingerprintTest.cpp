#include "Fingerprint.h"

#include "SigningKey.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cctype>
#include <string>

using peerchat::Fingerprint;
using peerchat::KeySeed;
using peerchat::PublicKey;
using peerchat::SigningKey;

class FingerprintTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(FingerprintTest);
    CPPUNIT_TEST(testPrintEightGroupsOfHex);
    CPPUNIT_TEST(testMatchKnownVector);
    CPPUNIT_TEST(testStayStable);
    CPPUNIT_TEST(testDifferForOtherKeys);
    CPPUNIT_TEST_SUITE_END();

public:
    void testPrintEightGroupsOfHex()
    {
        const std::string text = Fingerprint::of(SigningKey::generate().publicKey());
        CPPUNIT_ASSERT_EQUAL(std::size_t{39}, text.size());
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (i % 5 == 4)
                CPPUNIT_ASSERT_EQUAL(' ', text[i]);
            else
                CPPUNIT_ASSERT_MESSAGE(text, std::isxdigit(static_cast<unsigned char>(text[i]))
                                                 && !std::isupper(static_cast<unsigned char>(text[i])));
        }
    }

    void testMatchKnownVector()
    {
        // RFC 8032's TEST 1 seed; the hash is BLAKE2b-256 of its public key
        // (Python: hashlib.blake2b(pk, digest_size=32)), first 16 bytes.
        KeySeed seed{};
        const std::string hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        for (std::size_t i = 0; i < seed.size(); ++i)
            seed[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
        CPPUNIT_ASSERT_EQUAL(std::string("7849 ac30 4968 0be1 ef76 2efe 0d36 e017"),
                             Fingerprint::of(SigningKey::fromSeed(seed).publicKey()));
    }

    void testStayStable()
    {
        const SigningKey key = SigningKey::generate();
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(key.publicKey()), Fingerprint::of(key.publicKey()));
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(key.publicKey()),
                             Fingerprint::of(SigningKey::fromSeed(key.seed()).publicKey()));
    }

    void testDifferForOtherKeys()
    {
        PublicKey a{};
        PublicKey b{};
        b[31] = 1;
        CPPUNIT_ASSERT(Fingerprint::of(a) != Fingerprint::of(b));
        CPPUNIT_ASSERT(Fingerprint::of(SigningKey::generate().publicKey())
                       != Fingerprint::of(SigningKey::generate().publicKey()));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FingerprintTest);
