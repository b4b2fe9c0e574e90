#include "Directory.h"
#include "KxKeyPair.h"
#include "SignedStatement.h"
#include "SigningKey.h"

#include "RecordingSink.h"

#include <cppunit/extensions/HelperMacros.h>

#include <set>

using peerchat::Candidate;
using peerchat::CandidateKind;
using peerchat::CandidateList;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::KxKeyPair;
using peerchat::LoginOutcome;
using peerchat::LogoutOutcome;
using peerchat::MoveOutcome;
using peerchat::PeerSession;
using peerchat::SigningKey;
using peerchat::test::endpoint;

namespace {

const Directory::TimePoint kT0{};

using std::chrono::milliseconds;

std::vector<std::string> namesOf(const std::vector<peerchat::OnlineUser>& expired)
{
    std::vector<std::string> names;
    for (const auto& user : expired) names.push_back(user.name);
    return names;
}

Poco::Net::IPAddress ip(const std::string& text)
{
    return Poco::Net::IPAddress(text);
}

} // namespace

class DirectoryTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(DirectoryTest);
    CPPUNIT_TEST(testLoginRegistersName);
    CPPUNIT_TEST(testLoginAtSameEndpointIsAlreadyHere);
    CPPUNIT_TEST(testLoginAtSameEndpointInOtherDialectIsChanged);
    CPPUNIT_TEST(testPeerchatLoginKeepsKeysAndSession);
    CPPUNIT_TEST(testLoginWithSameKeysKeepsSessionInUse);
    CPPUNIT_TEST(testLoginWithNewKxIsChangedAndReplacesSession);
    CPPUNIT_TEST(testLoginKindTellsWithoutChanging);
    CPPUNIT_TEST(testLeavingDropsSession);
    CPPUNIT_TEST(testHolderOfLiveKxOnly);
    CPPUNIT_TEST(testFindAtEndpoint);
    CPPUNIT_TEST(testLoginOfNameOnlineElsewhereIsTaken);
    CPPUNIT_TEST(testLoginDisplacesNameAtSameEndpoint);
    CPPUNIT_TEST(testLogoutFromRegisteredEndpoint);
    CPPUNIT_TEST(testLogoutFromOtherPortRefused);
    CPPUNIT_TEST(testLogoutOfUnknownNameNotOnline);
    CPPUNIT_TEST(testLogoutDotNetFromAnyPortOfLoginAddress);
    CPPUNIT_TEST(testLogoutDotNetWithOtherWrittenEndpointRefused);
    CPPUNIT_TEST(testLogoutDotNetFromOtherAddressRefused);
    CPPUNIT_TEST(testLegacySnapshotListsSeedAndDotNetUsersOnly);
    CPPUNIT_TEST(testVersionGrowsWithEveryChangeOnly);
    CPPUNIT_TEST(testManyUsersKeepBothIndexesConsistent);
    CPPUNIT_TEST(testPresenceSeqsCountPerSession);
    CPPUNIT_TEST(testHeardFromOnlyPeerchatUserAtItsEndpoint);
    CPPUNIT_TEST(testExpireTakesSilentPeerchatUsersOnly);
    CPPUNIT_TEST(testLoginAgainCountsAsHeard);
    CPPUNIT_TEST(testLoginAgainAsSeedStopsExpiry);
    CPPUNIT_TEST(testLeftUsersAreNotExpired);
    CPPUNIT_TEST(testExpireAmongManyTakesOnlyTheSilent);
    CPPUNIT_TEST(testCandidatesKeepPlausibleHostAndRelayOnly);
    CPPUNIT_TEST(testCandidatesCappedBelowWhatMeetCarries);
    CPPUNIT_TEST(testCandidatesForgottenAtNewLoginAndLogout);
    CPPUNIT_TEST(testMoveReindexesEndpoint);
    CPPUNIT_TEST(testMoveToHeldEndpointRefused);
    CPPUNIT_TEST(testHolderOfKeyIdFindsLiveSession);
    CPPUNIT_TEST_SUITE_END();

