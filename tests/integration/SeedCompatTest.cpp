// A client that speaks only the seed's protocol (UTF-8, one UDP socket, seed
// text roster) shares a network with peerds, all in legacy mode (--legacy).
// A peerchat user shows itself to its contacts only, so the seed client finds
// no peerd user in its roster nor in announcements; peerd users see it online
// as a stranger, and it chats with them both ways (answering the endpoint a
// peerd user's talk came from), its lines held as requests; peerd marks it
// and its lines unverified.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "LegacyWatch.h"
#include "LocalClient.h"
#include "SeedClient.h"
#include "Wait.h"

#include <Poco/JSON/Array.h>
#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

using namespace peerchat::test;

namespace {

// A network with peerd alice online, a seed client logged in as seed1, and
// alice's client subscribed to seed1 once alice knows it.
struct SeedAndAlice
{
    ChatNetwork net{ChatNetwork::Wire::Legacy};
    SeedClient seed;
    std::unique_ptr<LocalClient> alice;

    SeedAndAlice()
    {
        net.startPeerd("alice");
        alice = net.attachOnline("alice");
        CPPUNIT_ASSERT(seed.login("seed1", net.index()));
        CPPUNIT_ASSERT(waitInRoster(*alice, "seed1"));
        alice->sendLine(R"({"op":"subscribe","peer":"seed1"})");
        CPPUNIT_ASSERT(alice->waitEvent("history"));
    }
};

} // namespace

class SeedCompatTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(SeedCompatTest);
    CPPUNIT_TEST(testSeedRosterLeavesOutPeerdUserWhoSeesSeedAsStranger);
    CPPUNIT_TEST(testSeedClientHearsNothingOfPeerdComingAndGoing);
    CPPUNIT_TEST(testPeerdSeesSeedClientAsSeedDialect);
    CPPUNIT_TEST(testSeedSpeaksFirst);
    CPPUNIT_TEST(testPeerdSpeaksFirstSeedAnswersWhereTalkCameFromHeldAsRequest);
    CPPUNIT_TEST(testCommasAndCjkSurviveBothWays);
    CPPUNIT_TEST_SUITE_END();

