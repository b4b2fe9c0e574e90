#include "PeerTestData.h"
#include "Roster.h"

#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <string>

using peerchat::Dialect;
using peerchat::Here;
using peerchat::PeerKeys;
using peerchat::PresenceState;
using peerchat::Roster;
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

// peer at the endpoint written as text, showing state and status.
Roster::Peer showing(const std::string& text, PresenceState state, const std::string& status = "")
{
    Roster::Peer shown = peer(text);
    shown.state = state;
    shown.status = status;
    return shown;
}

} // namespace

class RosterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RosterTest);
    CPPUNIT_TEST(testReplaceLeavesOutSelf);
    CPPUNIT_TEST(testReplaceReportsArrivalsDeparturesMovesAndStatus);
    CPPUNIT_TEST(testPeerOfReadsAHere);
    CPPUNIT_TEST(testHereAddsUserOnce);
    CPPUNIT_TEST(testHereAtNewEndpointMovesUser);
    CPPUNIT_TEST(testHereWithNewStateOrStatusChangesStatusOnly);
    CPPUNIT_TEST(testHereOfSelfChangesNothing);
    CPPUNIT_TEST(testGoneRemovesUserByName);
    CPPUNIT_TEST(testGoneOfUnknownUserChangesNothing);
    CPPUNIT_TEST(testReplaceKeepsKeys);
    CPPUNIT_TEST(testHereWithNewKeysIsAChange);
    CPPUNIT_TEST(testNameAtFindsUserByEndpoint);
    CPPUNIT_TEST(testNameAtFollowsMovesAndSnapshots);
    CPPUNIT_TEST(testNameAtKeepsSecondUserAtSharedEndpoint);
    CPPUNIT_TEST(testHolderOfFindsAnotherUserWithTheKey);
    CPPUNIT_TEST(testDotNetUsersKnownByAddress);
    CPPUNIT_TEST_SUITE_END();

