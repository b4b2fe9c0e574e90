// peerd end to end: a real indexd and real peerds on loopback, driven through
// their local sockets the way chatui or socat would, and attacked with raw
// datagrams the way a stranger on the network could.
#include "BadDatagrams.h"
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "FakeIndex.h"
#include "LocalClient.h"
#include "SeedClient.h"
#include "SpoofingSender.h"
#include "TempDir.h"
#include "Wait.h"

#include "Fingerprint.h"
#include "KeyFile.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace peerchat::test;
using namespace std::chrono_literals;

namespace {

bool exists(const std::string& path)
{
    struct stat status {};
    return ::lstat(path.c_str(), &status) == 0;
}

std::int64_t nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

LocalClient::Object waitUnread(LocalClient& client, const std::string& peer, int count)
{
    return client.waitFor([&](const LocalClient::Object& event) {
        return event->optValue<std::string>("event", "") == "unread" &&
               event->getValue<std::string>("peer") == peer && event->getValue<int>("count") == count;
    });
}

LocalClient::Object waitState(LocalClient& client, const std::string& state)
{
    return client.waitFor([&](const LocalClient::Object& event) {
        return event->optValue<std::string>("event", "") == "state" && event->getValue<std::string>("state") == state;
    });
}

} // namespace

class PeerdTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PeerdTest);
    CPPUNIT_TEST(testTwoPeersSeeEachOtherAndPresence);
    CPPUNIT_TEST(testTalkBothWays);
    CPPUNIT_TEST(testTwoClientsShareConversation);
    CPPUNIT_TEST(testLateClientGetsHistory);
    CPPUNIT_TEST(testUnreadCountsReachEveryClient);
    CPPUNIT_TEST(testSendToOfflineUserIsQueued);
    CPPUNIT_TEST(testNameOnlineElsewhereIsRefused);
    CPPUNIT_TEST(testNameOfAnotherKeyIsRefused);
    CPPUNIT_TEST(testIdentityKeyCreatedPrivateAndShown);
    CPPUNIT_TEST(testKeyFileReadableByOthersStopsPeerd);
    CPPUNIT_TEST(testRefusalReachesUis);
    CPPUNIT_TEST(testSecondPeerdForSameSocketRefusedNamingPid);
    CPPUNIT_TEST(testStaleSocketReplaced);
    CPPUNIT_TEST(testBadDatagramsChangeNothing);
    CPPUNIT_TEST(testBadLocalLinesGetErrors);
    CPPUNIT_TEST(testRepliesCarryTheRequestId);
    CPPUNIT_TEST(testOverlongLocalLineClosesOnlyThatClient);
    CPPUNIT_TEST(testClientThatDoesNotReadIsDisconnected);
    CPPUNIT_TEST(testClientVanishingMidWriteDoesNotHurt);
    CPPUNIT_TEST(testSigtermLogsOutAndRemovesSocket);
    CPPUNIT_TEST(testGroupMadeOnTheSocketOutlivesAKill);
    CPPUNIT_TEST_SUITE_END();

