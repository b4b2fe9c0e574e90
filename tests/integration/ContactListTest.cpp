// Contacts end to end (issue 13): real peerds ask each other to be contacts
// through indexd's mailbox, with the one asked offline at the time; accept,
// decline and block are driven on the local socket as chatui drives them,
// and what each side ends up with is read back from its peerd.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "LocalClient.h"
#include "SecureClient.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <csignal>
#include <string>

using namespace peerchat::test;

namespace {

std::string contactRequest(const std::string& op, const std::string& peer, const std::string& note = {})
{
    return R"({"op":")" + op + R"(","peer":")" + peer + "\"" + (note.empty() ? "" : R"(,"text":")" + note + "\"") +
           "}";
}

// The next contact event about name with relation (and blocked as given).
LocalClient::Object waitContact(LocalClient& client, const std::string& name, const std::string& relation,
                                bool blocked = false)
{
    return client.waitFor([&](const LocalClient::Object& event) {
        if (event->optValue<std::string>("event", "") != "contact") return false;
        const auto contact = event->getObject("contact");
        return contact->getValue<std::string>("name") == name &&
               contact->getValue<std::string>("relation") == relation && contact->getValue<bool>("blocked") == blocked;
    });
}

// name's entry in the contacts of the roster peerd gives client, or nullptr.
LocalClient::Object contactInRoster(LocalClient& client, const std::string& name)
{
    client.sendLine(R"({"op":"roster"})");
    const auto roster = client.waitEvent("roster");
    CPPUNIT_ASSERT_MESSAGE("no roster event", roster);
    const auto contacts = roster->getArray("contacts");
    for (std::size_t i = 0; i < contacts->size(); ++i) {
        if (contacts->getObject(i)->getValue<std::string>("name") == name) return contacts->getObject(i);
    }
    return nullptr;
}

// Starts user's peerd, waits until it is online, and stops it: indexd knows the name from then on.
void registerAndLeave(ChatNetwork& net, const std::string& user)
{
    net.startPeerd(user);
    net.attachOnline(user);
    net.peerd(user).signal(SIGTERM);
    CPPUNIT_ASSERT_EQUAL(0, net.peerd(user).waitExit());
}

// The texts of the lines with peer that client's peerd holds.
std::vector<std::string> textsWith(LocalClient& client, const std::string& peer)
{
    client.sendLine(peerRequest("subscribe", peer));
    const auto history = client.waitFor([&](const LocalClient::Object& event) {
        return event->optValue<std::string>("event", "") == "history" && event->getValue<std::string>("peer") == peer;
    });
    CPPUNIT_ASSERT_MESSAGE("no history for " + peer, history);
    std::vector<std::string> texts;
    const auto lines = history->getArray("lines");
    for (std::size_t i = 0; i < lines->size(); ++i) texts.push_back(lines->getObject(i)->getValue<std::string>("text"));
    return texts;
}

} // namespace

class ContactListTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ContactListTest);
    CPPUNIT_TEST(testRequestToAnOfflineUserIsAcceptedAtItsNextLogin);
    CPPUNIT_TEST(testDeclineReachesTheOneWhoAsked);
    CPPUNIT_TEST(testBlockedUsersRequestsAndLinesVanish);
    CPPUNIT_TEST(testRequestToAnUnknownNameIsDropped);
    CPPUNIT_TEST(testIndexdHoldsTheListEachUserSigned);
    CPPUNIT_TEST(testOwnStatusReachesEveryWindowAndOutlivesARestart);
    CPPUNIT_TEST(testLinesOfAStrangerAreHeldAndListedApart);
    CPPUNIT_TEST(testNonContactLearnsNothingFromIndexd);
    CPPUNIT_TEST(testInvisibleLooksOfflineAndStillChats);
    CPPUNIT_TEST(testStateAndStatusReachEveryWindowOfContacts);
    CPPUNIT_TEST_SUITE_END();

