#include "PeerTestData.h"
#include "Roster.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::Dialect;
using peerchat::PeerKeys;
using peerchat::Roster;
using peerchat::RosterEntry;
using peerchat::test::endpoint;
using peerchat::test::peer;

namespace {

// Keys whose identity and key-exchange key are filled with the given bytes.
PeerKeys keys(std::uint8_t identity, std::uint8_t kx)
{
    PeerKeys keys;
    keys.identity.fill(identity);
    keys.kx.fill(kx);
    return keys;
}

const peerchat::Epoch kEpoch{1, 2, 3, 4, 5, 6, 7, 8};

// Replaces roster's users with a snapshot of kEpoch at presence number 0, which it takes.
std::vector<Roster::Change> replace(Roster& roster, const std::vector<RosterEntry>& entries)
{
    const auto changes = roster.replace(entries, kEpoch, 0, 0);
    CPPUNIT_ASSERT(changes.has_value());
    return *changes;
}

} // namespace

class RosterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RosterTest);
    CPPUNIT_TEST(testReplaceLeavesOutSelf);
    CPPUNIT_TEST(testReplaceReportsArrivalsDeparturesAndMoves);
    CPPUNIT_TEST(testReplaceReadsDialects);
    CPPUNIT_TEST(testLoginAddsUserOnce);
    CPPUNIT_TEST(testLoginAtNewEndpointMovesUser);
    CPPUNIT_TEST(testLoginOfSelfChangesNothing);
    CPPUNIT_TEST(testLogoutRemovesUserAtItsEndpoint);
    CPPUNIT_TEST(testLogoutFromOtherEndpointChangesNothing);
    CPPUNIT_TEST(testLogoutOfUnknownUserChangesNothing);
    CPPUNIT_TEST(testReplaceKeepsKeys);
    CPPUNIT_TEST(testLoginWithNewKeysIsAChange);
    CPPUNIT_TEST(testNameAtFindsUserByEndpoint);
    CPPUNIT_TEST(testNameAtFollowsMovesAndSnapshots);
    CPPUNIT_TEST(testNameAtKeepsSecondUserAtSharedEndpoint);
    CPPUNIT_TEST(testDotNetUsersKnownByAddress);
    CPPUNIT_TEST(testPresenceNumberOnlyAdvances);
    CPPUNIT_TEST(testSnapshotOlderThanAskedForRefusedWithinRun);
    CPPUNIT_TEST(testSnapshotOfAnotherRunCountsAfresh);
    CPPUNIT_TEST_SUITE_END();

