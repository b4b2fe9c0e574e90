// A client that speaks only the seed's protocol (UTF-8, one UDP socket, seed
// text roster) shares a network with peerds, all in legacy mode (--legacy):
// it sees them in the roster and in presence, and chats with them both ways;
// peerd marks it and its lines unverified.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "LocalClient.h"
#include "SeedClient.h"

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <string>

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
    CPPUNIT_TEST(testSeedClientReadsRosterWithPeerd);
    CPPUNIT_TEST(testSeedClientSeesPeerdComeAndGo);
    CPPUNIT_TEST(testPeerdSeesSeedClientAsSeedDialect);
    CPPUNIT_TEST(testSeedSpeaksFirst);
    CPPUNIT_TEST(testPeerdSpeaksFirst);
    CPPUNIT_TEST(testCommasAndCjkSurviveBothWays);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSeedClientReadsRosterWithPeerd()
    {
        ChatNetwork net{ChatNetwork::Wire::Legacy};
        net.startPeerd("alice");
        net.attachOnline("alice");
        SeedClient seed;
        const auto port = seed.login("seed1", net.index());
        CPPUNIT_ASSERT(port);
        CPPUNIT_ASSERT_EQUAL(net.rosterPort("seed-roster"), *port);
        // The roster its login read lists it: that connection is what put it online.
        const std::string roster = seed.roster();
        CPPUNIT_ASSERT_MESSAGE(roster, roster.find("alice," + net.udpOf("alice") + ";") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(roster, roster.find("seed1," + seed.endpoint() + ";") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(roster, roster.size() >= 4 && roster.substr(roster.size() - 4) == ";end");
    }

    void testSeedClientSeesPeerdComeAndGo()
    {
        ChatNetwork net{ChatNetwork::Wire::Legacy};
        SeedClient seed;
        CPPUNIT_ASSERT(seed.login("seed1", net.index()));
        DaemonProcess& bob = net.startPeerd("bob");
        const auto login = seed.receiveStartingWith("login,");
        CPPUNIT_ASSERT(login);
        CPPUNIT_ASSERT_EQUAL("login,bob," + net.udpOf("bob"), *login);

        // Once bob's peerd has its welcome, it has the session its logout is sealed in.
        net.attachOnline("bob");
        bob.signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, bob.waitExit());
        const auto logout = seed.receiveStartingWith("logout,");
        CPPUNIT_ASSERT(logout);
        CPPUNIT_ASSERT_EQUAL("logout,bob," + net.udpOf("bob"), *logout);
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

    void testPeerdSpeaksFirst()
    {
        SeedAndAlice setup;
        setup.alice->sendLine(sendRequest("seed1", "alice first"));
        const auto talk = setup.seed.receiveStartingWith("talk,");
        CPPUNIT_ASSERT_MESSAGE("the seed client never got alice's talk", talk);
        CPPUNIT_ASSERT_MESSAGE(*talk, isPeerdTalk(*talk, "alice", "alice first"));

        setup.seed.send("talk,15:04:05,seed1,seed answers", setup.net.udpOf("alice"));
        CPPUNIT_ASSERT(waitMessage(*setup.alice, "seed answers"));
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
