// "alice is typing" end to end (issue 13, item 4): a client of alice's peerd
// says alice is typing to bob, and bob's clients in the conversation with
// alice hear it, peer to peer; peerd paces the notices, and sends none when
// the setting is off.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "LocalClient.h"

#include <Poco/JSON/Object.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <string>

using namespace peerchat::test;

namespace {

std::string typingRequest(const std::string& peer)
{
    return R"({"op":"typing","peer":")" + peer + R"("})";
}

bool isTypingFrom(const LocalClient::Object& event, const std::string& peer)
{
    return event->optValue<std::string>("event", "") == "typing" && event->getValue<std::string>("peer") == peer;
}

bool isMessage(const LocalClient::Object& event, const std::string& text)
{
    return event->optValue<std::string>("event", "") == "message" &&
           event->getObject("line")->getValue<std::string>("text") == text;
}

// A client of user's peerd subscribed to peer, its history taken.
std::unique_ptr<LocalClient> conversation(ChatNetwork& net, const std::string& user, const std::string& peer)
{
    auto client = net.attachOnline(user);
    client->sendLine(peerRequest("subscribe", peer));
    CPPUNIT_ASSERT(client->waitEvent("history"));
    return client;
}

// Makes user and peer contacts and waits until each peerd has the other
// online: peerds see only their contacts online (issue 13), and typing
// notices go peer to peer.
void makeContacts(ChatNetwork& net, const std::string& user, const std::string& peer)
{
    auto userClient = net.attachOnline(user);
    auto peerClient = net.attachOnline(peer);
    CPPUNIT_ASSERT_MESSAGE(user + " and " + peer + " never saw each other online:\n" + net.peerd(user).log() +
                               net.peerd(peer).log(),
                           befriend(*userClient, user, *peerClient, peer));
}

} // namespace

class TypingTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(TypingTest);
    CPPUNIT_TEST(testTypingReachesThePeersConversationWindows);
    CPPUNIT_TEST(testNoticesArePaced);
    CPPUNIT_TEST(testTypingOffSendsNothing);
    CPPUNIT_TEST_SUITE_END();

public:
    void testTypingReachesThePeersConversationWindows()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        net.startPeerd("bob");
        makeContacts(net, "alice", "bob");
        auto bobWindow = conversation(net, "bob", "alice");
        auto bobOtherWindow = conversation(net, "bob", "alice");
        auto alice = net.attachOnline("alice");
        alice->sendLine(typingRequest("bob"));
        CPPUNIT_ASSERT_MESSAGE("bob's window did not hear alice typing:\n" + net.peerd("bob").log(),
                               bobWindow->waitFor([](const auto& event) { return isTypingFrom(event, "alice"); }));
        CPPUNIT_ASSERT(bobOtherWindow->waitFor([](const auto& event) { return isTypingFrom(event, "alice"); }));
    }

    void testNoticesArePaced()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        net.startPeerd("bob");
        makeContacts(net, "alice", "bob");
        auto bob = conversation(net, "bob", "alice");
        auto alice = net.attachOnline("alice");
        // A key at a time: one notice, then none until the pace allows.
        for (int key = 0; key < 20; ++key) alice->sendLine(typingRequest("bob"));
        alice->sendLine(sendRequest("bob", "marker"));
        CPPUNIT_ASSERT(bob->waitFor([](const auto& event) { return isMessage(event, "marker"); }));
        int notices = 0;
        while (bob->waitFor([](const auto& event) { return isTypingFrom(event, "alice"); },
                            std::chrono::milliseconds(0)))
            ++notices;
        CPPUNIT_ASSERT_EQUAL(1, notices);
    }

    void testTypingOffSendsNothing()
    {
        ChatNetwork net;
        net.startPeerd("alice", {"--typing=false"});
        net.startPeerd("bob");
        makeContacts(net, "alice", "bob");
        auto bob = conversation(net, "bob", "alice");
        auto alice = net.attachOnline("alice");
        alice->sendLine(typingRequest("bob"));
        alice->sendLine(sendRequest("bob", "marker"));
        CPPUNIT_ASSERT(bob->waitFor([](const auto& event) { return isMessage(event, "marker"); }));
        CPPUNIT_ASSERT(!bob->waitFor([](const auto& event) { return isTypingFrom(event, "alice"); },
                                     std::chrono::milliseconds(0)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TypingTest);
