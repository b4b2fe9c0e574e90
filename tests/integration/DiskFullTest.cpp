// Row 10 of issue 9: peerd's disk fills up, then space is freed. alice's
// database lives on a small tmpfs the test mounts and fills with a file (for
// real: SQLite meets ENOSPC, not a simulated error); bob's is on the normal
// disk. While the disk is full nothing may be lost or half-stored and peerd
// may not log per datagram; once space is back everything works again at
// once, without a restart. peerd's redo log may take a few changes after the
// disk filled (they are kept, and reach the database once there is room);
// once its database has failed, every change is refused until there is room.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "LocalClient.h"
#include "TmpfsMount.h"
#include "Wait.h"

#include <Poco/JSON/Array.h>

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using namespace peerchat::test;
using namespace std::chrono_literals;

namespace {

// Big enough for peerd's database with room to spare, small enough to fill at once.
constexpr std::size_t kDiskBytes = 4 << 20;

// The reply to the next send on client: the sent or error event.
LocalClient::Object sendReply(LocalClient& client)
{
    return client.waitFor([](const LocalClient::Object& event) {
        const std::string name = event->optValue<std::string>("event", "");
        return name == "sent" || (name == "error" && event->getValue<std::string>("op") == "send");
    });
}

// How many lines with text client's peerd holds in its conversation with peer.
// The reply to subscribe may be several history events (a conversation of
// hundreds of lines is): a search with a text of its own follows it, and its
// answer, which comes after the whole reply, ends the count.
int linesWithText(LocalClient& client, const std::string& peer, const std::string& text)
{
    static int searches = 0;
    const std::string fence = "end of the history " + std::to_string(++searches);
    client.sendLine(peerRequest("subscribe", peer));
    client.sendLine(R"({"op":"search","peer":")" + peer + R"(","text":")" + fence + R"("})");
    int count = 0;
    bool history = false;
    while (true) {
        const auto event = client.waitFor([&](const LocalClient::Object& event) {
            const std::string name = event->optValue<std::string>("event", "");
            return (name == "history" && event->getValue<std::string>("peer") == peer) ||
                   (name == "found" && event->getValue<std::string>("text") == fence);
        });
        CPPUNIT_ASSERT_MESSAGE("no history for " + peer, event);
        if (event->getValue<std::string>("event") == "found") break;
        history = true;
        const auto lines = event->getArray("lines");
        for (std::size_t i = 0; i < lines->size(); ++i) count += lines->getObject(i)->getValue<std::string>("text") == text;
    }
    CPPUNIT_ASSERT_MESSAGE("no history for " + peer, history);
    return count;
}

// The status event on client that puts line id with peer in state.
LocalClient::Object waitStatus(LocalClient& client, const std::string& peer, std::uint64_t id,
                               const std::string& state, std::chrono::milliseconds timeout = 20s)
{
    return client.waitFor(
        [&](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "status" &&
                   event->getValue<std::string>("peer") == peer && event->getValue<std::uint64_t>("id") == id &&
                   event->getValue<std::string>("state") == state;
        },
        timeout);
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

} // namespace

class DiskFullTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(DiskFullTest);
    CPPUNIT_TEST(testSendRefusedInWordsWhileFullAndWorksOnceFreed);
    CPPUNIT_TEST(testIncomingLineWaitsWithSenderUntilFreed);
    CPPUNIT_TEST(testAckWhileFullLeavesLineQueuedUntilFreed);
    CPPUNIT_TEST(testReadWhileFullAnsweredWithErrorUntilFreed);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _disk = std::make_unique<TmpfsMount>(kDiskBytes);
        _net = std::make_unique<ChatNetwork>();
    }

    void tearDown() override
    {
        // The daemons go first: none may hold a file on the tmpfs when it is unmounted.
        _net.reset();
        _disk.reset();
    }

    void testSendRefusedInWordsWhileFullAndWorksOnceFreed()
    {
        startPair({}, {});
        subscribeTo(*_alice, "bob");
        subscribeTo(*_bob, "alice");
        _alice->sendLine(sendRequest("bob", "before the disk filled"));
        CPPUNIT_ASSERT_EQUAL(std::string("sent"), sendReply(*_alice)->getValue<std::string>("event"));

        const std::vector<std::string> kept = fillUntilRefused();
        _alice->sendLine(sendRequest("bob", "while the disk is full"));
        const auto refused = sendReply(*_alice);
        CPPUNIT_ASSERT(refused);
        const std::string why = refused->optValue<std::string>("message", "(a sent event)");
        CPPUNIT_ASSERT_MESSAGE(why, contains(why, "the disk holding " + database() + " is full"));
        CPPUNIT_ASSERT_MESSAGE(why, contains(why, "free some space and send again"));

        // No restart: the first send once there is room goes out.
        _disk->release();
        _alice->sendLine(sendRequest("bob", "after the disk was freed"));
        const auto sent = sendReply(*_alice);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(sent->optValue<std::string>("message", ""), std::string("sent"),
                                     sent->getValue<std::string>("event"));
        CPPUNIT_ASSERT_MESSAGE("bob never got the line sent after freeing",
                               waitMessage(*_bob, "after the disk was freed"));
        CPPUNIT_ASSERT_MESSAGE("the refused line reached bob",
                               !waitMessage(*_bob, "while the disk is full", 0ms));
        CPPUNIT_ASSERT_EQUAL(0, linesWithText(*_alice, "bob", "while the disk is full"));
        CPPUNIT_ASSERT_EQUAL(1, linesWithText(*_alice, "bob", "after the disk was freed"));
        // What alice took before she refused was kept, and reached bob once.
        for (const std::string& text : kept) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, 1, linesWithText(*_alice, "bob", text));
            CPPUNIT_ASSERT_MESSAGE(text, waitUntil([&] { return linesWithText(*_bob, "alice", text) == 1; }));
        }
    }

    void testIncomingLineWaitsWithSenderUntilFreed()
    {
        // bob tries often and gives up soon: his failed status shows that his
        // line went unacked for a while, which is the marker this test waits on.
        startPair({}, {"--retransmit-ms", "50", "--give-up-ms", "1500"});
        subscribeTo(*_alice, "bob");
        subscribeTo(*_bob, "alice");
        fillUntilRefused();
        const std::size_t logged = _net->peerd("alice").countInLog(database());

        _bob->sendLine(sendRequest("alice", "to a full disk"));
        const auto sent = sendReply(*_bob);
        CPPUNIT_ASSERT_EQUAL(std::string("sent"), sent->getValue<std::string>("event"));
        const auto id = sent->getValue<std::uint64_t>("id");
        CPPUNIT_ASSERT_MESSAGE("bob's line was not left unacked", waitStatus(*_bob, "alice", id, "failed"));
        CPPUNIT_ASSERT_MESSAGE("alice showed a line she could not store", !waitMessage(*_alice, "to a full disk", 0ms));
        CPPUNIT_ASSERT_MESSAGE(_net->peerd("alice").log(),
                               _net->peerd("alice").countInLog(database()) <= logged + 1);

        _disk->release();
        CPPUNIT_ASSERT_MESSAGE("bob's line was not delivered once the disk had room",
                               waitStatus(*_bob, "alice", id, "delivered"));
        CPPUNIT_ASSERT(waitMessage(*_alice, "to a full disk"));
        CPPUNIT_ASSERT_EQUAL(1, linesWithText(*_alice, "bob", "to a full disk"));
    }

    void testAckWhileFullLeavesLineQueuedUntilFreed()
    {
        startPair({"--retransmit-ms", "50"}, {});
        subscribeTo(*_alice, "bob");
        subscribeTo(*_bob, "alice");
        // bob is frozen while alice's line is stored and sent, and acks only once alice's disk is full.
        _net->peerd("bob").freeze();
        _alice->sendLine(sendRequest("bob", "acked while the disk is full"));
        const auto sent = sendReply(*_alice);
        CPPUNIT_ASSERT_EQUAL(std::string("sent"), sent->getValue<std::string>("event"));
        const auto id = sent->getValue<std::uint64_t>("id");
        fillUntilRefused();
        _net->peerd("bob").signal(SIGCONT);
        CPPUNIT_ASSERT(waitMessage(*_bob, "acked while the disk is full"));
        // bob has acked; alice's store, refusing every change, refuses the ack.
        CPPUNIT_ASSERT_MESSAGE("alice showed delivered a line whose ack she could not store",
                               !waitStatus(*_alice, "bob", id, "delivered", 0ms));

        // The line stayed in alice's outbox: it goes again, bob acks again, and now it sticks.
        _disk->release();
        CPPUNIT_ASSERT_MESSAGE(_net->peerd("alice").log(), waitStatus(*_alice, "bob", id, "delivered"));
        CPPUNIT_ASSERT_EQUAL(1, linesWithText(*_bob, "alice", "acked while the disk is full"));
    }

    void testReadWhileFullAnsweredWithErrorUntilFreed()
    {
        startPair({}, {});
        subscribeTo(*_bob, "alice");
        _bob->sendLine(sendRequest("alice", "unread while the disk is full"));
        CPPUNIT_ASSERT(_alice->waitFor([](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "unread" && event->getValue<int>("count") == 1;
        }));
        fillUntilRefused();
        // A write that finds the disk full is answered, not left hanging.
        _alice->sendLine(peerRequest("read", "bob"));
        const auto answer = _alice->waitFor([](const LocalClient::Object& event) {
            const std::string name = event->optValue<std::string>("event", "");
            return name == "unread" || (name == "error" && event->getValue<std::string>("op") == "read");
        });
        CPPUNIT_ASSERT_MESSAGE("no answer to read", answer);
        CPPUNIT_ASSERT_EQUAL(std::string("error"), answer->getValue<std::string>("event"));
        const std::string why = answer->getValue<std::string>("message");
        CPPUNIT_ASSERT_MESSAGE(why, contains(why, "the disk holding " + database() + " is full"));
        CPPUNIT_ASSERT_MESSAGE(why, contains(why, "free some space and try again"));

        _disk->release();
        _alice->sendLine(peerRequest("read", "bob"));
        CPPUNIT_ASSERT(_alice->waitFor([](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "unread" && event->getValue<int>("count") == 0;
        }));
    }