public:
    void testRequestToAnOfflineUserIsAcceptedAtItsNextLogin()
    {
        ChatNetwork net;
        registerAndLeave(net, "bob");
        // alice never saw bob online: her peerd asks indexd for his key.
        net.startPeerd("alice");
        auto alice = net.attachOnline("alice");
        alice->sendLine(contactRequest("add", "bob", "hi bob, it's alice from work"));
        CPPUNIT_ASSERT(waitContact(*alice, "bob", "asked"));

        net.startPeerd("bob");
        auto bob = net.attachOnline("bob");
        CPPUNIT_ASSERT_MESSAGE("bob did not get alice's request:\n" + net.peerd("bob").log(),
                               waitUntil([&] {
                                   const auto entry = contactInRoster(*bob, "alice");
                                   return entry && entry->getValue<std::string>("relation") == "asked-me";
                               }));
        CPPUNIT_ASSERT_EQUAL(std::string("hi bob, it's alice from work"),
                             contactInRoster(*bob, "alice")->getValue<std::string>("note"));

        bob->sendLine(contactRequest("accept", "alice"));
        CPPUNIT_ASSERT(waitContact(*bob, "alice", "contact"));
        CPPUNIT_ASSERT_MESSAGE("alice did not hear bob's acceptance:\n" + net.peerd("alice").log(),
                               waitContact(*alice, "bob", "contact"));

        // Both keep it across a restart.
        net.peerd("bob").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, net.peerd("bob").waitExit());
        net.startPeerd("bob");
        bob = net.attach("bob");
        CPPUNIT_ASSERT_EQUAL(std::string("contact"), contactInRoster(*bob, "alice")->getValue<std::string>("relation"));
    }

    void testDeclineReachesTheOneWhoAsked()
    {
        ChatNetwork net;
        net.startPeerd("bob");
        auto bob = net.attachOnline("bob");
        net.startPeerd("carol");
        auto carol = net.attachOnline("carol");
        carol->sendLine(contactRequest("add", "bob", "remember me?"));
        CPPUNIT_ASSERT(waitContact(*bob, "carol", "asked-me"));
        bob->sendLine(contactRequest("decline", "carol"));
        CPPUNIT_ASSERT(waitContact(*bob, "carol", "none"));
        CPPUNIT_ASSERT_MESSAGE("carol did not hear the decline:\n" + net.peerd("carol").log(),
                               waitContact(*carol, "bob", "none"));
        // Nothing to accept any more.
        bob->sendLine(contactRequest("accept", "carol"));
        const auto error = bob->waitEvent("error");
        CPPUNIT_ASSERT(error);
        CPPUNIT_ASSERT_EQUAL(std::string("accept"), error->getValue<std::string>("op"));
        CPPUNIT_ASSERT_EQUAL(std::string("carol has not asked to be your contact"),
                             error->getValue<std::string>("message"));
    }

    void testBlockedUsersRequestsAndLinesVanish()
    {
        ChatNetwork net;
        net.startPeerd("bob");
        auto bob = net.attachOnline("bob");
        net.startPeerd("mallory");
        auto mallory = net.attachOnline("mallory");
        net.startPeerd("carol");
        auto carol = net.attachOnline("carol");

        mallory->sendLine(contactRequest("add", "bob", "let me in"));
        CPPUNIT_ASSERT(waitContact(*bob, "mallory", "asked-me"));
        bob->sendLine(contactRequest("block", "mallory"));
        CPPUNIT_ASSERT(waitContact(*bob, "mallory", "none", true));

        // mallory asks again and writes; then carol writes, as a marker that
        // what mallory sent before her had its time to arrive.
        mallory->sendLine(contactRequest("add", "bob", "let me in, please"));
        CPPUNIT_ASSERT(textsWith(*mallory, "bob").empty());
        mallory->sendLine(sendRequest("bob", "can you read this?"));
        const auto sent = mallory->waitEvent("sent");
        CPPUNIT_ASSERT(sent);
        // mallory is not bob's contact, so she does not see him online: her
        // line goes through indexd, and shows stored, then delivered (bob's
        // receipt, in mail), as a line to any stranger does; nothing in it
        // tells of the block.
        for (const char* state : {"stored", "delivered"}) {
            CPPUNIT_ASSERT_MESSAGE(std::string("mallory's line did not show ") + state
                                       + ": a block must not show as a line that never arrives",
                                   mallory->waitFor([&](const LocalClient::Object& event) {
                                       return event->optValue<std::string>("event", "") == "status" &&
                                              event->getValue<std::string>("state") == state;
                                   }));
        }
        carol->sendLine(sendRequest("bob", "marker"));
        bob->sendLine(peerRequest("subscribe", "carol"));
        CPPUNIT_ASSERT(bob->waitFor([](const LocalClient::Object& event) {
            if (event->optValue<std::string>("event", "") == "message")
                return event->getObject("line")->getValue<std::string>("text") == "marker";
            if (event->optValue<std::string>("event", "") != "history") return false;
            const auto lines = event->getArray("lines");
            return lines->size() == 1 && lines->getObject(0)->getValue<std::string>("text") == "marker";
        }));
        CPPUNIT_ASSERT(textsWith(*bob, "mallory").empty());
        const auto entry = contactInRoster(*bob, "mallory");
        CPPUNIT_ASSERT(entry && entry->getValue<bool>("blocked"));
        CPPUNIT_ASSERT_EQUAL(std::string("none"), entry->getValue<std::string>("relation"));
        // Nothing told mallory: her request still waits, as far as she can see.
        CPPUNIT_ASSERT_EQUAL(std::string("asked"), contactInRoster(*mallory, "bob")->getValue<std::string>("relation"));
    }

    void testIndexdHoldsTheListEachUserSigned()
    {
        ChatNetwork net(ChatNetwork::Wire::Secure, {"--log-level", "debug"});
        registerAndLeave(net, "bob");
        net.startPeerd("alice");
        auto alice = net.attachOnline("alice");
        CPPUNIT_ASSERT(net.indexd().waitForLog("contacts of alice, version"));
        alice->sendLine(contactRequest("add", "bob"));
        CPPUNIT_ASSERT(waitContact(*alice, "bob", "asked"));
        // A request lets bob see alice once he accepts: alice declares him now.
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), net.indexd().waitForLog(": bob\n"));
        alice->sendLine(contactRequest("block", "bob"));
        CPPUNIT_ASSERT(waitContact(*alice, "bob", "asked", true));
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), waitUntil([&] {
            const std::string log = net.indexd().log();
            const std::size_t last = log.rfind("contacts of alice, version");
            return last != std::string::npos && log.compare(log.find(": ", last), 7, ": none\n") == 0;
        }));
    }

    void testLinesOfAStrangerAreHeldAndListedApart()
    {
        ChatNetwork net;
        net.startPeerd("bob");
        auto bob = net.attachOnline("bob");
        net.startPeerd("erin");
        auto erin = net.attachOnline("erin");
        // erin's window on the conversation hears how her line fares.
        subscribeTo(*erin, "bob");
        erin->sendLine(sendRequest("bob", "hi bob, we met at the conference"));
        CPPUNIT_ASSERT(bob->waitFor([](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "unread" && event->getValue<std::string>("peer") == "erin";
        }));
        // erin never sees bob online (they are no contacts): her line went
        // through indexd, and bob's receipt, through indexd too, tells her it
        // was delivered.
        CPPUNIT_ASSERT_MESSAGE(net.peerd("erin").log(), erin->waitFor([](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "status" && event->getValue<std::string>("state") == "delivered";
        }));
        bob->sendLine(peerRequest("read", "erin"));
        // Read, erin's lines are still held, and a window opened later lists her apart from contacts.
        auto later = net.attach("bob");
        later->sendLine(R"({"op":"roster"})");
        const auto roster = later->waitEvent("roster");
        CPPUNIT_ASSERT(roster);
        const auto held = roster->getArray("held");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), held->size());
        CPPUNIT_ASSERT_EQUAL(std::string("erin"), held->getElement<std::string>(0));
        CPPUNIT_ASSERT(roster->getArray("contacts")->size() == 0);
        CPPUNIT_ASSERT(textsWith(*later, "erin") == std::vector<std::string>{"hi bob, we met at the conference"});
        // Once erin is blocked, she is listed as blocked, not as held.
        bob->sendLine(contactRequest("block", "erin"));
        CPPUNIT_ASSERT(waitContact(*bob, "erin", "none", true));
        later->sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), later->waitEvent("roster")->getArray("held")->size());
    }

    void testOwnStatusReachesEveryWindowAndOutlivesARestart()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        auto first = net.attachOnline("alice");
        auto second = net.attach("alice");
        const auto isSelf = [](const std::string& state, const std::string& text) {
            return [state, text](const LocalClient::Object& event) {
                return event->optValue<std::string>("event", "") == "self" &&
                       event->getValue<std::string>("state") == state && event->getValue<std::string>("text") == text &&
                       !event->getValue<bool>("away");
            };
        };
        CPPUNIT_ASSERT(second->waitFor(isSelf("online", "")));
        first->sendLine(R"({"op":"status","state":"away","text":"back at 3, 你好"})");
        CPPUNIT_ASSERT(first->waitFor(isSelf("away", "back at 3, 你好")));
        CPPUNIT_ASSERT(second->waitFor(isSelf("away", "back at 3, 你好")));
        first->sendLine(R"({"op":"status","state":"sleepy"})");
        const auto error = first->waitEvent("error");
        CPPUNIT_ASSERT(error && error->getValue<std::string>("message").find("state") != std::string::npos);

        net.peerd("alice").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, net.peerd("alice").waitExit());
        net.startPeerd("alice");
        auto again = net.attach("alice");
        CPPUNIT_ASSERT(again->waitFor(isSelf("away", "back at 3, 你好")));
    }

    // mallory speaks peerchat/3 herself (SecureClient, not peerd) and lists
    // alice as her contact; alice never listed her. Whatever alice does,
    // indexd tells mallory nothing of her: not online, not where, not gone.
    void testNonContactLearnsNothingFromIndexd()
    {
        ChatNetwork net(ChatNetwork::Wire::Secure, {"--log-level", "debug"});
        net.startPeerd("alice");
        net.startPeerd("bob");
        auto alice = net.attachOnline("alice");
        auto bob = net.attachOnline("bob");
        CPPUNIT_ASSERT(befriend(*alice, "alice", *bob, "bob"));

        SecureClient mallory("mallory");
        CPPUNIT_ASSERT(mallory.login(net.index()).ok());
        mallory.declare({"alice", "bob"});
        std::vector<SecureClient::Received> heard;
        const auto snapshot = mallory.receiveInner("snapshot");
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), snapshot);
        heard.push_back(*snapshot);
        // alice leaves and comes back, and bob sees it; she has a new endpoint.
        const std::string before = net.udpOf("alice");
        net.peerd("alice").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, net.peerd("alice").waitExit());
        CPPUNIT_ASSERT(waitPresence(*bob, "alice", false));
        net.startPeerd("alice");
        alice = net.attachOnline("alice");
        CPPUNIT_ASSERT(waitPresence(*bob, "alice", true));
        // mallory asks to be introduced, and keeps her login alive meanwhile.
        mallory.sendToIndex(peerchat::Punch{"alice"});
        mallory.sendToIndex(peerchat::Alive{"mallory", 1});
        CPPUNIT_ASSERT(net.indexd().waitForLog("punch of alice by mallory: mallory does not see alice"));
        while (auto received = mallory.receive(std::chrono::milliseconds(500))) heard.push_back(*received);

        for (const auto& received : heard) {
            for (const std::string& endpoint : {before, net.udpOf("alice")})
                CPPUNIT_ASSERT_MESSAGE("mallory got alice's endpoint", received.bytes.find(endpoint) == std::string::npos);
            for (const auto& inner : received.bundle) {
                const std::string text = peerchat::Protocol::encode(inner);
                CPPUNIT_ASSERT_MESSAGE("mallory heard: " + text, text.find("alice") == std::string::npos);
                CPPUNIT_ASSERT_MESSAGE("mallory heard: " + text, !std::holds_alternative<peerchat::Meet>(inner));
            }
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), std::get<peerchat::Snapshot>(snapshot->bundle.front()).count);
    }

    void testInvisibleLooksOfflineAndStillChats()
    {
        ChatPair pair;
        subscribeTo(*pair.alice, "bob");
        subscribeTo(*pair.bob, "alice");
        pair.alice->sendLine(R"({"op":"status","state":"invisible"})");
        CPPUNIT_ASSERT_MESSAGE(pair.net.peerd("bob").log(), waitPresence(*pair.bob, "alice", false));
        const auto online = rosterNames(*pair.bob);
        CPPUNIT_ASSERT(std::find(online.begin(), online.end(), "alice") == online.end());
        // She can still write, and be answered: lines to one who looks
        // offline go through indexd, which hands them over at once.
        pair.alice->sendLine(sendRequest("bob", "it's me, just hiding"));
        CPPUNIT_ASSERT_MESSAGE(pair.net.peerd("alice").log(), waitMessage(*pair.bob, "it's me, just hiding"));
        pair.bob->sendLine(sendRequest("alice", "hi, invisible alice"));
        CPPUNIT_ASSERT_MESSAGE(pair.net.peerd("bob").log(), waitMessage(*pair.alice, "hi, invisible alice"));
        // She still sees bob online.
        CPPUNIT_ASSERT(waitInRoster(*pair.alice, "bob"));
        pair.alice->sendLine(R"({"op":"status","state":"online"})");
        CPPUNIT_ASSERT(waitPresence(*pair.bob, "alice", true));
    }

    void testStateAndStatusReachEveryWindowOfContacts()
    {
        ChatPair pair;
        auto bobsOther = pair.net.attach("bob");
        pair.alice->sendLine(R"({"op":"status","state":"busy","text":"in a meeting, back at 3"})");
        for (LocalClient* window : {pair.bob.get(), bobsOther.get()}) {
            const auto seen = window->waitFor([](const LocalClient::Object& event) {
                if (event->optValue<std::string>("event", "") != "presence") return false;
                const auto user = event->getObject("user");
                return user->getValue<std::string>("name") == "alice" && event->getValue<bool>("online") &&
                       user->getValue<std::string>("state") == "busy" &&
                       user->getValue<std::string>("status") == "in a meeting, back at 3";
            });
            CPPUNIT_ASSERT_MESSAGE(pair.net.peerd("bob").log(), seen);
        }
        // A window opened later finds it in the roster.
        auto later = pair.net.attach("bob");
        const auto users = rosterUsers(*later);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), users->size());
        CPPUNIT_ASSERT_EQUAL(std::string("busy"), users->getObject(0)->getValue<std::string>("state"));
        CPPUNIT_ASSERT_EQUAL(std::string("in a meeting, back at 3"),
                             users->getObject(0)->getValue<std::string>("status"));
    }

    void testRequestToAnUnknownNameIsDropped()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        auto alice = net.attachOnline("alice");
        alice->sendLine(contactRequest("add", "nobodyhere"));
        CPPUNIT_ASSERT(waitContact(*alice, "nobodyhere", "asked"));
        const auto error = alice->waitEvent("error");
        CPPUNIT_ASSERT_MESSAGE("no error for an unknown name:\n" + net.peerd("alice").log(), error);
        CPPUNIT_ASSERT_EQUAL(std::string("add"), error->getValue<std::string>("op"));
        CPPUNIT_ASSERT(error->getValue<std::string>("message").find("indexd knows no user named nobodyhere") == 0);
        CPPUNIT_ASSERT(waitContact(*alice, "nobodyhere", "none"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ContactListTest);
