#include "Base64.h"
#include "Protocol.h"
#include "SignedStatement.h"
#include "SigningKey.h"
#include "TestKeys.h"

#include <cppunit/extensions/HelperMacros.h>

#include <set>
#include <string>

using namespace peerchat;
using test::bytes;

namespace {

Endpoint endpoint(const std::string& text)
{
    return *Endpoint::parse(text);
}

Message decodeOk(const std::string& text)
{
    const auto parsed = Protocol::decode(text);
    CPPUNIT_ASSERT_MESSAGE("refused '" + text + "': " + parsed.error(), parsed.ok());
    return *parsed;
}

} // namespace

class SignedStatementTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(SignedStatementTest);
    CPPUNIT_TEST(testStateKxExactly);
    CPPUNIT_TEST(testStateChallengeWithoutItsSignature);
    CPPUNIT_TEST(testStateAuthWithoutItsSignature);
    CPPUNIT_TEST(testStateWelcomeWithNonce);
    CPPUNIT_TEST(testStateMailOverRawKeys);
    CPPUNIT_TEST(testKeepPurposesApart);
    CPPUNIT_TEST(testVerifySignatureOverReceivedMessage);
    CPPUNIT_TEST(testRefuseSignatureOverChangedField);
    CPPUNIT_TEST_SUITE_END();

