#include "Broadcaster.h"
#include "Directory.h"
#include "IndexIdentity.h"
#include "SignedStatement.h"

#include "RecordingSink.h"
#include "SeedClient.h"
#include "TestPeer.h"
#include "VerifiedPresence.h"

#include <cppunit/extensions/HelperMacros.h>

#include <set>

using peerchat::Broadcaster;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::IndexIdentity;
using peerchat::KxKeyPair;
using peerchat::Login;
using peerchat::Logout;
using peerchat::Message;
using peerchat::PeerKeys;
using peerchat::PeerSession;
using peerchat::Protocol;
using peerchat::SignedStatement;
using peerchat::SigningKey;
using peerchat::test::endpoint;
using peerchat::test::RecordingSink;
using peerchat::test::toUtf16le;
using peerchat::test::verifiedPresence;

class BroadcasterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(BroadcasterTest);
    CPPUNIT_TEST(testAnnounceLoginReachesEveryOtherUserInItsDialect);
    CPPUNIT_TEST(testAnnounceLoginToPeerchatUsersSignedWithKeys);
    CPPUNIT_TEST(testAnnounceLogoutReachesEveryOtherUserInItsEncoding);
    CPPUNIT_TEST(testSignatureHoldsForThisEpochOnly);
    CPPUNIT_TEST(testAnnounceToEmptyDirectorySendsNothing);
    CPPUNIT_TEST(testAnnounceSkipsSubjectEndpoint);
    CPPUNIT_TEST(testAnnounceReachesManyUsersWithOneSignature);
    CPPUNIT_TEST_SUITE_END();