private:
    // Fills alice's disk and sends lines from alice to bob until one is
    // refused: her redo log may have room for a few more lines, but once her
    // database has failed on them she refuses every change until there is
    // room again. Returns the lines she took before refusing (kept, and sent).
    std::vector<std::string> fillUntilRefused()
    {
        _disk->fill();
        std::vector<std::string> kept;
        // The redo log takes lines into the room it was given ahead (256 KiB,
        // some 2,000 of these) until the database has failed; on a busy
        // machine peerd's writer may not run before that room is used up.
        for (int i = 0; i < 10000; ++i) {
            const std::string text = "taken on a full disk " + std::to_string(i);
            _alice->sendLine(sendRequest("bob", text));
            const auto reply = sendReply(*_alice);
            CPPUNIT_ASSERT_MESSAGE("no reply to a send on a full disk", reply);
            if (reply->getValue<std::string>("event") == "error") {
                const std::string why = reply->getValue<std::string>("message");
                CPPUNIT_ASSERT_MESSAGE(why, contains(why, "the disk holding " + database() + " is full"));
                return kept;
            }
            kept.push_back(text);
        }
        CPPUNIT_FAIL("alice took 10000 lines on a full disk without refusing one");
        return kept;
    }

    // alice's database is on the small disk; each peerd gets its extra flags.
    void startPair(std::vector<std::string> aliceFlags, std::vector<std::string> bobFlags)
    {
        aliceFlags.insert(aliceFlags.end(), {"--database", database()});
        _net->startPeerd("alice", aliceFlags);
        _net->startPeerd("bob", bobFlags);
        _alice = _net->attachOnline("alice");
        _bob = _net->attachOnline("bob");
        // Lines go peer to peer only between contacts, who see each other online.
        CPPUNIT_ASSERT_MESSAGE("alice and bob do not see each other:\n" + _net->peerd("alice").log() +
                                   _net->peerd("bob").log(),
                               befriend(*_alice, "alice", *_bob, "bob"));
    }

    std::string database() const { return _disk->file("alice.db"); }

    std::unique_ptr<TmpfsMount> _disk;
    std::unique_ptr<ChatNetwork> _net;
    std::unique_ptr<LocalClient> _alice;
    std::unique_ptr<LocalClient> _bob;
};

CPPUNIT_TEST_SUITE_REGISTRATION(DiskFullTest);