public:
    void testReplaceLeavesOutSelf()
    {
        Roster roster("alice");
        const auto changes = replace(roster, {{"alice", endpoint("127.0.0.1:5001"), "peerchat/3"},
                                             {"bob", endpoint("127.0.0.1:5002"), "peerchat/3"}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), changes.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), changes[0].name);
        CPPUNIT_ASSERT(changes[0].online);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), roster.peers().size());
        CPPUNIT_ASSERT(roster.find("alice") == nullptr);
        CPPUNIT_ASSERT(roster.find("bob") != nullptr);
    }

    void testReplaceReportsArrivalsDeparturesAndMoves()
    {
        Roster roster("alice");
        replace(roster, {{"bob", endpoint("127.0.0.1:5002"), "peerchat/3"},
                        {"carol", endpoint("127.0.0.1:5003"), "seed"},
                        {"dave", endpoint("127.0.0.1:5004"), "seed"}});
        const auto changes = replace(roster, {{"carol", endpoint("127.0.0.1:6003"), "seed"},
                                             {"dave", endpoint("127.0.0.1:5004"), "seed"},
                                             {"erin", endpoint("127.0.0.1:5005"), "dotnet"}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), changes.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), changes[0].name);
        CPPUNIT_ASSERT(!changes[0].online);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), changes[1].name);
        CPPUNIT_ASSERT(changes[1].online);
        CPPUNIT_ASSERT(changes[1].peer.endpoint == endpoint("127.0.0.1:6003"));
        CPPUNIT_ASSERT_EQUAL(std::string("erin"), changes[2].name);
        CPPUNIT_ASSERT(changes[2].online);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), roster.peers().size());
        CPPUNIT_ASSERT(roster.find("bob") == nullptr);
    }

    void testReplaceReadsDialects()
    {
        Roster roster("alice");
        replace(roster, {{"bob", endpoint("127.0.0.1:5002"), "peerchat/3"},
                        {"carol", endpoint("127.0.0.1:5003"), "dotnet"},
                        {"dave", endpoint("127.0.0.1:5004"), "seed"},
                        {"erin", endpoint("127.0.0.1:5005"), "future/7"}});
        CPPUNIT_ASSERT(roster.find("bob")->dialect == Dialect::Peerchat);
        CPPUNIT_ASSERT(roster.find("carol")->dialect == Dialect::DotNet);
        CPPUNIT_ASSERT(roster.find("dave")->dialect == Dialect::Seed);
        CPPUNIT_ASSERT(roster.find("erin")->dialect == Dialect::Seed);
    }

    void testLoginAddsUserOnce()
    {
        Roster roster("alice");
        const auto first = roster.login("bob", peer("127.0.0.1:5002"));
        CPPUNIT_ASSERT(first.has_value());
        CPPUNIT_ASSERT(first->online);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), first->name);
        CPPUNIT_ASSERT(!roster.login("bob", peer("127.0.0.1:5002")).has_value());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), roster.peers().size());
    }

    void testLoginAtNewEndpointMovesUser()
    {
        Roster roster("alice");
        roster.login("bob", peer("127.0.0.1:5002"));
        const auto moved = roster.login("bob", peer("127.0.0.1:7002", Dialect::DotNet));
        CPPUNIT_ASSERT(moved.has_value());
        CPPUNIT_ASSERT(moved->peer.endpoint == endpoint("127.0.0.1:7002"));
        CPPUNIT_ASSERT(roster.find("bob")->endpoint == endpoint("127.0.0.1:7002"));
        CPPUNIT_ASSERT(roster.find("bob")->dialect == Dialect::DotNet);
    }

    void testLoginOfSelfChangesNothing()
    {
        Roster roster("alice");
        CPPUNIT_ASSERT(!roster.login("alice", peer("127.0.0.1:5001")).has_value());
        CPPUNIT_ASSERT(roster.peers().empty());
    }

    void testLogoutRemovesUserAtItsEndpoint()
    {
        Roster roster("alice");
        roster.login("bob", peer("127.0.0.1:5002"));
        const auto change = roster.logout("bob", endpoint("127.0.0.1:5002"));
        CPPUNIT_ASSERT(change.has_value());
        CPPUNIT_ASSERT(!change->online);
        CPPUNIT_ASSERT(change->peer.endpoint == endpoint("127.0.0.1:5002"));
        CPPUNIT_ASSERT(roster.find("bob") == nullptr);
    }

    void testLogoutFromOtherEndpointChangesNothing()
    {
        Roster roster("alice");
        roster.login("bob", peer("127.0.0.1:5002"));
        CPPUNIT_ASSERT(!roster.logout("bob", endpoint("127.0.0.1:5999")).has_value());
        CPPUNIT_ASSERT(roster.find("bob") != nullptr);
    }

    void testLogoutOfUnknownUserChangesNothing()
    {
        Roster roster("alice");
        CPPUNIT_ASSERT(!roster.logout("bob", endpoint("127.0.0.1:5002")).has_value());
        CPPUNIT_ASSERT(roster.peers().empty());
    }

    void testReplaceKeepsKeys()
    {
        Roster roster("alice");
        replace(roster, {{"bob", endpoint("127.0.0.1:5002"), "peerchat/3", keys(1, 2)},
                        {"dave", endpoint("127.0.0.1:5004"), "seed"}});
        CPPUNIT_ASSERT(roster.find("bob")->keys.has_value());
        CPPUNIT_ASSERT(roster.find("bob")->keys->identity == keys(1, 2).identity);
        CPPUNIT_ASSERT(roster.find("bob")->keys->kx == keys(1, 2).kx);
        CPPUNIT_ASSERT(!roster.find("dave")->keys.has_value());
    }

    void testLoginWithNewKeysIsAChange()
    {
        Roster roster("alice");
        roster.login("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(1, 2)));
        CPPUNIT_ASSERT(!roster.login("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(1, 2))).has_value());
        // A new login of bob's at the same endpoint brings a new key-exchange key.
        const auto relogin = roster.login("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(1, 3)));
        CPPUNIT_ASSERT(relogin.has_value());
        CPPUNIT_ASSERT(roster.find("bob")->keys->kx == keys(1, 3).kx);
        CPPUNIT_ASSERT(roster.login("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(4, 3))).has_value());
        CPPUNIT_ASSERT(roster.login("bob", peer("127.0.0.1:5002", Dialect::Peerchat)).has_value());
    }

    void testNameAtFindsUserByEndpoint()
    {
        Roster roster("alice");
        roster.login("bob", peer("127.0.0.1:5002"));
        roster.login("carol", peer("127.0.0.1:5003"));
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), *roster.nameAt(endpoint("127.0.0.1:5003")));
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:5004")) == nullptr);
        roster.logout("carol", endpoint("127.0.0.1:5003"));
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:5003")) == nullptr);
    }

    void testNameAtFollowsMovesAndSnapshots()
    {
        Roster roster("alice");
        roster.login("bob", peer("127.0.0.1:5002"));
        roster.login("bob", peer("127.0.0.1:6002"));
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:5002")) == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), *roster.nameAt(endpoint("127.0.0.1:6002")));
        replace(roster, {{"carol", endpoint("127.0.0.1:5003"), "peerchat/3"}});
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:6002")) == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), *roster.nameAt(endpoint("127.0.0.1:5003")));
    }

    void testNameAtKeepsSecondUserAtSharedEndpoint()
    {
        // A seed user took over another's endpoint before the first one's logout came.
        Roster roster("alice");
        roster.login("s1", peer("127.0.0.1:5002", Dialect::Seed));
        roster.login("s2", peer("127.0.0.1:5002", Dialect::Seed));
        roster.logout("s1", endpoint("127.0.0.1:5002"));
        CPPUNIT_ASSERT_EQUAL(std::string("s2"), *roster.nameAt(endpoint("127.0.0.1:5002")));
        roster.logout("s2", endpoint("127.0.0.1:5002"));
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:5002")) == nullptr);
    }

    void testDotNetUsersKnownByAddress()
    {
        Roster roster("alice");
        const Poco::Net::IPAddress host("127.0.0.3");
        CPPUNIT_ASSERT(!roster.hasDotNetAt(host));
        roster.login("dn1", peer("127.0.0.3:5001", Dialect::DotNet));
        roster.login("dn2", peer("127.0.0.3:5002", Dialect::DotNet));
        roster.login("seed", peer("127.0.0.4:5001", Dialect::Seed));
        CPPUNIT_ASSERT(roster.hasDotNetAt(host));
        CPPUNIT_ASSERT(!roster.hasDotNetAt(Poco::Net::IPAddress("127.0.0.4")));
        roster.logout("dn1", endpoint("127.0.0.3:5001"));
        CPPUNIT_ASSERT(roster.hasDotNetAt(host));
        roster.logout("dn2", endpoint("127.0.0.3:5002"));
        CPPUNIT_ASSERT(!roster.hasDotNetAt(host));
        replace(roster, {{"dn3", endpoint("127.0.0.3:5003"), "dotnet"}});
        CPPUNIT_ASSERT(roster.hasDotNetAt(host));
        replace(roster, {});
        CPPUNIT_ASSERT(!roster.hasDotNetAt(host));
    }

    void testPresenceNumberOnlyAdvances()
    {
        Roster roster("alice");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), roster.presenceSeq());
        CPPUNIT_ASSERT(roster.advance(2));
        CPPUNIT_ASSERT(!roster.advance(2));
        CPPUNIT_ASSERT(!roster.advance(1));
        CPPUNIT_ASSERT(roster.advance(5));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), roster.presenceSeq());
    }

    void testSnapshotOlderThanAskedForRefusedWithinRun()
    {
        Roster roster("alice");
        CPPUNIT_ASSERT(roster.replace({{"bob", endpoint("127.0.0.1:5002"), "seed"}}, kEpoch, 5, 0));
        CPPUNIT_ASSERT(roster.advance(6));
        // Asked for at 6: a snapshot at 4 is not what indexd wrote after the request.
        CPPUNIT_ASSERT(!roster.replace({}, kEpoch, 4, 6));
        CPPUNIT_ASSERT(roster.find("bob") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), roster.presenceSeq());
        // Asked for at 5 and written then, while announcement 6 was on its way: taken, and 6 is applied again.
        CPPUNIT_ASSERT(roster.replace({}, kEpoch, 5, 5));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), roster.presenceSeq());
        CPPUNIT_ASSERT(roster.advance(6));
    }

    void testSnapshotOfAnotherRunCountsAfresh()
    {
        Roster roster("alice");
        CPPUNIT_ASSERT(roster.replace({}, kEpoch, 9, 0));
        peerchat::Epoch next = kEpoch;
        next[0] = 9;
        CPPUNIT_ASSERT(roster.replace({{"bob", endpoint("127.0.0.1:5002"), "seed"}}, next, 1, 9));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), roster.presenceSeq());
        CPPUNIT_ASSERT(roster.find("bob") != nullptr);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterTest);
