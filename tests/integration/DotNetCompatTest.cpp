// A client that behaves like the seed's published .NET program (UTF-16LE
// datagrams from throwaway sockets, listening on the endpoint it logged in
// with, varint-framed roster) shares a network with peerds and with UTF-8 seed
// clients, all in legacy mode (--legacy); peerd marks it and its lines
// unverified.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "LocalClient.h"
#include "SeedClient.h"

#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <string>

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
    CPPUNIT_TEST(testDotNetClientReadsRosterWithPeerd);
    CPPUNIT_TEST(testDotNetClientSeesPeerdComeAndGo);
    CPPUNIT_TEST(testPeerdSeesDotNetDialect);
    CPPUNIT_TEST(testDotNetSpeaksFirst);
    CPPUNIT_TEST(testPeerdSpeaksFirstInUtf16);
    CPPUNIT_TEST(testDotNetAndSeedClientSeeEachOther);
    CPPUNIT_TEST_SUITE_END();

public:
    void testDotNetClientReadsRosterWithPeerd()
    {
        ChatNetwork net{ChatNetwork::Wire::Legacy};
        net.startPeerd("alice");
        net.attachOnline("alice");
        SeedClient dn(SeedClient::Mode::DotNet);
        const auto port = dn.login("dn", net.index());
        CPPUNIT_ASSERT(port);
        CPPUNIT_ASSERT_EQUAL(net.rosterPort("dotnet-roster"), *port);
        // The roster its login read lists it: that connection is what put it online.
        const std::string roster = dn.roster();
        CPPUNIT_ASSERT_MESSAGE(roster, roster.find("alice," + net.udpOf("alice") + ";") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(roster, roster.find("dn," + dn.endpoint() + ";") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(roster, roster.size() >= 4 && roster.substr(roster.size() - 4) == ";end");
    }

    void testDotNetClientSeesPeerdComeAndGo()
    {
        ChatNetwork net{ChatNetwork::Wire::Legacy};
        SeedClient dn(SeedClient::Mode::DotNet);
        CPPUNIT_ASSERT(dn.login("dn", net.index()));
        DaemonProcess& bob = net.startPeerd("bob");
        const auto login = dn.receiveStartingWith("login,");
        CPPUNIT_ASSERT(login);
        CPPUNIT_ASSERT_EQUAL("login,bob," + net.udpOf("bob"), *login);

        // Once bob's peerd has its welcome, it has the session its logout is sealed in.
        net.attachOnline("bob");
        bob.signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, bob.waitExit());
        const auto logout = dn.receiveStartingWith("logout,");
        CPPUNIT_ASSERT(logout);
        CPPUNIT_ASSERT_EQUAL("logout,bob," + net.udpOf("bob"), *logout);
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

    void testPeerdSpeaksFirstInUtf16()
    {
        DotNetAndAlice setup;
        setup.alice->sendLine(sendRequest("dn", "alice first, 你好"));
        const auto talk = setup.dn.receiveStartingWith("talk,");
        CPPUNIT_ASSERT_MESSAGE("the .NET client never got alice's talk (or not in UTF-16LE)", talk);
        CPPUNIT_ASSERT_MESSAGE(*talk, isPeerdTalk(*talk, "alice", "alice first, 你好"));

        setup.dn.send("talk,15:04:05,dn,dn answers", setup.net.udpOf("alice"));
        CPPUNIT_ASSERT(waitMessage(*setup.alice, "dn answers"));
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
