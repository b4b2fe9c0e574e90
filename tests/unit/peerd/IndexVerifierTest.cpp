#include "IndexVerifier.h"
#include "KxKeyPair.h"
#include "Protocol.h"
#include "SignedStatement.h"
#include "SigningKey.h"

#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <string>

using namespace peerchat;

namespace {

const Epoch kEpoch{1, 2, 3, 4, 5, 6, 7, 8};

} // namespace

class IndexVerifierTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IndexVerifierTest);
    CPPUNIT_TEST(testNothingPassesBeforeReset);
    CPPUNIT_TEST(testKeysMustFitDialect);
    CPPUNIT_TEST(testKxSigOfAnotherRunOrIndexRefused);
    CPPUNIT_TEST(testClearForgetsTheKey);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { _verifier.reset(_index.publicKey(), kEpoch); }

    void testNothingPassesBeforeReset()
    {
        const IndexVerifier fresh;
        CPPUNIT_ASSERT(!fresh.ready());
        CPPUNIT_ASSERT(!fresh.checkKeys("bob", "peerchat/3", bobKeys()).empty());
        // Keys are what is checked: a seed user without any passes at any time.
        CPPUNIT_ASSERT_EQUAL(std::string(), fresh.checkKeys("seed1", "seed", std::nullopt));
    }

    void testKeysMustFitDialect()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(), _verifier.checkKeys("bob", "peerchat/3", bobKeys()));
        CPPUNIT_ASSERT_EQUAL(std::string(), _verifier.checkKeys("seed1", "", std::nullopt));
        CPPUNIT_ASSERT_EQUAL(std::string(), _verifier.checkKeys("dn", "dotnet", std::nullopt));
        // Signed for another name, by another key, or over another key-exchange key.
        CPPUNIT_ASSERT(!_verifier.checkKeys("carol", "peerchat/3", bobKeys()).empty());
        PeerKeys swapped = bobKeys();
        swapped.identity = _index.publicKey();
        CPPUNIT_ASSERT(!_verifier.checkKeys("bob", "peerchat/3", swapped).empty());
        swapped = bobKeys();
        swapped.kx[0] ^= 1;
        CPPUNIT_ASSERT(!_verifier.checkKeys("bob", "peerchat/3", swapped).empty());
        CPPUNIT_ASSERT(!_verifier.checkKeys("bob", "peerchat/3", std::nullopt).empty());
        CPPUNIT_ASSERT(!_verifier.checkKeys("seed1", "seed", bobKeys()).empty());
    }

    // Row 3 of issue 10: a KXSIG from an earlier indexd run (or made for
    // another indexd) never verifies, so a replayed old KXPK brings nothing.
    void testKxSigOfAnotherRunOrIndexRefused()
    {
        Epoch earlier = kEpoch;
        earlier[0] ^= 1;
        const SigningKey otherIndex = SigningKey::generate();
        CPPUNIT_ASSERT(!_verifier.checkKeys("bob", "peerchat/3", bobKeys(_index.publicKey(), earlier)).empty());
        CPPUNIT_ASSERT(!_verifier.checkKeys("bob", "peerchat/3", bobKeys(otherIndex.publicKey(), kEpoch)).empty());
        // Signed by bob for his identity only: mallory's identity with bob's signature does not pass.
        PeerKeys claimed = bobKeys();
        claimed.identity = otherIndex.publicKey();
        CPPUNIT_ASSERT(!_verifier.checkKeys("bob", "peerchat/3", claimed).empty());
        // The same keys checked for the next run fail too.
        _verifier.reset(_index.publicKey(), earlier);
        CPPUNIT_ASSERT(!_verifier.checkKeys("bob", "peerchat/3", bobKeys()).empty());
    }

    void testClearForgetsTheKey()
    {
        _verifier.clear();
        CPPUNIT_ASSERT(!_verifier.ready());
        CPPUNIT_ASSERT(!_verifier.checkKeys("bob", "peerchat/3", bobKeys()).empty());
        _verifier.reset(_index.publicKey(), kEpoch);
        CPPUNIT_ASSERT(_verifier.ready());
        CPPUNIT_ASSERT_EQUAL(std::string(), _verifier.checkKeys("bob", "peerchat/3", bobKeys()));
    }

private:
    // bob's keys with a KXSIG for the run of index and epoch (by default, the verifier's).
    PeerKeys bobKeys(std::optional<PublicKey> index = std::nullopt, const Epoch& epoch = kEpoch) const
    {
        const PublicKey& kx = _bobKx.publicKey();
        return PeerKeys{_bob.publicKey(), kx,
                        _bob.sign(SignedStatement::kx(_bob.publicKey(), "bob", kx,
                                                      index.value_or(_index.publicKey()), epoch))};
    }

    const SigningKey _index = SigningKey::generate();
    const SigningKey _bob = SigningKey::generate();
    const KxKeyPair _bobKx = KxKeyPair::generate();
    IndexVerifier _verifier;
};

CPPUNIT_TEST_SUITE_REGISTRATION(IndexVerifierTest);
