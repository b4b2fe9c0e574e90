#include "IndexVerifier.h"
#include "KxKeyPair.h"
#include "Protocol.h"
#include "RosterCodec.h"
#include "SignedStatement.h"
#include "SigningKey.h"

#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <string>

using namespace peerchat;

namespace {

const Endpoint kBob = Endpoint::parse("127.0.0.1:5002").value();
const Epoch kEpoch{1, 2, 3, 4, 5, 6, 7, 8};
const RosterNonce kNonce{9, 8, 7, 6, 5, 4, 3, 2, 1};

} // namespace

class IndexVerifierTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IndexVerifierTest);
    CPPUNIT_TEST(testNothingPassesBeforeReset);
    CPPUNIT_TEST(testSignedPresencePasses);
    CPPUNIT_TEST(testPresenceRefusedUnsignedOrSignedForOtherKeyOrEpoch);
    CPPUNIT_TEST(testPresenceChangedAfterSigningRefused);
    CPPUNIT_TEST(testRosterSignaturesChecked);
    CPPUNIT_TEST(testRosterOfAnotherFetchRefused);
    CPPUNIT_TEST(testKeysMustFitDialect);
    CPPUNIT_TEST(testKxSigOfAnotherRunOrIndexRefused);
    CPPUNIT_TEST(testClearForgetsTheKey);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { _verifier.reset(_index.publicKey(), kEpoch); }

    void testNothingPassesBeforeReset()
    {
        IndexVerifier fresh;
        CPPUNIT_ASSERT(!fresh.ready());
        CPPUNIT_ASSERT(!fresh.checkPresence(signedLogin(_index, kEpoch)).empty());
        CPPUNIT_ASSERT(!fresh.checkRoster(signedRoster(_index, kEpoch), kNonce).empty());
    }

    void testSignedPresencePasses()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(), _verifier.checkPresence(signedLogin(_index, kEpoch)));
        Logout logout{"bob", kBob, 4, std::nullopt};
        logout.sig = _index.sign(SignedStatement::presence(logout, kEpoch));
        CPPUNIT_ASSERT_EQUAL(std::string(), _verifier.checkPresence(logout));
        Login seed{"seed1", kBob, "seed", 5, std::nullopt, std::nullopt};
        seed.sig = _index.sign(SignedStatement::presence(seed, kEpoch));
        CPPUNIT_ASSERT_EQUAL(std::string(), _verifier.checkPresence(seed));
    }

    void testPresenceRefusedUnsignedOrSignedForOtherKeyOrEpoch()
    {
        Login bare = signedLogin(_index, kEpoch);
        bare.sig.reset();
        CPPUNIT_ASSERT_EQUAL(std::string("unsigned login"), _verifier.checkPresence(bare));
        const SigningKey mallory = SigningKey::generate();
        CPPUNIT_ASSERT(!_verifier.checkPresence(signedLogin(mallory, kEpoch)).empty());
        Epoch earlier = kEpoch;
        earlier[7] = 0;
        CPPUNIT_ASSERT(!_verifier.checkPresence(signedLogin(_index, earlier)).empty());
        CPPUNIT_ASSERT(!_verifier.checkPresence(Logout{"bob", kBob, 4, std::nullopt}).empty());
        CPPUNIT_ASSERT(!_verifier.checkPresence(Seen{4}).empty());
    }

    void testPresenceChangedAfterSigningRefused()
    {
        Login moved = signedLogin(_index, kEpoch);
        moved.endpoint = Endpoint::parse("127.0.0.1:6666").value();
        CPPUNIT_ASSERT(!_verifier.checkPresence(moved).empty());
        Login renumbered = signedLogin(_index, kEpoch);
        renumbered.seq = 99;
        CPPUNIT_ASSERT(!_verifier.checkPresence(renumbered).empty());
    }

    void testRosterSignaturesChecked()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(), _verifier.checkRoster(signedRoster(_index, kEpoch), kNonce));
        RosterTrailer bare = signedRoster(_index, kEpoch);
        bare.sig.reset();
        CPPUNIT_ASSERT_EQUAL(std::string("unsigned roster"), _verifier.checkRoster(bare, kNonce));
        const SigningKey mallory = SigningKey::generate();
        CPPUNIT_ASSERT(!_verifier.checkRoster(signedRoster(mallory, kEpoch), kNonce).empty());
        Epoch earlier = kEpoch;
        earlier[0] = 9;
        CPPUNIT_ASSERT(!_verifier.checkRoster(signedRoster(_index, earlier), kNonce).empty());
        RosterTrailer shortened = signedRoster(_index, kEpoch);
        shortened.signedPart = RosterCodec::encode({}, RosterFormat::Peerchat, 3);
        CPPUNIT_ASSERT(!_verifier.checkRoster(shortened, kNonce).empty());
    }

    void testRosterOfAnotherFetchRefused()
    {
        RosterNonce other = kNonce;
        other[23] ^= 1;
        const std::string why = _verifier.checkRoster(signedRoster(_index, kEpoch), other);
        CPPUNIT_ASSERT_MESSAGE(why, why.find("this fetch") != std::string::npos);
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
        CPPUNIT_ASSERT(!_verifier.checkPresence(signedLogin(_index, kEpoch)).empty());
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

    Login signedLogin(const SigningKey& signer, const Epoch& epoch) const
    {
        Login login{"bob", kBob, "peerchat/3", 3, bobKeys(), std::nullopt};
        login.sig = signer.sign(SignedStatement::presence(login, epoch));
        return login;
    }

    RosterTrailer signedRoster(const SigningKey& signer, const Epoch& epoch) const
    {
        RosterTrailer trailer;
        trailer.seq = 3;
        trailer.signedPart = RosterCodec::encode({{"bob", kBob, "peerchat/3", bobKeys()}}, RosterFormat::Peerchat, 3);
        trailer.sig = signer.sign(SignedStatement::roster(RosterCodec::digest(trailer.signedPart), epoch, kNonce));
        return trailer;
    }

    const SigningKey _index = SigningKey::generate();
    const SigningKey _bob = SigningKey::generate();
    const KxKeyPair _bobKx = KxKeyPair::generate();
    IndexVerifier _verifier;
};

CPPUNIT_TEST_SUITE_REGISTRATION(IndexVerifierTest);
