#include "KxKeyPair.h"

#include "MappingFlags.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <sodium.h>

#include <algorithm>
#include <utility>

using peerchat::KeyId;
using peerchat::KxKeyPair;
using peerchat::PublicKey;
using peerchat::test::MappingFlags;

class KxKeyPairTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(KxKeyPairTest);
    CPPUNIT_TEST(testGenerateMatchingHalves);
    CPPUNIT_TEST(testGenerateDistinctPairs);
    CPPUNIT_TEST(testIdIsFirstEightBytes);
    CPPUNIT_TEST(testMoveKeepsKeyAndWipesSource);
    CPPUNIT_TEST(testKeepSecretOutOfCoreDumps);
    CPPUNIT_TEST_SUITE_END();

public:
    void testGenerateMatchingHalves()
    {
        const KxKeyPair pair = KxKeyPair::generate();
        PublicKey derived{};
        CPPUNIT_ASSERT(crypto_scalarmult_base(derived.data(), pair.secretKey().data()) == 0);
        CPPUNIT_ASSERT(derived == pair.publicKey());
    }

    void testGenerateDistinctPairs()
    {
        const KxKeyPair a = KxKeyPair::generate();
        const KxKeyPair b = KxKeyPair::generate();
        CPPUNIT_ASSERT(a.publicKey() != b.publicKey());
        CPPUNIT_ASSERT(a.secretKey() != b.secretKey());
    }

    void testIdIsFirstEightBytes()
    {
        PublicKey key{};
        for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i + 1);
        const KeyId expected{1, 2, 3, 4, 5, 6, 7, 8};
        CPPUNIT_ASSERT(KxKeyPair::idOf(key) == expected);
        const KxKeyPair pair = KxKeyPair::generate();
        CPPUNIT_ASSERT(pair.id() == KxKeyPair::idOf(pair.publicKey()));
    }

    void testMoveKeepsKeyAndWipesSource()
    {
        KxKeyPair source = KxKeyPair::generate();
        const PublicKey publicKey = source.publicKey();
        const auto secretKey = source.secretKey();
        KxKeyPair moved(std::move(source));
        CPPUNIT_ASSERT(moved.publicKey() == publicKey);
        CPPUNIT_ASSERT(moved.secretKey() == secretKey);
        // A moved-from pair keeps no secret.
        CPPUNIT_ASSERT_THROW(source.secretKey(), Poco::NullPointerException);

        KxKeyPair other = KxKeyPair::generate();
        other = std::move(moved);
        CPPUNIT_ASSERT(other.publicKey() == publicKey);
        CPPUNIT_ASSERT(other.secretKey() == secretKey);
        CPPUNIT_ASSERT_THROW(moved.secretKey(), Poco::NullPointerException);
    }

    void testKeepSecretOutOfCoreDumps()
    {
        const KxKeyPair pair = KxKeyPair::generate();
        MappingFlags::assertHoldsSecrets(pair.secretKey().data());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(KxKeyPairTest);