public:
    void testLoginRegistersName()
    {
        Directory d;
        const auto outcome = d.login("天涯", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::Registered);
        CPPUNIT_ASSERT(!outcome.displaced);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.size());
        const auto* user = d.find("天涯");
        CPPUNIT_ASSERT(user);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), user->endpoint.toString());
        CPPUNIT_ASSERT(user->dialect == Dialect::Seed);
    }

    void testLoginAtSameEndpointIsAlreadyHere()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        const auto outcome = d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::AlreadyHere);
        CPPUNIT_ASSERT(!outcome.displaced);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.size());
    }

    void testLoginAtSameEndpointInOtherDialectIsChanged()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        const auto version = d.version();
        const auto outcome = d.login("alice", endpoint("127.0.0.1:5001"), Dialect::DotNet, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::Changed);
        CPPUNIT_ASSERT(d.find("alice")->dialect == Dialect::DotNet);
        CPPUNIT_ASSERT(d.version() > version);
    }

    void testPeerchatLoginKeepsKeysAndSession()
    {
        Directory d;
        const auto kx = KxKeyPair::generate();
        const auto outcome = loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::Registered);
        const auto* dave = d.find("dave");
        CPPUNIT_ASSERT(dave->keys && dave->keys->identity == _identity.publicKey());
        CPPUNIT_ASSERT(dave->keys->kx == kx.publicKey());
        CPPUNIT_ASSERT(d.session("dave"));
        CPPUNIT_ASSERT(d.session("dave")->remoteId() == kx.id());
        CPPUNIT_ASSERT(d.session("dave")->localId() == _index.id());
        // Seed and .NET users have neither.
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(!d.find("alice")->keys);
        CPPUNIT_ASSERT(!d.session("alice"));
        CPPUNIT_ASSERT(!d.session("nobody"));
    }

    void testLoginWithSameKeysKeepsSessionInUse()
    {
        Directory d;
        const auto kx = KxKeyPair::generate();
        loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), d.session("dave")->seal("one").counter);
        const auto version = d.version();
        const auto outcome = loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::AlreadyHere);
        CPPUNIT_ASSERT_EQUAL(version, d.version());
        // A new cipher between the same keys would count from 1 again and reuse nonces.
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), d.session("dave")->seal("two").counter);
    }

    void testLoginWithNewKxIsChangedAndReplacesSession()
    {
        Directory d;
        const auto first = KxKeyPair::generate();
        const auto second = KxKeyPair::generate();
        loginPeerchat(d, "dave", "127.0.0.1:5004", first);
        d.session("dave")->seal("one");
        const auto outcome = loginPeerchat(d, "dave", "127.0.0.1:5004", second);
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::Changed);
        CPPUNIT_ASSERT(d.find("dave")->keys->kx == second.publicKey());
        CPPUNIT_ASSERT(d.session("dave")->remoteId() == second.id());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), d.session("dave")->seal("one").counter);
    }

    void testLoginKindTellsWithoutChanging()
    {
        Directory d;
        const auto kx = KxKeyPair::generate();
        const peerchat::PeerKeys keys{_identity.publicKey(), kx.publicKey(), {}};
        CPPUNIT_ASSERT(d.loginKind("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, keys)
                       == LoginOutcome::Kind::Registered);
        loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        const auto version = d.version();
        CPPUNIT_ASSERT(d.loginKind("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, keys)
                       == LoginOutcome::Kind::AlreadyHere);
        const peerchat::PeerKeys rekeyed{_identity.publicKey(), KxKeyPair::generate().publicKey(), {}};
        CPPUNIT_ASSERT(d.loginKind("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, rekeyed)
                       == LoginOutcome::Kind::Changed);
        CPPUNIT_ASSERT(d.loginKind("dave", endpoint("127.0.0.1:5009"), Dialect::Peerchat, keys)
                       == LoginOutcome::Kind::Taken);
        CPPUNIT_ASSERT(d.loginKind("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, std::nullopt)
                       == LoginOutcome::Kind::AlreadyHere);
        CPPUNIT_ASSERT(d.loginKind("alice", endpoint("127.0.0.1:5001"), Dialect::DotNet, std::nullopt)
                       == LoginOutcome::Kind::Changed);
        CPPUNIT_ASSERT_EQUAL(version, d.version());
    }

    void testLeavingDropsSession()
    {
        Directory d;
        const auto kx = KxKeyPair::generate();
        loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        d.logout("dave", endpoint("127.0.0.1:5004"), endpoint("127.0.0.1:5004"));
        CPPUNIT_ASSERT(!d.session("dave"));
        loginPeerchat(d, "erin", "127.0.0.1:5005", kx);
        d.expireHeardBefore(kT0);
        CPPUNIT_ASSERT(!d.session("erin"));
        loginPeerchat(d, "frank", "127.0.0.1:5006", kx);
        d.login("gina", endpoint("127.0.0.1:5006"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(!d.session("frank"));
    }

    void testHolderOfLiveKxOnly()
    {
        Directory d;
        const auto kx = KxKeyPair::generate();
        const auto next = KxKeyPair::generate();
        CPPUNIT_ASSERT(!d.holderOf(kx.publicKey()));
        loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        CPPUNIT_ASSERT_EQUAL(std::string("dave"), *d.holderOf(kx.publicKey()));
        // A new key at the same endpoint takes over; the old one is held by nobody, and retired.
        loginPeerchat(d, "dave", "127.0.0.1:5004", next);
        CPPUNIT_ASSERT(!d.holderOf(kx.publicKey()));
        CPPUNIT_ASSERT(d.isRetired(kx.publicKey()));
        CPPUNIT_ASSERT_EQUAL(std::string("dave"), *d.holderOf(next.publicKey()));
        d.logout("dave", endpoint("127.0.0.1:5004"), endpoint("127.0.0.1:5004"));
        CPPUNIT_ASSERT(!d.holderOf(next.publicKey()));
    }

    void testFindAtEndpoint()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), d.findAt(endpoint("127.0.0.1:5001"))->name);
        CPPUNIT_ASSERT(!d.findAt(endpoint("127.0.0.1:5002")));
        d.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.1:5001"));
        CPPUNIT_ASSERT(!d.findAt(endpoint("127.0.0.1:5001")));
    }

    void testLoginOfNameOnlineElsewhereIsTaken()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        const auto before = d.version();
        const auto outcome = d.login("alice", endpoint("127.0.0.1:5002"), Dialect::Peerchat, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::Taken);
        CPPUNIT_ASSERT_EQUAL(before, d.version());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), d.find("alice")->endpoint.toString());
        CPPUNIT_ASSERT(d.find("alice")->dialect == Dialect::Seed);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.size());
    }

    void testLoginDisplacesNameAtSameEndpoint()
    {
        Directory d;
        d.login("bob", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        const auto outcome = d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::Registered);
        CPPUNIT_ASSERT(outcome.displaced);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), outcome.displaced->name);
        CPPUNIT_ASSERT(!d.find("bob"));
        CPPUNIT_ASSERT(d.find("alice"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.size());
        // bob may come back elsewhere: nothing of him is left behind.
        CPPUNIT_ASSERT(d.login("bob", endpoint("127.0.0.1:5002"), Dialect::Seed, ip("127.0.0.1"), kT0).kind
                       == LoginOutcome::Kind::Registered);
    }

    void testLogoutFromRegisteredEndpoint()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        const auto outcome = d.logout("alice", endpoint("10.0.0.9:7"), endpoint("127.0.0.1:5001"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::LoggedOut);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), outcome.user->name);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), d.size());
        // The endpoint is free again.
        CPPUNIT_ASSERT(!d.login("bob", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0).displaced);
    }

    void testLogoutFromOtherPortRefused()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        const auto before = d.version();
        const auto outcome = d.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.1:5002"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::WrongSource);
        CPPUNIT_ASSERT(d.find("alice"));
        CPPUNIT_ASSERT_EQUAL(before, d.version());
    }

    void testLogoutOfUnknownNameNotOnline()
    {
        Directory d;
        const auto outcome = d.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.1:5001"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::NotOnline);
        CPPUNIT_ASSERT(!outcome.user);
    }

    void testLogoutDotNetFromAnyPortOfLoginAddress()
    {
        Directory d;
        d.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip("127.0.0.1"), kT0);
        const auto outcome = d.logout("carol", endpoint("127.0.0.1:6000"), endpoint("127.0.0.1:43210"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::LoggedOut);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), d.size());
    }

    void testLogoutDotNetWithOtherWrittenEndpointRefused()
    {
        Directory d;
        d.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip("127.0.0.1"), kT0);
        const auto outcome = d.logout("carol", endpoint("127.0.0.1:6001"), endpoint("127.0.0.1:43210"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::WrongSource);
        CPPUNIT_ASSERT(d.find("carol"));
    }

    void testLogoutDotNetFromOtherAddressRefused()
    {
        Directory d;
        d.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip("127.0.0.1"), kT0);
        const auto outcome = d.logout("carol", endpoint("127.0.0.1:6000"), endpoint("127.0.0.2:6000"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::WrongSource);
        CPPUNIT_ASSERT(d.find("carol"));
    }

    void testLegacySnapshotListsSeedAndDotNetUsersOnly()
    {
        Directory d;
        CPPUNIT_ASSERT(d.legacySnapshot().empty());
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        d.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip("127.0.0.1"), kT0);
        loginPeerchat(d, "dave", "127.0.0.1:7000", KxKeyPair::generate());
        std::set<std::string> rows;
        for (const auto& e : d.legacySnapshot()) rows.insert(e.name + " " + e.endpoint.toString());
        const std::set<std::string> expected{"alice 127.0.0.1:5001", "carol 127.0.0.1:6000"};
        CPPUNIT_ASSERT(rows == expected);
    }

    void testVersionGrowsWithEveryChangeOnly()
    {
        Directory d;
        auto v = d.version();
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(d.version() > v);
        v = d.version();
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT_EQUAL(v, d.version());
        d.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.9:5001"));
        CPPUNIT_ASSERT_EQUAL(v, d.version());
        d.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.1:5001"));
        CPPUNIT_ASSERT(d.version() > v);
    }

    void testManyUsersKeepBothIndexesConsistent()
    {
        Directory d;
        constexpr int kUsers = 100000;
        for (int i = 0; i < kUsers; ++i) {
            const std::string ep = "10.0." + std::to_string(i / 50000) + "." + std::to_string(i % 250) + ":"
                                   + std::to_string(1000 + (i / 250) % 200);
            CPPUNIT_ASSERT(d.login("u" + std::to_string(i), endpoint(ep), Dialect::Seed, ip("10.0.0.1"), kT0).kind
                           == LoginOutcome::Kind::Registered);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers), d.size());
        // u0 sits at 10.0.0.0:1000; a newcomer there displaces exactly u0.
        const auto outcome = d.login("newcomer", endpoint("10.0.0.0:1000"), Dialect::Seed, ip("10.0.0.0"), kT0);
        CPPUNIT_ASSERT(outcome.displaced);
        CPPUNIT_ASSERT_EQUAL(std::string("u0"), outcome.displaced->name);
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers), d.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers), d.legacySnapshot().size());
    }

    void testPresenceSeqsCountPerSession()
    {
        Directory d;
        loginPeerchat(d, "dave", "127.0.0.1:5004", KxKeyPair::generate());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), d.find("dave")->presenceSeq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), d.takePresenceSeqs("dave", 3));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), d.takePresenceSeqs("dave", 1));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), d.find("dave")->presenceSeq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), d.takePresenceSeqs("nobody", 1));
        // The same keys again: the session and its numbers stay.
        const auto kx = KxKeyPair::generate();
        loginPeerchat(d, "erin", "127.0.0.1:5005", kx);
        d.takePresenceSeqs("erin", 2);
        loginPeerchat(d, "erin", "127.0.0.1:5005", kx);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), d.find("erin")->presenceSeq);
        // New keys are a new session: numbers start again.
        loginPeerchat(d, "erin", "127.0.0.1:5005", KxKeyPair::generate());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), d.find("erin")->presenceSeq);
    }

    void testHeardFromOnlyPeerchatUserAtItsEndpoint()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        d.login("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, ip("127.0.0.1"), kT0);
        const auto version = d.version();
        CPPUNIT_ASSERT(d.heardFrom("dave", endpoint("127.0.0.1:5004"), kT0 + milliseconds(10)));
        CPPUNIT_ASSERT(!d.heardFrom("dave", endpoint("127.0.0.1:5005"), kT0 + milliseconds(10)));
        CPPUNIT_ASSERT(!d.heardFrom("alice", endpoint("127.0.0.1:5001"), kT0 + milliseconds(10)));
        CPPUNIT_ASSERT(!d.heardFrom("nobody", endpoint("127.0.0.1:5004"), kT0 + milliseconds(10)));
        // A heartbeat changes nothing the roster shows.
        CPPUNIT_ASSERT_EQUAL(version, d.version());
    }

    void testExpireTakesSilentPeerchatUsersOnly()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        d.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip("127.0.0.1"), kT0);
        d.login("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, ip("127.0.0.1"), kT0);
        d.login("erin", endpoint("127.0.0.1:5005"), Dialect::Peerchat, ip("127.0.0.1"), kT0);
        d.heardFrom("erin", endpoint("127.0.0.1:5005"), kT0 + milliseconds(500));

        CPPUNIT_ASSERT(d.expireHeardBefore(kT0 - milliseconds(1)).empty());
        const auto first = d.expireHeardBefore(kT0 + milliseconds(499));
        CPPUNIT_ASSERT(namesOf(first) == std::vector<std::string>{"dave"});
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5004"), first.front().endpoint.toString());
        CPPUNIT_ASSERT(!d.find("dave"));

        // At exactly the cutoff counts as silent for that long.
        CPPUNIT_ASSERT(namesOf(d.expireHeardBefore(kT0 + milliseconds(500))) == std::vector<std::string>{"erin"});
        CPPUNIT_ASSERT(d.expireHeardBefore(kT0 + std::chrono::hours(24 * 365)).empty());
        CPPUNIT_ASSERT(d.find("alice"));
        CPPUNIT_ASSERT(d.find("carol"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), d.size());
    }

    void testLoginAgainCountsAsHeard()
    {
        Directory d;
        d.login("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, ip("127.0.0.1"), kT0);
        d.login("erin", endpoint("127.0.0.1:5005"), Dialect::Peerchat, ip("127.0.0.1"), kT0 + milliseconds(100));
        d.login("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, ip("127.0.0.1"), kT0 + milliseconds(200));
        CPPUNIT_ASSERT(namesOf(d.expireHeardBefore(kT0 + milliseconds(150))) == std::vector<std::string>{"erin"});
        CPPUNIT_ASSERT(namesOf(d.expireHeardBefore(kT0 + milliseconds(200))) == std::vector<std::string>{"dave"});
    }

    void testLoginAgainAsSeedStopsExpiry()
    {
        Directory d;
        d.login("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, ip("127.0.0.1"), kT0);
        d.login("dave", endpoint("127.0.0.1:5004"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(d.expireHeardBefore(kT0 + milliseconds(1000)).empty());
        CPPUNIT_ASSERT(d.find("dave"));
        d.login("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, ip("127.0.0.1"), kT0 + milliseconds(2000));
        CPPUNIT_ASSERT(namesOf(d.expireHeardBefore(kT0 + milliseconds(2000))) == std::vector<std::string>{"dave"});
    }

    void testLeftUsersAreNotExpired()
    {
        Directory d;
        d.login("dave", endpoint("127.0.0.1:5004"), Dialect::Peerchat, ip("127.0.0.1"), kT0);
        d.login("erin", endpoint("127.0.0.1:5005"), Dialect::Peerchat, ip("127.0.0.1"), kT0);
        d.logout("dave", endpoint("127.0.0.1:5004"), endpoint("127.0.0.1:5004"));
        // frank displaces erin at her endpoint as a seed user.
        d.login("frank", endpoint("127.0.0.1:5005"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(d.expireHeardBefore(kT0 + milliseconds(1000)).empty());
        CPPUNIT_ASSERT(d.find("frank"));
    }

    void testExpireAmongManyTakesOnlyTheSilent()
    {
        Directory d;
        constexpr int kUsers = 100000;
        for (int i = 0; i < kUsers; ++i) {
            const std::string ep = "10.0." + std::to_string(i / 50000) + "." + std::to_string(i % 250) + ":"
                                   + std::to_string(1000 + (i / 250) % 200);
            d.login("u" + std::to_string(i), endpoint(ep), Dialect::Peerchat, ip("10.0.0.1"), kT0 + milliseconds(i));
        }
        const auto expired = d.expireHeardBefore(kT0 + milliseconds(999));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1000), expired.size());
        for (std::size_t i = 0; i < expired.size(); ++i) {
            CPPUNIT_ASSERT_EQUAL("u" + std::to_string(i), expired[i].name);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers - 1000), d.size());
        CPPUNIT_ASSERT(d.find("u1000"));
    }

    void testCandidatesKeepPlausibleHostAndRelayOnly()
    {
        Directory d;
        loginPeerchat(d, "dave", "127.0.0.1:5004", KxKeyPair::generate());
        const auto claimed = CandidateList::parse("host=10.0.1.2:5001;srflx=203.0.113.9:7;host=0.0.0.0:5001;"
                                                  "host=224.0.0.1:5001;host=255.255.255.255:5001;"
                                                  "relay=198.18.0.1:49152;host=127.0.0.1:5004")
                                 .value();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), d.setCandidates("dave", claimed));
        CPPUNIT_ASSERT_EQUAL(std::string("host=10.0.1.2:5001;relay=198.18.0.1:49152;host=127.0.0.1:5004"),
                             CandidateList::format(d.find("dave")->candidates));
        // The next set replaces the last; a name not online keeps nothing.
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), d.setCandidates("dave", {}));
        CPPUNIT_ASSERT(d.find("dave")->candidates.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), d.setCandidates("nobody", claimed));
    }

    void testCandidatesCappedBelowWhatMeetCarries()
    {
        Directory d;
        loginPeerchat(d, "dave", "127.0.0.1:5004", KxKeyPair::generate());
        std::vector<Candidate> many;
        for (int i = 1; i <= 8; ++i)
            many.push_back(Candidate{CandidateKind::Host, endpoint("10.0.1." + std::to_string(i) + ":5001")});
        CPPUNIT_ASSERT_EQUAL(Directory::kMaxKeptCandidates, d.setCandidates("dave", many));
        CPPUNIT_ASSERT_EQUAL(CandidateList::kMaxCandidates - 1, d.find("dave")->candidates.size());
        CPPUNIT_ASSERT(d.find("dave")->candidates.back().endpoint == endpoint("10.0.1.7:5001"));
    }

    void testCandidatesForgottenAtNewLoginAndLogout()
    {
        Directory d;
        const auto kx = KxKeyPair::generate();
        const auto host = CandidateList::parse("host=10.0.1.2:5001").value();
        loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        d.setCandidates("dave", host);
        // The same login again keeps them; a login with a new key does not.
        loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.find("dave")->candidates.size());
        loginPeerchat(d, "dave", "127.0.0.1:5004", KxKeyPair::generate());
        CPPUNIT_ASSERT(d.find("dave")->candidates.empty());
        d.setCandidates("dave", host);
        d.logout("dave", endpoint("127.0.0.1:5004"), endpoint("127.0.0.1:5004"));
        loginPeerchat(d, "dave", "127.0.0.1:5004", KxKeyPair::generate());
        CPPUNIT_ASSERT(d.find("dave")->candidates.empty());
    }

    void testMoveReindexesEndpoint()
    {
        Directory d;
        const auto kx = KxKeyPair::generate();
        loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        d.setCandidates("dave", CandidateList::parse("host=10.0.1.2:5001").value());
        d.heardFrom("dave", endpoint("127.0.0.1:5004"), kT0 + milliseconds(10));
        const std::uint64_t version = d.version();
        const auto outcome = d.move("dave", endpoint("127.0.0.2:6004"));
        CPPUNIT_ASSERT(outcome.kind == MoveOutcome::Kind::Moved);
        CPPUNIT_ASSERT(outcome.from == endpoint("127.0.0.1:5004"));
        CPPUNIT_ASSERT(d.version() > version);
        CPPUNIT_ASSERT(!d.findAt(endpoint("127.0.0.1:5004")));
        const auto* dave = d.findAt(endpoint("127.0.0.2:6004"));
        CPPUNIT_ASSERT(dave && dave->name == "dave");
        CPPUNIT_ASSERT(dave->loginSource == ip("127.0.0.2"));
        // Keys, session and candidates go along.
        CPPUNIT_ASSERT(dave->keys && dave->keys->kx == kx.publicKey());
        CPPUNIT_ASSERT(d.session("dave") && d.session("dave")->remoteId() == kx.id());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), dave->candidates.size());
        // Heard from at the new endpoint only, and still expiring as before.
        CPPUNIT_ASSERT(!d.heardFrom("dave", endpoint("127.0.0.1:5004"), kT0 + milliseconds(20)));
        CPPUNIT_ASSERT(namesOf(d.expireHeardBefore(kT0 + milliseconds(10))) == std::vector<std::string>{"dave"});
        CPPUNIT_ASSERT(d.move("dave", endpoint("127.0.0.1:5004")).kind == MoveOutcome::Kind::NotOnline);
    }

    void testMoveToHeldEndpointRefused()
    {
        Directory d;
        loginPeerchat(d, "dave", "127.0.0.1:5004", KxKeyPair::generate());
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"), kT0);
        CPPUNIT_ASSERT(d.move("dave", endpoint("127.0.0.1:5001")).kind == MoveOutcome::Kind::EndpointHeld);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), d.findAt(endpoint("127.0.0.1:5001"))->name);
        CPPUNIT_ASSERT_EQUAL(std::string("dave"), d.findAt(endpoint("127.0.0.1:5004"))->name);
    }

    void testHolderOfKeyIdFindsLiveSession()
    {
        Directory d;
        const auto kx = KxKeyPair::generate();
        CPPUNIT_ASSERT(!d.holderOfKeyId(kx.id()));
        loginPeerchat(d, "dave", "127.0.0.1:5004", kx);
        CPPUNIT_ASSERT_EQUAL(std::string("dave"), *d.holderOfKeyId(kx.id()));
        CPPUNIT_ASSERT(!d.holderOfKeyId(KxKeyPair::generate().id()));
        d.logout("dave", endpoint("127.0.0.1:5004"), endpoint("127.0.0.1:5004"));
        CPPUNIT_ASSERT(!d.holderOfKeyId(kx.id()));
    }

private:
    // Logs name in at endpoint at as a peerchat/3 user with the identity key
    // _identity and the kx pair kx, as its auth would; _index is indexd's kx pair.
    LoginOutcome loginPeerchat(Directory& d, const std::string& name, const std::string& at, const KxKeyPair& kx) const
    {
        const peerchat::PeerKeys keys{_identity.publicKey(), kx.publicKey(),
                                      _identity.sign(peerchat::SignedStatement::kx(_identity.publicKey(), name,
                                                                                   kx.publicKey(), {}, {}))};
        auto cipher = peerchat::SessionCipher::between(_index, _indexKey, _identity.publicKey(), kx.publicKey());
        return d.login(name, endpoint(at), Dialect::Peerchat, ip("127.0.0.1"), kT0,
                       PeerSession{keys, std::move(*cipher)});
    }

    const KxKeyPair _index = KxKeyPair::generate();
    const SigningKey _indexKey = SigningKey::generate();
    const SigningKey _identity = SigningKey::generate();
};

CPPUNIT_TEST_SUITE_REGISTRATION(DirectoryTest);