public:
    BroadcasterTest() : _identity(SigningKey::generate()) {}

    void setUp() override
    {
        const auto ip = Poco::Net::IPAddress("127.0.0.1");
        const Directory::TimePoint now{};
        _directory.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip, now);
        _directory.login("bob", endpoint("127.0.0.1:5002"), Dialect::Seed, ip, now);
        _directory.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip, now);
        _directory.login("dave", endpoint("[::1]:5004"), Dialect::Peerchat, Poco::Net::IPAddress("::1"), now,
                         session("dave"));
        _directory.login("erin", endpoint("127.0.0.1:5005"), Dialect::Peerchat, ip, now, session("erin"));
    }

    void testAnnounceLoginReachesEveryOtherUserInItsDialect()
    {
        RecordingSink sink;
        Broadcaster(_directory, sink, _identity).announceLogin(*_directory.find("carol"), 5);
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5001")) == lines({"login,carol,127.0.0.1:6000"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")) == lines({"login,carol,127.0.0.1:6000"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:6000")).empty());
        const Login toDave = std::get<Login>(verifiedPresence(sink.to(endpoint("[::1]:5004")).at(0), _identity));
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), toDave.name);
        CPPUNIT_ASSERT_EQUAL(std::string("dotnet"), toDave.dialect);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), toDave.seq);
        CPPUNIT_ASSERT(!toDave.keys);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), sink.sent.size());

        sink.sent.clear();
        Broadcaster(_directory, sink, _identity).announceLogin(*_directory.find("dave"), 6);
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5001")) == lines({"login,dave,[::1]:5004"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:6000")) == lines({toUtf16le("login,dave,[::1]:5004")}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), sink.sent.size());
    }

    void testAnnounceLoginToPeerchatUsersSignedWithKeys()
    {
        RecordingSink sink;
        Broadcaster(_directory, sink, _identity).announceLogin(*_directory.find("dave"), 6);
        const Login toErin = std::get<Login>(verifiedPresence(sink.to(endpoint("127.0.0.1:5005")).at(0), _identity));
        CPPUNIT_ASSERT_EQUAL(std::string("dave"), toErin.name);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5004"), toErin.endpoint.toString());
        CPPUNIT_ASSERT_EQUAL(std::string("peerchat/3"), toErin.dialect);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), toErin.seq);
        const PeerKeys& keys = *_directory.find("dave")->keys;
        CPPUNIT_ASSERT(toErin.keys && toErin.keys->identity == keys.identity);
        CPPUNIT_ASSERT(toErin.keys->kx == keys.kx);
        CPPUNIT_ASSERT(toErin.keys->kxSig == keys.kxSig);
    }

    void testAnnounceLogoutReachesEveryOtherUserInItsEncoding()
    {
        RecordingSink sink;
        Broadcaster(_directory, sink, _identity).announceLogout(*_directory.find("alice"), 7);
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")) == lines({"logout,alice,127.0.0.1:5001"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:6000")) == lines({toUtf16le("logout,alice,127.0.0.1:5001")}));
        const Logout toDave = std::get<Logout>(verifiedPresence(sink.to(endpoint("[::1]:5004")).at(0), _identity));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), toDave.name);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), toDave.seq);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), sink.sent.size());
    }

    void testSignatureHoldsForThisEpochOnly()
    {
        RecordingSink sink;
        Broadcaster(_directory, sink, _identity).announceLogout(*_directory.find("alice"), 7);
        const auto message = Protocol::decode(sink.to(endpoint("[::1]:5004")).at(0)).value();
        const auto sig = *std::get<Logout>(message).sig;
        // Another run of the same indexd has another epoch: a replayed announcement fails.
        const IndexIdentity nextRun(_identity.key());
        CPPUNIT_ASSERT(SigningKey::verify(nextRun.publicKey(), SignedStatement::presence(message, _identity.epoch()), sig));
        CPPUNIT_ASSERT(!SigningKey::verify(nextRun.publicKey(), SignedStatement::presence(message, nextRun.epoch()), sig));
        // A changed announcement fails.
        Message changed = message;
        std::get<Logout>(changed).seq = 8;
        CPPUNIT_ASSERT(!SigningKey::verify(_identity.publicKey(), SignedStatement::presence(changed, _identity.epoch()), sig));
    }

    void testAnnounceToEmptyDirectorySendsNothing()
    {
        Directory empty;
        RecordingSink sink;
        Broadcaster(empty, sink, _identity).announceLogout(*_directory.find("alice"), 1);
        CPPUNIT_ASSERT(sink.sent.empty());
    }

    void testAnnounceSkipsSubjectEndpoint()
    {
        // bob left earlier; the user now at his endpoint is not told he left.
        peerchat::OnlineUser gone{"bob-before", endpoint("127.0.0.1:5002"), Dialect::Seed,
                                  Poco::Net::IPAddress("127.0.0.1")};
        RecordingSink sink;
        Broadcaster(_directory, sink, _identity).announceLogout(gone, 1);
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")).empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), sink.sent.size());
    }

    void testAnnounceReachesManyUsersWithOneSignature()
    {
        Directory big;
        const auto identity = SigningKey::generate();
        constexpr int kUsers = 20000;
        for (int i = 0; i < kUsers; ++i) {
            const std::string name = "u" + std::to_string(i);
            std::optional<PeerSession> s;
            if (i % 3 == 0) {
                const auto kx = KxKeyPair::generate();
                s.emplace(PeerSession{
                    PeerKeys{identity.publicKey(), kx.publicKey(), {}},
                    std::move(*peerchat::SessionCipher::between(_identity.kx(), _identity.key(), identity.publicKey(),
                                                                kx.publicKey()))});
            }
            const Dialect dialect = s ? Dialect::Peerchat : Dialect::Seed;
            big.login(name, endpoint("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":5000"),
                      dialect, Poco::Net::IPAddress("10.0.0.1"), Directory::TimePoint(), std::move(s));
        }
        RecordingSink sink;
        Broadcaster(big, sink, _identity).announceLogin(*big.find("u0"), 1);
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers - 1), sink.sent.size());
        std::set<std::string> destinations;
        std::set<std::string> forms;
        for (const auto& d : sink.sent) {
            destinations.insert(d.to.toString());
            forms.insert(d.bytes);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers - 1), destinations.size());
        // The plain form and one signed form: signed once, however many receive it.
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), forms.size());
    }

private:
    static std::vector<std::string> lines(std::initializer_list<std::string> items) { return items; }

    PeerSession session(const std::string& name)
    {
        return peerchat::test::TestPeer(name, "127.0.0.1:1").sessionAt(_identity);
    }

    IndexIdentity _identity;
    Directory _directory;
};

CPPUNIT_TEST_SUITE_REGISTRATION(BroadcasterTest);