public:
    void testStateKxExactly()
    {
        const PublicKey identity = bytes<32>(1), kx = bytes<32>(7), index = bytes<32>(9);
        const Epoch epoch = bytes<8>(3);
        CPPUNIT_ASSERT_EQUAL("peerchat/3 kx\n" + Base64::encode(identity) + "\n天涯\n" + Base64::encode(kx) + "\n" +
                                 Base64::encode(index) + "\n" + Base64::encode(epoch),
                             SignedStatement::kx(identity, "天涯", kx, index, epoch));
        // Bound to its holder, its name, its key, the indexd and the run: change any, another statement.
        const std::string base = SignedStatement::kx(identity, "天涯", kx, index, epoch);
        const std::set<std::string> others = {
            SignedStatement::kx(bytes<32>(2), "天涯", kx, index, epoch),
            SignedStatement::kx(identity, "天", kx, index, epoch),
            SignedStatement::kx(identity, "天涯", bytes<32>(8), index, epoch),
            SignedStatement::kx(identity, "天涯", kx, bytes<32>(10), epoch),
            SignedStatement::kx(identity, "天涯", kx, index, bytes<8>(4)),
        };
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), others.size());
        CPPUNIT_ASSERT(others.count(base) == 0);
    }

    void testStateChallengeWithoutItsSignature()
    {
        Challenge challenge{"alice",     endpoint("127.0.0.1:5001"), bytes<24>(1), bytes<24>(2),
                            bytes<8>(3), bytes<32>(4),              bytes<64>(5)};
        const std::string wire = Protocol::encode(challenge);
        const std::string expected = "peerchat/3 challenge\n" + wire.substr(0, wire.rfind(','));
        CPPUNIT_ASSERT_EQUAL(expected, SignedStatement::challenge(challenge));
        challenge.sig = bytes<64>(6);
        CPPUNIT_ASSERT_EQUAL(expected, SignedStatement::challenge(challenge));
        challenge.observed = endpoint("127.0.0.1:5002");
        CPPUNIT_ASSERT(expected != SignedStatement::challenge(challenge));
    }

    void testStateAuthWithoutItsSignature()
    {
        Auth auth{"alice", endpoint("127.0.0.1:5001"), "peerchat/2", PeerKeys{bytes<32>(1), bytes<32>(2), bytes<64>(3)},
                  bytes<24>(4), bytes<64>(5)};
        const std::string wire = Protocol::encode(auth);
        const std::string expected = "peerchat/3 auth\n" + wire.substr(0, wire.rfind(','));
        CPPUNIT_ASSERT_EQUAL(expected, SignedStatement::auth(auth));
        // The signature field is not part of what it signs.
        auth.sig = bytes<64>(99);
        CPPUNIT_ASSERT_EQUAL(expected, SignedStatement::auth(auth));
    }

    void testStateWelcomeWithNonce()
    {
        const Welcome welcome{"alice", bytes<8>(1), bytes<32>(2), bytes<32>(3), bytes<64>(4)};
        const std::string wire = Protocol::encode(welcome);
        CPPUNIT_ASSERT_EQUAL("peerchat/3 welcome\n" + Base64::encode(bytes<24>(9)) + "\n" + wire.substr(0, wire.rfind(',')),
                             SignedStatement::welcome(welcome, bytes<24>(9)));
        // A welcome answers one login: another nonce, another statement.
        CPPUNIT_ASSERT(SignedStatement::welcome(welcome, bytes<24>(9)) != SignedStatement::welcome(welcome, bytes<24>(10)));
    }

    void testStateMailOverRawKeys()
    {
        const PublicKey recipient = bytes<32>(1);
        const PublicKey ephemeral = bytes<32>(2);
        const std::string msg = "msg,1a,1,T,alice,bob,hi";
        const std::string statement = SignedStatement::mail(recipient, ephemeral, msg);
        CPPUNIT_ASSERT_EQUAL("peerchat/3 mail\n" + std::string(recipient.begin(), recipient.end()) +
                                 std::string(ephemeral.begin(), ephemeral.end()) + msg,
                             statement);
        CPPUNIT_ASSERT(statement != SignedStatement::mail(ephemeral, recipient, msg));
    }

    void testKeepPurposesApart()
    {
        // The same bytes in two roles never make the same statement.
        const Epoch epoch = bytes<8>(0);
        const std::string text = "logout,bob,127.0.0.1:6000,46";
        const std::set<std::string> statements = {
            SignedStatement::mail(bytes<32>(0), bytes<32>(0), text),
            SignedStatement::welcome(Welcome{"bob", epoch, bytes<32>(0), bytes<32>(0), {}}, bytes<24>(0)),
            SignedStatement::kx(bytes<32>(0), "bob", bytes<32>(0), bytes<32>(0), epoch),
            SignedStatement::challenge(Challenge{"bob", endpoint("127.0.0.1:6000")}),
        };
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), statements.size());
        std::set<std::string> purposes;
        for (const std::string& s : statements) purposes.insert(s.substr(0, s.find('\n')));
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), purposes.size());
    }

    void testVerifySignatureOverReceivedMessage()
    {
        // peerd signs its auth before it has the signature, then sends it;
        // indexd verifies what it decoded.
        const SigningKey index = SigningKey::generate();
        const Epoch epoch = bytes<8>(8);
        const SigningKey alice = SigningKey::generate();
        Auth auth{"alice", endpoint("[::1]:5001"), "peerchat/2", PeerKeys{alice.publicKey(), bytes<32>(2), {}},
                  bytes<24>(4), {}};
        auth.keys.kxSig = alice.sign(SignedStatement::kx(alice.publicKey(), auth.name, auth.keys.kx, index.publicKey(), epoch));
        auth.sig = alice.sign(SignedStatement::auth(auth));
        const Auth back = std::get<Auth>(decodeOk(Protocol::encode(auth)));
        CPPUNIT_ASSERT(SigningKey::verify(back.keys.identity, SignedStatement::auth(back), back.sig));
        CPPUNIT_ASSERT(SigningKey::verify(
            back.keys.identity, SignedStatement::kx(back.keys.identity, back.name, back.keys.kx, index.publicKey(), epoch),
            back.keys.kxSig));
    }

    void testRefuseSignatureOverChangedField()
    {
        const SigningKey alice = SigningKey::generate();
        Auth auth{"alice", endpoint("127.0.0.1:6000"), "peerchat/3", PeerKeys{alice.publicKey(), bytes<32>(2), bytes<64>(3)},
                  bytes<24>(4), {}};
        auth.sig = alice.sign(SignedStatement::auth(auth));
        CPPUNIT_ASSERT(SigningKey::verify(alice.publicKey(), SignedStatement::auth(auth), auth.sig));

        Auth moved = auth;
        moved.observed = endpoint("127.0.0.1:6001");
        Auth rekeyed = auth;
        rekeyed.keys.kx[0] ^= 1;
        Auth renamed = auth;
        renamed.name = "alicf";
        Auth replayed = auth;
        replayed.nonce[0] ^= 1;
        for (const Auth& changed : {moved, rekeyed, renamed, replayed})
            CPPUNIT_ASSERT(!SigningKey::verify(alice.publicKey(), SignedStatement::auth(changed), auth.sig));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignedStatementTest);