public:
    void testReplaceLeavesOutSelf()
    {
        Roster roster("alice");
        const auto changes = roster.replace({{"alice", peer("127.0.0.1:5001")}, {"bob", peer("127.0.0.1:5002")}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), changes.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), changes[0].name);
        CPPUNIT_ASSERT(changes[0].online && !changes[0].statusOnly);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), roster.peers().size());
        CPPUNIT_ASSERT(roster.find("alice") == nullptr);
        CPPUNIT_ASSERT(roster.find("bob") != nullptr);
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:5001")) == nullptr);
    }

    void testReplaceReportsArrivalsDeparturesMovesAndStatus()
    {
        Roster roster("alice");
        roster.replace({{"bob", peer("127.0.0.1:5002")},
                        {"carol", peer("127.0.0.1:5003", Dialect::Seed)},
                        {"dave", peer("127.0.0.1:5004", Dialect::Seed)},
                        {"frank", peer("127.0.0.1:5006")}});
        const auto changes = roster.replace({{"carol", peer("127.0.0.1:6003", Dialect::Seed)},
                                             {"dave", peer("127.0.0.1:5004", Dialect::Seed)},
                                             {"erin", peer("127.0.0.1:5005", Dialect::DotNet)},
                                             {"frank", showing("127.0.0.1:5006", PresenceState::Busy, "out")}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), changes.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), changes[0].name);
        CPPUNIT_ASSERT(!changes[0].online);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), changes[1].name);
        CPPUNIT_ASSERT(changes[1].online && !changes[1].statusOnly);
        CPPUNIT_ASSERT(changes[1].peer.endpoint == endpoint("127.0.0.1:6003"));
        CPPUNIT_ASSERT_EQUAL(std::string("erin"), changes[2].name);
        CPPUNIT_ASSERT(changes[2].online && !changes[2].statusOnly);
        CPPUNIT_ASSERT_EQUAL(std::string("frank"), changes[3].name);
        CPPUNIT_ASSERT(changes[3].online && changes[3].statusOnly);
        CPPUNIT_ASSERT(changes[3].peer.state == PresenceState::Busy);
        CPPUNIT_ASSERT_EQUAL(std::string("out"), changes[3].peer.status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), roster.peers().size());
        CPPUNIT_ASSERT(roster.find("bob") == nullptr);
        CPPUNIT_ASSERT(roster.replace(std::map<std::string, Roster::Peer>(roster.peers())).empty());
    }

    void testPeerOfReadsAHere()
    {
        const Here bob{7, "bob", endpoint("127.0.0.1:5002"), "peerchat/3", keys(1, 2), PresenceState::Away, "back at 3"};
        const Roster::Peer peerchat = Roster::peerOf(bob);
        CPPUNIT_ASSERT(peerchat.endpoint == endpoint("127.0.0.1:5002"));
        CPPUNIT_ASSERT(peerchat.dialect == Dialect::Peerchat);
        CPPUNIT_ASSERT(peerchat.keys && peerchat.keys->kx == keys(1, 2).kx);
        CPPUNIT_ASSERT(peerchat.state == PresenceState::Away);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3"), peerchat.status);
        for (const auto& [token, dialect] : {std::pair{"dotnet", Dialect::DotNet}, std::pair{"seed", Dialect::Seed},
                                             std::pair{"future/7", Dialect::Seed}, std::pair{"", Dialect::Seed}}) {
            const Here other{1, "carol", endpoint("127.0.0.1:5003"), token, std::nullopt};
            CPPUNIT_ASSERT(Roster::peerOf(other).dialect == dialect);
        }
    }

    void testHereAddsUserOnce()
    {
        Roster roster("alice");
        const auto first = roster.here("bob", peer("127.0.0.1:5002"));
        CPPUNIT_ASSERT(first.has_value());
        CPPUNIT_ASSERT(first->online && !first->statusOnly);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), first->name);
        CPPUNIT_ASSERT(!roster.here("bob", peer("127.0.0.1:5002")).has_value());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), roster.peers().size());
    }

    void testHereAtNewEndpointMovesUser()
    {
        Roster roster("alice");
        roster.here("bob", peer("127.0.0.1:5002"));
        const auto moved = roster.here("bob", peer("127.0.0.1:7002", Dialect::DotNet));
        CPPUNIT_ASSERT(moved.has_value() && !moved->statusOnly);
        CPPUNIT_ASSERT(moved->peer.endpoint == endpoint("127.0.0.1:7002"));
        CPPUNIT_ASSERT(roster.find("bob")->endpoint == endpoint("127.0.0.1:7002"));
        CPPUNIT_ASSERT(roster.find("bob")->dialect == Dialect::DotNet);
    }

    void testHereWithNewStateOrStatusChangesStatusOnly()
    {
        Roster roster("alice");
        roster.here("bob", peer("127.0.0.1:5002"));
        const auto away = roster.here("bob", showing("127.0.0.1:5002", PresenceState::Away));
        CPPUNIT_ASSERT(away.has_value() && away->online && away->statusOnly);
        const auto message = roster.here("bob", showing("127.0.0.1:5002", PresenceState::Away, "back at 3, 你好"));
        CPPUNIT_ASSERT(message.has_value() && message->statusOnly);
        CPPUNIT_ASSERT(roster.find("bob")->state == PresenceState::Away);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3, 你好"), roster.find("bob")->status);
        CPPUNIT_ASSERT(!roster.here("bob", showing("127.0.0.1:5002", PresenceState::Away, "back at 3, 你好")));
        // Moved and busy at once: more than the status changed.
        const auto moved = roster.here("bob", showing("127.0.0.1:6002", PresenceState::Busy));
        CPPUNIT_ASSERT(moved.has_value() && !moved->statusOnly);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), *roster.nameAt(endpoint("127.0.0.1:6002")));
    }

    void testHereOfSelfChangesNothing()
    {
        Roster roster("alice");
        CPPUNIT_ASSERT(!roster.here("alice", peer("127.0.0.1:5001")).has_value());
        CPPUNIT_ASSERT(roster.peers().empty());
    }

    void testGoneRemovesUserByName()
    {
        Roster roster("alice");
        roster.here("bob", peer("127.0.0.1:5002"));
        const auto change = roster.gone("bob");
        CPPUNIT_ASSERT(change.has_value());
        CPPUNIT_ASSERT(!change->online);
        CPPUNIT_ASSERT(change->peer.endpoint == endpoint("127.0.0.1:5002"));
        CPPUNIT_ASSERT(roster.find("bob") == nullptr);
        CPPUNIT_ASSERT(!roster.gone("bob").has_value());
    }

    void testGoneOfUnknownUserChangesNothing()
    {
        Roster roster("alice");
        roster.here("bob", peer("127.0.0.1:5002"));
        CPPUNIT_ASSERT(!roster.gone("carol").has_value());
        CPPUNIT_ASSERT(!roster.gone("alice").has_value());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), roster.peers().size());
    }

    void testReplaceKeepsKeys()
    {
        Roster roster("alice");
        roster.replace({{"bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(1, 2))},
                        {"dave", peer("127.0.0.1:5004", Dialect::Seed)}});
        CPPUNIT_ASSERT(roster.find("bob")->keys.has_value());
        CPPUNIT_ASSERT(roster.find("bob")->keys->identity == keys(1, 2).identity);
        CPPUNIT_ASSERT(roster.find("bob")->keys->kx == keys(1, 2).kx);
        CPPUNIT_ASSERT(!roster.find("dave")->keys.has_value());
    }

    void testHereWithNewKeysIsAChange()
    {
        Roster roster("alice");
        roster.here("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(1, 2)));
        CPPUNIT_ASSERT(!roster.here("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(1, 2))).has_value());
        // A new login of bob's at the same endpoint brings a new key-exchange key.
        const auto relogin = roster.here("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(1, 3)));
        CPPUNIT_ASSERT(relogin.has_value() && !relogin->statusOnly);
        CPPUNIT_ASSERT(roster.find("bob")->keys->kx == keys(1, 3).kx);
        CPPUNIT_ASSERT(roster.here("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(4, 3))).has_value());
        CPPUNIT_ASSERT(roster.here("bob", peer("127.0.0.1:5002", Dialect::Peerchat)).has_value());
    }

    void testNameAtFindsUserByEndpoint()
    {
        Roster roster("alice");
        roster.here("bob", peer("127.0.0.1:5002"));
        roster.here("carol", peer("127.0.0.1:5003"));
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), *roster.nameAt(endpoint("127.0.0.1:5003")));
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:5004")) == nullptr);
        roster.gone("carol");
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:5003")) == nullptr);
    }

    void testNameAtFollowsMovesAndSnapshots()
    {
        Roster roster("alice");
        roster.here("bob", peer("127.0.0.1:5002"));
        roster.here("bob", peer("127.0.0.1:6002"));
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:5002")) == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), *roster.nameAt(endpoint("127.0.0.1:6002")));
        roster.replace({{"carol", peer("127.0.0.1:5003")}});
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:6002")) == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), *roster.nameAt(endpoint("127.0.0.1:5003")));
    }

    void testNameAtKeepsSecondUserAtSharedEndpoint()
    {
        // A seed user took over another's endpoint before the first one was gone.
        Roster roster("alice");
        roster.here("s1", peer("127.0.0.1:5002", Dialect::Seed));
        roster.here("s2", peer("127.0.0.1:5002", Dialect::Seed));
        roster.gone("s1");
        CPPUNIT_ASSERT_EQUAL(std::string("s2"), *roster.nameAt(endpoint("127.0.0.1:5002")));
        roster.gone("s2");
        CPPUNIT_ASSERT(roster.nameAt(endpoint("127.0.0.1:5002")) == nullptr);
    }

    void testHolderOfFindsAnotherUserWithTheKey()
    {
        Roster roster("alice");
        roster.here("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(1, 2)));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), *roster.holderOf(keys(1, 2).kx, "mallory"));
        CPPUNIT_ASSERT(roster.holderOf(keys(1, 2).kx, "bob") == nullptr);
        // A status change keeps the key where it was; a new key moves it.
        roster.here("bob", Roster::Peer{endpoint("127.0.0.1:5002"), Dialect::Peerchat, keys(1, 2), PresenceState::Busy});
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), *roster.holderOf(keys(1, 2).kx, "mallory"));
        roster.here("bob", peer("127.0.0.1:5002", Dialect::Peerchat, keys(1, 3)));
        CPPUNIT_ASSERT(roster.holderOf(keys(1, 2).kx, "mallory") == nullptr);
        roster.gone("bob");
        CPPUNIT_ASSERT(roster.holderOf(keys(1, 3).kx, "mallory") == nullptr);
    }

    void testDotNetUsersKnownByAddress()
    {
        Roster roster("alice");
        const Poco::Net::IPAddress host("127.0.0.3");
        CPPUNIT_ASSERT(!roster.hasDotNetAt(host));
        roster.here("dn1", peer("127.0.0.3:5001", Dialect::DotNet));
        roster.here("dn2", peer("127.0.0.3:5002", Dialect::DotNet));
        roster.here("seed", peer("127.0.0.4:5001", Dialect::Seed));
        CPPUNIT_ASSERT(roster.hasDotNetAt(host));
        CPPUNIT_ASSERT(!roster.hasDotNetAt(Poco::Net::IPAddress("127.0.0.4")));
        roster.gone("dn1");
        CPPUNIT_ASSERT(roster.hasDotNetAt(host));
        roster.gone("dn2");
        CPPUNIT_ASSERT(!roster.hasDotNetAt(host));
        roster.replace({{"dn3", peer("127.0.0.3:5003", Dialect::DotNet)}});
        CPPUNIT_ASSERT(roster.hasDotNetAt(host));
        roster.replace({});
        CPPUNIT_ASSERT(!roster.hasDotNetAt(host));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterTest);