public:
    void testTwoPeersSeeEachOtherAndPresence()
    {
        ChatPair pair;
        const auto names = rosterNames(*pair.alice);
        CPPUNIT_ASSERT(std::find(names.begin(), names.end(), "alice") == names.end());

        pair.alice->sendLine(R"({"op":"roster"})");
        const auto roster = pair.alice->waitEvent("roster");
        const auto bob = roster->getArray("users")->getObject(0);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), bob->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(pair.net.udpOf("bob"), bob->getValue<std::string>("endpoint"));
        CPPUNIT_ASSERT_EQUAL(std::string("peerchat/3"), bob->getValue<std::string>("dialect"));
        CPPUNIT_ASSERT_EQUAL(std::string("pinned"), bob->getValue<std::string>("trust"));
        // A contact's presence: online, with no status message, as peerd starts.
        CPPUNIT_ASSERT_EQUAL(std::string("online"), bob->getValue<std::string>("state"));
        CPPUNIT_ASSERT_EQUAL(std::string(), bob->getValue<std::string>("status"));

        // Presence goes only to contacts (issue 13): carol becomes alice's
        // contact but not bob's, so alice sees her come and go and bob, who
        // is online on the same indexd all along, never hears of her.
        DaemonProcess& carol = pair.net.startPeerd("carol");
        // Once carol's peerd has its welcome, it has the session its logout is sealed in.
        auto carolClient = pair.net.attachOnline("carol");
        CPPUNIT_ASSERT_MESSAGE("alice and carol do not see each other:\n" + carol.log(),
                               befriend(*pair.alice, "alice", *carolClient, "carol"));
        const auto online = waitPresence(*pair.alice, "carol", true);
        CPPUNIT_ASSERT_MESSAGE("alice never saw carol come", online);
        CPPUNIT_ASSERT_EQUAL(pair.net.udpOf("carol"), online->getObject("user")->getValue<std::string>("endpoint"));

        carol.signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, carol.waitExit());
        CPPUNIT_ASSERT_MESSAGE("alice never saw carol go", waitPresence(*pair.alice, "carol", false));
        // alice heard both; bob, online all along, heard neither and never had carol in his roster.
        const auto isAboutCarol = [](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "presence" &&
                   event->getObject("user")->getValue<std::string>("name") == "carol";
        };
        CPPUNIT_ASSERT(!pair.bob->waitFor(isAboutCarol, std::chrono::milliseconds(0)));
        const auto bobNames = rosterNames(*pair.bob);
        CPPUNIT_ASSERT(std::find(bobNames.begin(), bobNames.end(), "carol") == bobNames.end());
        CPPUNIT_ASSERT(std::find(bobNames.begin(), bobNames.end(), "alice") != bobNames.end());
    }

    void testTalkBothWays()
    {
        ChatPair pair;
        subscribeTo(*pair.alice, "bob");
        subscribeTo(*pair.bob, "alice");

        const std::int64_t before = nowMs();
        pair.alice->sendLine(sendRequest("bob", "hello bob"));
        const auto sent = pair.alice->waitEvent("sent");
        CPPUNIT_ASSERT(sent);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), sent->getValue<std::string>("to"));
        CPPUNIT_ASSERT_EQUAL(1, sent->getValue<int>("id"));

        const auto received = waitMessage(*pair.bob, "hello bob");
        CPPUNIT_ASSERT_MESSAGE("bob never got alice's line", received);
        const auto line = received->getObject("line");
        CPPUNIT_ASSERT_EQUAL(1, line->getValue<int>("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), line->getValue<std::string>("peer"));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), line->getValue<std::string>("from"));
        CPPUNIT_ASSERT(!line->getValue<bool>("outgoing"));
        CPPUNIT_ASSERT(std::regex_match(line->getValue<std::string>("sentTime"),
                                        std::regex("[0-2][0-9]:[0-5][0-9]:[0-5][0-9]")));
        const auto receivedAt = line->getValue<std::int64_t>("receivedAtMs");
        CPPUNIT_ASSERT(receivedAt >= before - 1000 && receivedAt <= nowMs() + 1000);

        const auto echoed = waitMessage(*pair.alice, "hello bob");
        CPPUNIT_ASSERT_MESSAGE("alice's own client did not see her line", echoed);
        CPPUNIT_ASSERT(echoed->getObject("line")->getValue<bool>("outgoing"));

        pair.bob->sendLine(sendRequest("alice", "hi alice, 你好"));
        const auto reply = waitMessage(*pair.alice, "hi alice, 你好");
        CPPUNIT_ASSERT_MESSAGE("alice never got bob's line", reply);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), reply->getObject("line")->getValue<std::string>("from"));
        CPPUNIT_ASSERT_EQUAL(2, reply->getObject("line")->getValue<int>("id"));
    }

    void testTwoClientsShareConversation()
    {
        ChatPair pair;
        auto second = pair.net.attach("alice");
        subscribeTo(*pair.alice, "bob");
        subscribeTo(*second, "bob");

        pair.alice->sendLine(sendRequest("bob", "typed in the first window"));
        for (LocalClient* client : {pair.alice.get(), second.get()}) {
            const auto line = waitMessage(*client, "typed in the first window");
            CPPUNIT_ASSERT(line);
            CPPUNIT_ASSERT(line->getObject("line")->getValue<bool>("outgoing"));
            CPPUNIT_ASSERT_EQUAL(std::string("alice"), line->getObject("line")->getValue<std::string>("from"));
        }

        second->sendLine(sendRequest("bob", "typed in the second window"));
        CPPUNIT_ASSERT(waitMessage(*pair.alice, "typed in the second window"));
        CPPUNIT_ASSERT(waitMessage(*second, "typed in the second window"));

        pair.bob->sendLine(sendRequest("alice", "bob answers"));
        for (LocalClient* client : {pair.alice.get(), second.get()}) {
            const auto line = waitMessage(*client, "bob answers");
            CPPUNIT_ASSERT(line);
            CPPUNIT_ASSERT(!line->getObject("line")->getValue<bool>("outgoing"));
        }
    }

    void testLateClientGetsHistory()
    {
        ChatPair pair;
        subscribeTo(*pair.alice, "bob");
        pair.alice->sendLine(sendRequest("bob", "first"));
        CPPUNIT_ASSERT(waitMessage(*pair.alice, "first"));
        pair.bob->sendLine(sendRequest("alice", "second, 你好"));
        CPPUNIT_ASSERT(waitMessage(*pair.alice, "second, 你好"));

        auto late = pair.net.attach("alice");
        late->sendLine(peerRequest("subscribe", "bob"));
        const auto history = late->waitEvent("history");
        CPPUNIT_ASSERT(history);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), history->getValue<std::string>("peer"));
        const auto lines = history->getArray("lines");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), lines->size());
        CPPUNIT_ASSERT_EQUAL(1, lines->getObject(0)->getValue<int>("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("first"), lines->getObject(0)->getValue<std::string>("text"));
        CPPUNIT_ASSERT(lines->getObject(0)->getValue<bool>("outgoing"));
        CPPUNIT_ASSERT_EQUAL(2, lines->getObject(1)->getValue<int>("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("second, 你好"), lines->getObject(1)->getValue<std::string>("text"));
        CPPUNIT_ASSERT(!lines->getObject(1)->getValue<bool>("outgoing"));

        pair.bob->sendLine(sendRequest("alice", "third"));
        CPPUNIT_ASSERT(waitMessage(*late, "third"));
    }

    void testUnreadCountsReachEveryClient()
    {
        ChatPair pair;
        auto second = pair.net.attach("alice");
        pair.bob->sendLine(sendRequest("alice", "one"));
        pair.bob->sendLine(sendRequest("alice", "two"));
        // Every client ends at 2: after a 1 when the lines came in two turns
        // of alice's loop, at once when they came in one (one unread event a turn).
        for (LocalClient* client : {pair.alice.get(), second.get()}) CPPUNIT_ASSERT(waitUnread(*client, "bob", 2));
        pair.alice->sendLine(R"({"op":"roster"})");
        const auto roster = pair.alice->waitEvent("roster");
        CPPUNIT_ASSERT_EQUAL(2, roster->getObject("unread")->getValue<int>("bob"));

        second->sendLine(peerRequest("read", "bob"));
        CPPUNIT_ASSERT(waitUnread(*pair.alice, "bob", 0));
        CPPUNIT_ASSERT(waitUnread(*second, "bob", 0));
        pair.alice->sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), pair.alice->waitEvent("roster")->getObject("unread")->size());
    }

    void testSendToOfflineUserIsQueued()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        auto alice = net.attachOnline("alice");
        subscribeTo(*alice, "nobody");
        alice->sendLine(sendRequest("nobody", "are you there?"));
        const auto sent = alice->waitEvent("sent");
        CPPUNIT_ASSERT(sent);
        CPPUNIT_ASSERT_EQUAL(1, sent->getValue<int>("id"));
        const auto line = waitMessage(*alice, "are you there?");
        CPPUNIT_ASSERT(line);
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), line->getObject("line")->getValue<std::string>("state"));
    }

    void testNameOnlineElsewhereIsRefused()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        auto alice = net.attach("alice");
        // The same user (its key) from a second peerd.
        TempDir otherDir;
        auto second = otherPeerd(net, "alice", otherDir, {"--key", net.keyOf("alice")});
        assertRefusedAndGone(*second, otherDir.file("alice.sock"),
                             "indexd refused alice: the name is online from another endpoint; choose another --user "
                             "or stop the other peerd");
        CPPUNIT_ASSERT(net.peerd("alice").running());
        alice->sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(alice->waitEvent("roster"));
    }

    void testNameOfAnotherKeyIsRefused()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        net.attachOnline("alice");
        net.peerd("alice").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, net.peerd("alice").waitExit());
        // alice is offline, but her name is her key's.
        TempDir otherDir;
        auto impostor = otherPeerd(net, "alice", otherDir);
        assertRefusedAndGone(*impostor, otherDir.file("alice.sock"),
                             "indexd refused alice: the name belongs to another identity key; start peerd with the "
                             "key file that registered it (--key FILE) or choose another --user");
        net.startPeerd("alice");
        CPPUNIT_ASSERT(net.attachOnline("alice"));
    }

    void testIdentityKeyCreatedPrivateAndShown()
    {
        ChatNetwork net;
        TempDir dir;
        // Without --key: made on first run where XDG_CONFIG_HOME says, readable by its owner only.
        DaemonProcess peerd("peerd", {"--user", "alice", "--index", net.index(), "--port", "0", "--bind", "127.0.0.1",
                                      "--socket", dir.file("alice.sock"), "--database", dir.file("alice.db")});
        peerd.start();
        peerd.waitReady();
        const std::string keyFile = peerd.configHome() + "/peerchat/alice.key";
        struct stat status {};
        CPPUNIT_ASSERT_EQUAL(0, ::stat(keyFile.c_str(), &status));
        CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(status.st_mode & 0777));
        const std::string fingerprint = peerchat::Fingerprint::of(peerchat::KeyFile::loadOrCreate(keyFile).publicKey());
        CPPUNIT_ASSERT_MESSAGE(peerd.log(), peerd.log().find(fingerprint) != std::string::npos);
        LocalClient client(dir.file("alice.sock"));
        const auto welcome = client.waitEvent("welcome");
        CPPUNIT_ASSERT(welcome);
        CPPUNIT_ASSERT_EQUAL(fingerprint, welcome->getValue<std::string>("fingerprint"));
    }

    void testKeyFileReadableByOthersStopsPeerd()
    {
        ChatNetwork net;
        peerchat::KeyFile::loadOrCreate(net.keyOf("alice"));
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(net.keyOf("alice").c_str(), 0640));
        auto peerd = net.peerdProcess("alice");
        peerd->start();
        CPPUNIT_ASSERT_EQUAL(69, peerd->waitExit());
        CPPUNIT_ASSERT_MESSAGE(peerd->log(), peerd->log().find("chmod 600 " + net.keyOf("alice")) != std::string::npos);
        CPPUNIT_ASSERT(!exists(net.socketOf("alice")));
    }

    void testRefusalReachesUis()
    {
        TempDir dir;
        FakeIndex fakeIndex(peerchat::SigningKey::generate());
        DaemonProcess peerd("peerd", {"--user", "alice", "--index", fakeIndex.endpoint(), "--port", "0", "--bind",
                                      "127.0.0.1", "--socket", dir.file("alice.sock"), "--database",
                                      dir.file("alice.db")});
        peerd.start();
        peerd.waitReady();
        LocalClient client(dir.file("alice.sock"));
        const auto welcome = client.waitEvent("welcome");
        CPPUNIT_ASSERT(welcome);
        CPPUNIT_ASSERT_EQUAL(std::string("connecting"), welcome->getValue<std::string>("state"));

        CPPUNIT_ASSERT_EQUAL(std::string("alice"), fakeIndex.serveLogin("taken").name);
        const auto refused = waitState(client, "refused");
        CPPUNIT_ASSERT(refused);
        CPPUNIT_ASSERT_EQUAL(std::string("indexd refused alice: the name is online from another endpoint; choose "
                                         "another --user or stop the other peerd"),
                             refused->getValue<std::string>("detail"));
        CPPUNIT_ASSERT(waitState(client, "stopping"));
        CPPUNIT_ASSERT(client.waitClosed());
        CPPUNIT_ASSERT_EQUAL(1, peerd.waitExit());
        CPPUNIT_ASSERT(!exists(dir.file("alice.sock")));
    }

    void testSecondPeerdForSameSocketRefusedNamingPid()
    {
        ChatNetwork net;
        DaemonProcess& first = net.startPeerd("alice");
        auto second = net.peerdProcess("alice");
        second->start();
        CPPUNIT_ASSERT_EQUAL(1, second->waitExit());
        const std::string expected = "peerd for alice is already running (pid " + std::to_string(first.pid()) +
                                     "); attach with chatui --user alice --socket " + net.socketOf("alice");
        CPPUNIT_ASSERT_MESSAGE(second->log(), second->log().find(expected) != std::string::npos);
        CPPUNIT_ASSERT(exists(net.socketOf("alice")));
        auto client = net.attach("alice");
        CPPUNIT_ASSERT(first.running());
    }

    void testStaleSocketReplaced()
    {
        ChatNetwork net;
        {
            Poco::Net::ServerSocket dead(
                Poco::Net::SocketAddress(Poco::Net::SocketAddress::UNIX_LOCAL, net.socketOf("alice")));
        }
        CPPUNIT_ASSERT(exists(net.socketOf("alice")));
        DaemonProcess& alice = net.startPeerd("alice");
        CPPUNIT_ASSERT(alice.waitForLog("replaced the stale socket file " + net.socketOf("alice")));
        auto client = net.attach("alice");
        client->sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(client->waitEvent("roster"));
    }

    void testBadDatagramsChangeNothing()
    {
        // At debug level peerd logs every datagram it drops.
        ChatPair pair({}, {"--log-level", "debug"});
        subscribeTo(*pair.alice, "bob");
        DaemonProcess& alice = pair.net.peerd("alice");
        const std::string target = pair.net.udpOf("alice");

        std::vector<std::string> attacks{
            "talk,12:00:00,bob,spoofed from another socket",
            "login,mallory,127.0.0.1:1,peerchat/1",
            "logout,bob," + pair.net.udpOf("bob"),
            "login,bob,127.0.0.1:1,peerchat/1",
            "talk,12:00:00,bob,bad \xff\xfe utf-8",
            toUtf16le("talk,12:00:00,bob,spoofed in UTF-16"),
            "talk,12:00:00,bob," + std::string(9000, 'x'),
        };
        for (const std::string& bytes : badDatagrams()) attacks.push_back(bytes);
        // From a stranger, and forged from bob's and indexd's addresses, which
        // peerd reads further than a stranger's.
        SeedClient stranger;
        SpoofingSender spoof;
        for (const std::string& bytes : attacks) {
            stranger.sendRaw(bytes, target);
            spoof.send(pair.net.udpOf("bob"), target, bytes);
            spoof.send(pair.net.index(), target, bytes);
        }
        const std::size_t sent = 3 * attacks.size();
        // Every datagram is dropped with exactly one log line (at debug level).
        CPPUNIT_ASSERT_MESSAGE(alice.log(),
                               waitUntil([&] { return alice.countInLog("dropped datagram from") >= sent; }));

        pair.bob->sendLine(sendRequest("alice", "the real bob"));
        const auto first = pair.alice->waitEvent("message");
        CPPUNIT_ASSERT(first);
        CPPUNIT_ASSERT_EQUAL(std::string("the real bob"), first->getObject("line")->getValue<std::string>("text"));

        CPPUNIT_ASSERT_EQUAL_MESSAGE(alice.log(), sent, alice.countInLog("dropped datagram from"));

        pair.alice->sendLine(R"({"op":"roster"})");
        const auto users = pair.alice->waitEvent("roster")->getArray("users");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), users->size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), users->getObject(0)->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(pair.net.udpOf("bob"), users->getObject(0)->getValue<std::string>("endpoint"));
        CPPUNIT_ASSERT(!waitPresence(*pair.alice, "mallory", true, 100ms));
        CPPUNIT_ASSERT(!waitPresence(*pair.alice, "bob", false, 100ms));
        CPPUNIT_ASSERT(alice.running());
    }

    void testBadLocalLinesGetErrors()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        auto client = net.attach("alice");
        const std::vector<std::string> bad{
            "garbage",
            "[1,2,3]",
            R"({"op":"fly"})",
            R"({"op":"send","to":"b b","text":"x"})",
            R"({"op":"send","to":"bob","text":""})",
            R"({"op":"send","to":"bob"})",
            R"({"op":"subscribe"})",
            R"({"op":"read","peer":42})",
            "\xff\xfe",
            "",
        };
        for (const std::string& line : bad) {
            client->sendLine(line);
            const auto error = client->waitEvent("error");
            CPPUNIT_ASSERT_MESSAGE("no error for '" + line + "'", error);
            CPPUNIT_ASSERT(!error->getValue<std::string>("message").empty());
        }
        client->sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(client->waitEvent("roster"));
    }

    void testRepliesCarryTheRequestId()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        auto client = net.attach("alice");
        auto other = net.attach("alice");
        const auto reqOf = [](const LocalClient::Object& event) {
            return event->has("req") ? event->getValue<std::string>("req") : std::string("(none)");
        };
        client->sendLine(R"({"op":"roster","req":"r1"})");
        const auto roster = client->waitEvent("roster");
        CPPUNIT_ASSERT(roster);
        CPPUNIT_ASSERT_EQUAL(std::string("r1"), reqOf(roster));
        client->sendLine(R"({"op":"fly","req":"r2"})");
        const auto unknown = client->waitEvent("error");
        CPPUNIT_ASSERT(unknown);
        CPPUNIT_ASSERT_EQUAL(std::string("r2"), reqOf(unknown));
        // An id that is not one refuses the request, and is not echoed.
        client->sendLine(R"({"op":"roster","req":"two words"})");
        const auto badId = client->waitEvent("error");
        CPPUNIT_ASSERT(badId);
        CPPUNIT_ASSERT_EQUAL(std::string("(none)"), reqOf(badId));
        CPPUNIT_ASSERT(badId->getValue<std::string>("message").find("'req'") != std::string::npos);

        client->sendLine(R"({"op":"subscribe","peer":"bob","req":"h-1"})");
        const auto history = client->waitEvent("history");
        CPPUNIT_ASSERT(history);
        CPPUNIT_ASSERT_EQUAL(std::string("h-1"), reqOf(history));
        // The reply carries the id; the line's event, which every window
        // showing bob gets, does not.
        other->sendLine(R"({"op":"subscribe","peer":"bob"})");
        CPPUNIT_ASSERT(other->waitEvent("history"));
        client->sendLine(R"({"op":"send","to":"bob","text":"hi","req":"s_1"})");
        const auto sent = client->waitEvent("sent");
        CPPUNIT_ASSERT(sent);
        CPPUNIT_ASSERT_EQUAL(std::string("s_1"), reqOf(sent));
        const auto mine = client->waitEvent("message");
        const auto theirs = other->waitEvent("message");
        CPPUNIT_ASSERT(mine && theirs);
        CPPUNIT_ASSERT_EQUAL(std::string("(none)"), reqOf(mine));
        CPPUNIT_ASSERT_EQUAL(std::string("(none)"), reqOf(theirs));
    }

    void testOverlongLocalLineClosesOnlyThatClient()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        auto other = net.attach("alice");
        auto client = net.attach("alice");
        try {
            client->sendLine(std::string(70 * 1024, 'x'));
        } catch (const Poco::Exception&) {
            // peerd may close before it has read everything; the close is what is tested.
        }
        CPPUNIT_ASSERT(client->waitClosed());
        other->sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(other->waitEvent("roster"));
        CPPUNIT_ASSERT(net.attach("alice"));
    }

    void testClientThatDoesNotReadIsDisconnected()
    {
        ChatNetwork net;
        DaemonProcess& alice = net.startPeerd("alice");
        auto reader = net.attach("alice");
        {
            auto hog = net.attach("alice");
            const std::string request = R"({"op":"subscribe","peer":"someone"})";
            bool disconnected = false;
            for (int i = 0; i < 200000 && !disconnected; ++i) {
                try {
                    hog->sendLine(request);
                } catch (const Poco::Exception&) {
                    disconnected = true;
                }
            }
            CPPUNIT_ASSERT_MESSAGE("peerd kept more than 8 MiB for a client that does not read", disconnected);
        }
        reader->sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(reader->waitEvent("roster"));
        CPPUNIT_ASSERT(alice.running());
    }

    void testClientVanishingMidWriteDoesNotHurt()
    {
        ChatNetwork net;
        DaemonProcess& alice = net.startPeerd("alice");
        {
            auto vanishing = net.attach("alice");
            for (int i = 0; i < 2000; ++i) vanishing->sendLine(R"({"op":"roster"})");
        }
        auto client = net.attach("alice");
        client->sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(client->waitEvent("roster"));
        CPPUNIT_ASSERT(alice.running());
    }

    void testSigtermLogsOutAndRemovesSocket()
    {
        ChatPair pair;
        DaemonProcess& alice = pair.net.peerd("alice");
        alice.signal(SIGTERM);
        CPPUNIT_ASSERT(waitState(*pair.alice, "stopping"));
        CPPUNIT_ASSERT(pair.alice->waitClosed());
        CPPUNIT_ASSERT_EQUAL(0, alice.waitExit());
        CPPUNIT_ASSERT(!exists(pair.net.socketOf("alice")));
        const auto gone = waitPresence(*pair.bob, "alice", false);
        CPPUNIT_ASSERT_MESSAGE("bob never saw alice log out", gone);
        CPPUNIT_ASSERT_EQUAL(pair.net.udpOf("alice"), gone->getObject("user")->getValue<std::string>("endpoint"));
        CPPUNIT_ASSERT(alice.log().find("logged out of indexd") != std::string::npos);
    }

    void testGroupMadeOnTheSocketOutlivesAKill()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        auto client = net.attach("alice");
        client->sendLine(R"({"op":"group-create","name":"天涯 team","req":"g"})");
        const auto made = client->waitEvent("group");
        CPPUNIT_ASSERT_MESSAGE("no group event", made);
        const std::string id = made->getObject("group")->getValue<std::string>("id");

        // Killed at once: the group was in the redo log before the reply went.
        // Back on the same port, so that indexd takes the new login as the
        // same peer's rather than refuse a second alice elsewhere.
        const std::string udp = net.udpOf("alice");
        net.peerd("alice").signal(SIGKILL);
        CPPUNIT_ASSERT(client->waitClosed());
        net.peerd("alice").waitExit();
        net.startPeerd("alice", {"--port", udp.substr(udp.rfind(':') + 1)});
        auto again = net.attach("alice");
        again->sendLine(R"({"op":"roster"})");
        const auto roster = again->waitEvent("roster");
        CPPUNIT_ASSERT(roster);
        const auto groups = roster->getArray("groups");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), groups->size());
        CPPUNIT_ASSERT_EQUAL(id, groups->getObject(0)->getValue<std::string>("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("天涯 team"), groups->getObject(0)->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("owner"),
                             groups->getObject(0)->getArray("members")->getObject(0)->getValue<std::string>("role"));
    }

private:
    // A peerd for user on net's indexd, with its socket and database in dir
    // (and a key of its own unless extra says otherwise), started.
    static std::unique_ptr<DaemonProcess> otherPeerd(ChatNetwork& net, const std::string& user, TempDir& dir,
                                                     std::vector<std::string> extra = {})
    {
        std::vector<std::string> args{"--user", user, "--index", net.index(), "--index-key", net.indexKey(), "--port",
                                      "0", "--bind", "127.0.0.1", "--socket", dir.file(user + ".sock"),
                                      "--database", dir.file(user + ".db")};
        args.insert(args.end(), extra.begin(), extra.end());
        auto peerd = std::make_unique<DaemonProcess>("peerd", args);
        peerd->start();
        return peerd;
    }

    // peerd gave up with an error saying detail, and left no socket behind.
    static void assertRefusedAndGone(DaemonProcess& peerd, const std::string& socket, const std::string& detail)
    {
        const int rc = peerd.waitExit();
        CPPUNIT_ASSERT_MESSAGE(peerd.log(), rc != 0 && rc != -1);
        CPPUNIT_ASSERT_MESSAGE(peerd.log(), peerd.log().find(detail) != std::string::npos);
        CPPUNIT_ASSERT(!exists(socket));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PeerdTest);