public:
    // alice (peerd) is online before seed1 logs in: the roster seed1's login
    // reads lists seed1 and not alice, while alice sees seed1 online as a
    // stranger (not a contact).
    void testSeedRosterLeavesOutPeerdUserWhoSeesSeedAsStranger()
    {
        ChatNetwork net{ChatNetwork::Wire::Legacy};
        net.startPeerd("alice");
        auto alice = net.attachOnline("alice");
        SeedClient seed;
        const auto port = seed.login("seed1", net.index());
        CPPUNIT_ASSERT(port);
        CPPUNIT_ASSERT_EQUAL(net.rosterPort("seed-roster"), *port);
        // The roster its login read lists it: that connection is what put it online.
        const std::string roster = seed.roster();
        CPPUNIT_ASSERT_MESSAGE(roster, roster.find("seed1," + seed.endpoint() + ";") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(roster, roster.size() >= 4 && roster.substr(roster.size() - 4) == ";end");
        CPPUNIT_ASSERT_MESSAGE("the seed roster lists the peerd user: " + roster,
                               roster.find("alice") == std::string::npos &&
                                   roster.find(net.udpOf("alice")) == std::string::npos);
        CPPUNIT_ASSERT_MESSAGE("alice never saw seed1 online as a stranger",
                               waitUntil([&] { return onlineAsStranger(*alice, "seed1"); }));
    }

    // seed1 hears nothing of peerd bob logging in or out, while it hears
    // seed2 do both: seed2's login and logout come after bob's, so any
    // announcement of bob would have come before them.
    void testSeedClientHearsNothingOfPeerdComingAndGoing()
    {
        ChatNetwork net{ChatNetwork::Wire::Legacy};
        SeedClient seed;
        CPPUNIT_ASSERT(seed.login("seed1", net.index()));
        DaemonProcess& bob = net.startPeerd("bob");
        // Once bob's peerd has its welcome, it has the session its logout is sealed in.
        auto bobClient = net.attachOnline("bob");
        CPPUNIT_ASSERT_MESSAGE("bob never saw seed1 online", waitInRoster(*bobClient, "seed1"));

        SeedClient seed2;
        CPPUNIT_ASSERT(seed2.login("seed2", net.index()));
        CPPUNIT_ASSERT_MESSAGE("seed2's roster lists the peerd user: " + seed2.roster(),
                               seed2.roster().find("bob") == std::string::npos);
        const auto beforeSeed2In = receiveUntil(seed, "login,seed2," + seed2.endpoint());
        CPPUNIT_ASSERT_MESSAGE("seed1 heard of bob's login", !anyStartsWith(beforeSeed2In, "login,bob,"));

        bobClient.reset();
        bob.signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, bob.waitExit());
        CPPUNIT_ASSERT_MESSAGE("indexd never logged bob out:\n" + net.indexd().log(),
                               waitUntil([&] { return net.indexd().countInLog("logout bob at ") > 0; }));
        seed2.send("logout,seed2," + seed2.endpoint(), net.index());
        const auto beforeSeed2Out = receiveUntil(seed, "logout,seed2," + seed2.endpoint());
        CPPUNIT_ASSERT_MESSAGE("seed1 heard of bob's logout", !anyStartsWith(beforeSeed2Out, "logout,bob,"));
        CPPUNIT_ASSERT_MESSAGE("seed1 heard of bob", !anyStartsWith(beforeSeed2Out, "login,bob,"));
    }

    void testPeerdSeesSeedClientAsSeedDialect()
    {
        SeedAndAlice setup;
        setup.alice->sendLine(R"({"op":"roster"})");
        const auto roster = setup.alice->waitEvent("roster");
        const auto seed = roster->getArray("users")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("seed1"), seed->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(setup.seed.endpoint(), seed->getValue<std::string>("endpoint"));
        CPPUNIT_ASSERT_EQUAL(std::string("seed"), seed->getValue<std::string>("dialect"));
        CPPUNIT_ASSERT_EQUAL(std::string("unverified"), seed->getValue<std::string>("trust"));
    }

    void testSeedSpeaksFirst()
    {
        SeedAndAlice setup;
        setup.seed.send("talk,3:04:05 PM,seed1,hello alice", setup.net.udpOf("alice"));
        const auto received = waitMessage(*setup.alice, "hello alice");
        CPPUNIT_ASSERT_MESSAGE("alice never got the seed client's talk", received);
        CPPUNIT_ASSERT_EQUAL(std::string("seed1"), received->getObject("line")->getValue<std::string>("from"));
        CPPUNIT_ASSERT_EQUAL(std::string("3:04:05 PM"), received->getObject("line")->getValue<std::string>("sentTime"));
        CPPUNIT_ASSERT(!received->getObject("line")->getValue<bool>("verified"));

        setup.alice->sendLine(sendRequest("seed1", "hello seed"));
        const auto reply = setup.seed.receiveStartingWith("talk,");
        CPPUNIT_ASSERT_MESSAGE("the seed client never got alice's talk", reply);
        CPPUNIT_ASSERT_MESSAGE(*reply, isPeerdTalk(*reply, "alice", "hello seed"));
    }

    // The seed client cannot see alice, but once she writes, it answers the
    // endpoint her talk came from; alice holds its line as a request.
    void testPeerdSpeaksFirstSeedAnswersWhereTalkCameFromHeldAsRequest()
    {
        SeedAndAlice setup;
        setup.alice->sendLine(sendRequest("seed1", "alice first"));
        Poco::Net::SocketAddress from;
        std::optional<std::string> talk;
        do {
            talk = setup.seed.receive(std::chrono::seconds(5), &from);
        } while (talk && talk->rfind("talk,", 0) != 0);
        CPPUNIT_ASSERT_MESSAGE("the seed client never got alice's talk", talk);
        CPPUNIT_ASSERT_MESSAGE(*talk, isPeerdTalk(*talk, "alice", "alice first"));
        CPPUNIT_ASSERT_EQUAL(setup.net.udpOf("alice"), from.toString());

        setup.seed.send("talk,15:04:05,seed1,seed answers", from.toString());
        CPPUNIT_ASSERT(waitMessage(*setup.alice, "seed answers"));
        CPPUNIT_ASSERT_MESSAGE("alice does not hold seed1's line as a request", heldAsRequest(*setup.alice, "seed1"));
    }

    void testCommasAndCjkSurviveBothWays()
    {
        SeedAndAlice setup;
        setup.seed.send("talk,15:04:05,seed1,你好, world, again", setup.net.udpOf("alice"));
        CPPUNIT_ASSERT(waitMessage(*setup.alice, "你好, world, again"));

        setup.alice->sendLine(sendRequest("seed1", "你好, world"));
        const auto talk = setup.seed.receiveStartingWith("talk,");
        CPPUNIT_ASSERT(talk);
        CPPUNIT_ASSERT_MESSAGE(*talk, isPeerdTalk(*talk, "alice", "你好, world"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SeedCompatTest);
