// A client that behaves like the seed's published .NET program (UTF-16LE
// datagrams from throwaway sockets, listening on the endpoint it logged in
// with, varint-framed roster) shares a network with peerds and with UTF-8 seed
// clients, all in legacy mode (--legacy). A peerchat user shows itself to its
// contacts only, so the .NET client finds no peerd user in its roster nor in
// announcements; peerd users see it online as a stranger, and it chats with
// them both ways (answering the address a peerd user's talk came from), its
// lines held as requests; peerd marks it and its lines unverified.
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

// A network with peerd alice online, a .NET client logged in as dn, and
// alice's client subscribed to dn once alice knows it.
struct DotNetAndAlice
{
    ChatNetwork net{ChatNetwork::Wire::Legacy};
    SeedClient dn{SeedClient::Mode::DotNet};
    std::unique_ptr<LocalClient> alice;

    DotNetAndAlice()
    {
        net.startPeerd("alice");
        alice = net.attachOnline("alice");
        CPPUNIT_ASSERT(dn.login("dn", net.index()));
        CPPUNIT_ASSERT(waitInRoster(*alice, "dn"));
        alice->sendLine(R"({"op":"subscribe","peer":"dn"})");
        CPPUNIT_ASSERT(alice->waitEvent("history"));
    }
};

} // namespace

class DotNetCompatTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(DotNetCompatTest);
    CPPUNIT_TEST(testDotNetRosterLeavesOutPeerdUserWhoSeesDotNetAsStranger);
    CPPUNIT_TEST(testDotNetClientHearsNothingOfPeerdComingAndGoing);
    CPPUNIT_TEST(testPeerdSeesDotNetDialect);
    CPPUNIT_TEST(testDotNetSpeaksFirst);
    CPPUNIT_TEST(testPeerdSpeaksFirstInUtf16DotNetAnswersWhereTalkCameFromHeldAsRequest);
    CPPUNIT_TEST(testDotNetAndSeedClientSeeEachOther);
    CPPUNIT_TEST_SUITE_END();

public:
    // alice (peerd) is online before dn logs in: the roster dn's login reads
    // lists dn and not alice, while alice sees dn online as a stranger (not a
    // contact).
    void testDotNetRosterLeavesOutPeerdUserWhoSeesDotNetAsStranger()
    {
        ChatNetwork net{ChatNetwork::Wire::Legacy};
        net.startPeerd("alice");
        auto alice = net.attachOnline("alice");
        SeedClient dn(SeedClient::Mode::DotNet);
        const auto port = dn.login("dn", net.index());
        CPPUNIT_ASSERT(port);
        CPPUNIT_ASSERT_EQUAL(net.rosterPort("dotnet-roster"), *port);
        // The roster its login read lists it: that connection is what put it online.
        const std::string roster = dn.roster();
        CPPUNIT_ASSERT_MESSAGE(roster, roster.find("dn," + dn.endpoint() + ";") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(roster, roster.size() >= 4 && roster.substr(roster.size() - 4) == ";end");
        CPPUNIT_ASSERT_MESSAGE("the .NET roster lists the peerd user: " + roster,
                               roster.find("alice") == std::string::npos &&
                                   roster.find(net.udpOf("alice")) == std::string::npos);
        CPPUNIT_ASSERT_MESSAGE("alice never saw dn online as a stranger",
                               waitUntil([&] { return onlineAsStranger(*alice, "dn"); }));
    }

    // dn hears nothing of peerd bob logging in or out, while it hears seed2
    // do both: seed2's login and logout come after bob's, so any announcement
    // of bob would have come before them.
    void testDotNetClientHearsNothingOfPeerdComingAndGoing()
    {
        ChatNetwork net{ChatNetwork::Wire::Legacy};
        SeedClient dn(SeedClient::Mode::DotNet);
        CPPUNIT_ASSERT(dn.login("dn", net.index()));
        DaemonProcess& bob = net.startPeerd("bob");
        // Once bob's peerd has its welcome, it has the session its logout is sealed in.
        auto bobClient = net.attachOnline("bob");
        CPPUNIT_ASSERT_MESSAGE("bob never saw dn online", waitInRoster(*bobClient, "dn"));

        SeedClient seed2;
        CPPUNIT_ASSERT(seed2.login("seed2", net.index()));
        CPPUNIT_ASSERT_MESSAGE("seed2's roster lists the peerd user: " + seed2.roster(),
                               seed2.roster().find("bob") == std::string::npos);
        const auto beforeSeed2In = receiveUntil(dn, "login,seed2," + seed2.endpoint());
        CPPUNIT_ASSERT_MESSAGE("dn heard of bob's login", !anyStartsWith(beforeSeed2In, "login,bob,"));

        bobClient.reset();
        bob.signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, bob.waitExit());
        CPPUNIT_ASSERT_MESSAGE("indexd never logged bob out:\n" + net.indexd().log(),
                               waitUntil([&] { return net.indexd().countInLog("logout bob at ") > 0; }));
        seed2.send("logout,seed2," + seed2.endpoint(), net.index());
        const auto beforeSeed2Out = receiveUntil(dn, "logout,seed2," + seed2.endpoint());
        CPPUNIT_ASSERT_MESSAGE("dn heard of bob's logout", !anyStartsWith(beforeSeed2Out, "logout,bob,"));
        CPPUNIT_ASSERT_MESSAGE("dn heard of bob", !anyStartsWith(beforeSeed2Out, "login,bob,"));
    }

    void testPeerdSeesDotNetDialect()
    {
        DotNetAndAlice setup;
        setup.alice->sendLine(R"({"op":"roster"})");
        const auto user = setup.alice->waitEvent("roster")->getArray("users")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("dn"), user->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(setup.dn.endpoint(), user->getValue<std::string>("endpoint"));
        CPPUNIT_ASSERT_EQUAL(std::string("dotnet"), user->getValue<std::string>("dialect"));
        CPPUNIT_ASSERT_EQUAL(std::string("unverified"), user->getValue<std::string>("trust"));
    }

    void testDotNetSpeaksFirst()
    {
        DotNetAndAlice setup;
        setup.dn.send("talk,3:04:05 PM,dn,你好, alice", setup.net.udpOf("alice"));
        const auto received = waitMessage(*setup.alice, "你好, alice");
        CPPUNIT_ASSERT_MESSAGE("alice never got the .NET client's talk", received);
        CPPUNIT_ASSERT_EQUAL(std::string("dn"), received->getObject("line")->getValue<std::string>("from"));
        CPPUNIT_ASSERT_EQUAL(std::string("3:04:05 PM"), received->getObject("line")->getValue<std::string>("sentTime"));
        CPPUNIT_ASSERT(!received->getObject("line")->getValue<bool>("verified"));

        setup.alice->sendLine(sendRequest("dn", "hello, dn 你好"));
        Poco::Net::SocketAddress from;
        const auto reply = setup.dn.receive(std::chrono::seconds(5), &from);
        CPPUNIT_ASSERT_MESSAGE("the .NET client never got alice's talk", reply);
        CPPUNIT_ASSERT_MESSAGE(*reply, isPeerdTalk(*reply, "alice", "hello, dn 你好"));
        CPPUNIT_ASSERT_EQUAL(setup.net.udpOf("alice"), from.toString());
    }

    // The .NET client cannot see alice, but once she writes (in UTF-16LE), it
    // answers the endpoint her talk came from; alice holds its line as a request.
    void testPeerdSpeaksFirstInUtf16DotNetAnswersWhereTalkCameFromHeldAsRequest()
    {
        DotNetAndAlice setup;
        setup.alice->sendLine(sendRequest("dn", "alice first, 你好"));
        Poco::Net::SocketAddress from;
        std::optional<std::string> talk;
        do {
            talk = setup.dn.receive(std::chrono::seconds(5), &from);
        } while (talk && talk->rfind("talk,", 0) != 0);
        CPPUNIT_ASSERT_MESSAGE("the .NET client never got alice's talk (or not in UTF-16LE)", talk);
        CPPUNIT_ASSERT_MESSAGE(*talk, isPeerdTalk(*talk, "alice", "alice first, 你好"));
        CPPUNIT_ASSERT_EQUAL(setup.net.udpOf("alice"), from.toString());

        setup.dn.send("talk,15:04:05,dn,dn answers", from.toString());
        CPPUNIT_ASSERT(waitMessage(*setup.alice, "dn answers"));
        CPPUNIT_ASSERT_MESSAGE("alice does not hold dn's line as a request", heldAsRequest(*setup.alice, "dn"));
    }

    void testDotNetAndSeedClientSeeEachOther()
    {
        ChatNetwork net{ChatNetwork::Wire::Legacy};
        SeedClient seed;
        CPPUNIT_ASSERT(seed.login("seed1", net.index()));
        SeedClient dn(SeedClient::Mode::DotNet);
        CPPUNIT_ASSERT(dn.login("dn", net.index()));

        const auto dnOnline = seed.receiveStartingWith("login,dn,");
        CPPUNIT_ASSERT(dnOnline);
        CPPUNIT_ASSERT_EQUAL("login,dn," + dn.endpoint(), *dnOnline);
        const std::string roster = dn.roster();
        CPPUNIT_ASSERT_MESSAGE(roster, roster.find("seed1," + seed.endpoint() + ";") != std::string::npos);

        SeedClient seed2;
        CPPUNIT_ASSERT(seed2.login("seed2", net.index()));
        const auto seed2Online = dn.receiveStartingWith("login,seed2,");
        CPPUNIT_ASSERT_MESSAGE("the .NET client never saw seed2 in UTF-16LE", seed2Online);
        CPPUNIT_ASSERT_EQUAL("login,seed2," + seed2.endpoint(), *seed2Online);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DotNetCompatTest);
