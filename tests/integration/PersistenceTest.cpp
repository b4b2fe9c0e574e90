// peerd's database end to end: real peerds are stopped (SIGTERM) or killed
// (kill -9) and started again on the same --database, and a new local client
// must find every line, unread count and search match from before, once.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "LocalClient.h"
#include "Wait.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace peerchat::test;

namespace {

// What a client is shown of one line, state aside (acks may change it at any time).
std::string describe(const Poco::JSON::Object::Ptr& line)
{
    return std::to_string(line->getValue<std::uint64_t>("id")) + (line->getValue<bool>("outgoing") ? " > " : " < ") +
           line->getValue<std::string>("from") + " " + line->getValue<std::string>("sentTime") + " " +
           std::to_string(line->getValue<std::int64_t>("receivedAtMs")) + " " + line->getValue<std::string>("text");
}

// Subscribes client to peer and returns the lines of the history reply (one
// event: these conversations are far below the line limit).
std::vector<Poco::JSON::Object::Ptr> history(LocalClient& client, const std::string& peer)
{
    client.sendLine(peerRequest("subscribe", peer));
    const auto event = client.waitEvent("history");
    CPPUNIT_ASSERT_MESSAGE("no history for " + peer, event);
    std::vector<Poco::JSON::Object::Ptr> lines;
    const auto array = event->getArray("lines");
    for (std::size_t i = 0; i < array->size(); ++i) lines.push_back(array->getObject(i));
    return lines;
}

std::vector<std::string> describeAll(const std::vector<Poco::JSON::Object::Ptr>& lines)
{
    std::vector<std::string> described;
    for (const auto& line : lines) described.push_back(describe(line));
    return described;
}

// How many times each text appears among lines.
std::map<std::string, int> textCounts(const std::vector<Poco::JSON::Object::Ptr>& lines)
{
    std::map<std::string, int> counts;
    for (const auto& line : lines) ++counts[line->getValue<std::string>("text")];
    return counts;
}

// The unread count of peer in the roster peerd reports to client (0 when not listed).
int unreadOf(LocalClient& client, const std::string& peer)
{
    client.sendLine(R"({"op":"roster"})");
    const auto roster = client.waitEvent("roster");
    CPPUNIT_ASSERT_MESSAGE("no roster event", roster);
    return roster->getObject("unread")->optValue<int>(peer, 0);
}

LocalClient::Object waitUnread(LocalClient& client, const std::string& peer, int count)
{
    return client.waitFor([&](const LocalClient::Object& event) {
        return event->optValue<std::string>("event", "") == "unread" &&
               event->getValue<std::string>("peer") == peer && event->getValue<int>("count") == count;
    });
}

// Stops user's peerd with SIGTERM and starts it again on the same database.
void stopAndRestart(ChatNetwork& net, const std::string& user)
{
    net.peerd(user).signal(SIGTERM);
    CPPUNIT_ASSERT_EQUAL(0, net.peerd(user).waitExit());
    net.startPeerd(user);
}

// Kills user's peerd with SIGKILL and starts it again on the same database and
// UDP endpoint, which indexd still has registered for user.
void killAndRestart(ChatNetwork& net, const std::string& user)
{
    const std::string udp = net.udpOf(user);
    net.peerd(user).signal(SIGKILL);
    CPPUNIT_ASSERT_EQUAL(128 + SIGKILL, net.peerd(user).waitExit());
    net.startPeerd(user, {"--port", udp.substr(udp.rfind(':') + 1)});
}

// A send request line with a key.
std::string keyedSend(const std::string& to, const std::string& text, const std::string& key)
{
    return R"({"op":"send","to":")" + to + R"(","text":")" + text + R"(","key":")" + key + R"("})";
}

// The id in the sent event that answers the one send client has made; fails the test when it is refused.
std::uint64_t sentId(LocalClient& client)
{
    const auto sent = client.waitFor([&](const LocalClient::Object& event) {
        const std::string name = event->optValue<std::string>("event", "");
        return name == "sent" || name == "error";
    });
    CPPUNIT_ASSERT_MESSAGE("no answer to the send", sent);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(sent->optValue<std::string>("message", ""), std::string("sent"),
                                 sent->getValue<std::string>("event"));
    return sent->getValue<std::uint64_t>("id");
}

// bob sends text and alice's client sees it arrive.
void bobSays(ChatPair& pair, const std::string& text)
{
    pair.bob->sendLine(sendRequest("alice", text));
    CPPUNIT_ASSERT_MESSAGE("alice never got '" + text + "'", waitMessage(*pair.alice, text));
}

// The schema version in the header of the SQLite file at path: 4 bytes,
// big-endian, at offset 60 (https://www.sqlite.org/fileformat.html).
std::uint32_t headerUserVersion(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    char magic[16] = {};
    file.read(magic, sizeof magic);
    CPPUNIT_ASSERT_EQUAL(std::string("SQLite format 3"), std::string(magic));
    file.seekg(60);
    unsigned char bytes[4] = {};
    file.read(reinterpret_cast<char*>(bytes), sizeof bytes);
    CPPUNIT_ASSERT(file);
    return static_cast<std::uint32_t>(bytes[0]) << 24 | static_cast<std::uint32_t>(bytes[1]) << 16 |
           static_cast<std::uint32_t>(bytes[2]) << 8 | bytes[3];
}

void setHeaderUserVersion(const std::string& path, std::uint32_t version)
{
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    const char bytes[4] = {static_cast<char>(version >> 24), static_cast<char>(version >> 16),
                           static_cast<char>(version >> 8), static_cast<char>(version)};
    file.seekp(60);
    file.write(bytes, sizeof bytes);
    CPPUNIT_ASSERT(file);
}

} // namespace

class PersistenceTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PersistenceTest);
    CPPUNIT_TEST(testRestartShowsWholeHistoryAndUnread);
    CPPUNIT_TEST(testKillOfReceiverKeepsEverySeenLineOnce);
    CPPUNIT_TEST(testKillOfSenderKeepsEverySentLineOnce);
    CPPUNIT_TEST(testSearchFindsLinesAfterRestart);
    CPPUNIT_TEST(testNewerSchemaVersionRefused);
    CPPUNIT_TEST(testSendRepeatedAfterKillGivesSameLineOnce);
    CPPUNIT_TEST(testSendLostInKillIsStoredWhenRepeated);
    CPPUNIT_TEST_SUITE_END();

public:
    void testRestartShowsWholeHistoryAndUnread()
    {
        ChatPair pair;
        history(*pair.alice, "bob");
        bobSays(pair, "one");
        bobSays(pair, "two, 你好");
        pair.alice->sendLine(sendRequest("bob", "three"));
        CPPUNIT_ASSERT(pair.alice->waitEvent("sent"));
        pair.alice->sendLine(peerRequest("read", "bob"));
        CPPUNIT_ASSERT(waitUnread(*pair.alice, "bob", 0));
        bobSays(pair, "four");
        bobSays(pair, "five");
        CPPUNIT_ASSERT_EQUAL(2, unreadOf(*pair.alice, "bob"));
        const auto before = describeAll(history(*pair.net.attach("alice"), "bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), before.size());

        pair.alice.reset();
        stopAndRestart(pair.net, "alice");
        auto alice = pair.net.attachOnline("alice");
        CPPUNIT_ASSERT_EQUAL(2, unreadOf(*alice, "bob"));
        const auto after = history(*alice, "bob");
        CPPUNIT_ASSERT_EQUAL(before.size(), after.size());
        for (std::size_t i = 0; i < before.size(); ++i) CPPUNIT_ASSERT_EQUAL(before[i], describe(after[i]));

        // The conversation goes on where it was: the next line is number 6.
        CPPUNIT_ASSERT(waitPresence(*pair.bob, "alice", true));
        pair.bob->sendLine(sendRequest("alice", "six"));
        const auto six = waitMessage(*alice, "six");
        CPPUNIT_ASSERT_MESSAGE("alice never got 'six' after her restart", six);
        CPPUNIT_ASSERT_EQUAL(6, six->getObject("line")->getValue<int>("id"));
        CPPUNIT_ASSERT_EQUAL(3, unreadOf(*alice, "bob"));

        // Reading is kept too.
        alice->sendLine(peerRequest("read", "bob"));
        CPPUNIT_ASSERT(waitUnread(*alice, "bob", 0));
        alice.reset();
        stopAndRestart(pair.net, "alice");
        CPPUNIT_ASSERT_EQUAL(0, unreadOf(*pair.net.attach("alice"), "bob"));
    }

    void testKillOfReceiverKeepsEverySeenLineOnce()
    {
        ChatPair pair;
        history(*pair.alice, "bob");
        constexpr int kLines = 40;
        for (int i = 1; i <= kLines; ++i) pair.bob->sendLine(sendRequest("alice", "line " + std::to_string(i)));
        // Killed as soon as a few lines are in: the rest may be anywhere on the way.
        std::set<std::string> seen;
        while (seen.size() < 5) {
            const auto message = pair.alice->waitEvent("message");
            CPPUNIT_ASSERT_MESSAGE("alice got " + std::to_string(seen.size()) + " lines only", message);
            seen.insert(message->getObject("line")->getValue<std::string>("text"));
        }
        killAndRestart(pair.net, "alice");

        auto alice = pair.net.attach("alice");
        const auto first = history(*alice, "bob");
        const int unread = unreadOf(*alice, "bob");
        const auto second = history(*alice, "bob");
        for (const auto& [text, count] : textCounts(second)) CPPUNIT_ASSERT_EQUAL_MESSAGE(text, 1, count);
        const auto counts = textCounts(first);
        for (const std::string& text : seen) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE("'" + text + "' was shown before the kill", 1,
                                         counts.count(text) ? counts.at(text) : 0);
        }
        for (std::size_t i = 1; i < second.size(); ++i) {
            CPPUNIT_ASSERT(second[i]->getValue<std::uint64_t>("id") > second[i - 1]->getValue<std::uint64_t>("id"));
        }
        // Nothing was read: every line kept is unread, whatever arrived after the restart.
        CPPUNIT_ASSERT(static_cast<int>(first.size()) <= unread && unread <= static_cast<int>(second.size()));
    }

    void testKillOfSenderKeepsEverySentLineOnce()
    {
        ChatPair pair;
        constexpr int kLines = 20;
        for (int i = 1; i <= kLines; ++i) pair.bob->sendLine(sendRequest("alice", "line " + std::to_string(i)));
        for (int i = 1; i <= kLines; ++i) {
            CPPUNIT_ASSERT_MESSAGE("no sent event for line " + std::to_string(i), pair.bob->waitEvent("sent"));
        }
        killAndRestart(pair.net, "bob");

        auto bob = pair.net.attach("bob");
        const auto lines = history(*bob, "alice");
        CPPUNIT_ASSERT_EQUAL(std::size_t(kLines), lines.size());
        for (int i = 0; i < kLines; ++i) {
            CPPUNIT_ASSERT_EQUAL(std::string("line ") + std::to_string(i + 1), lines[i]->getValue<std::string>("text"));
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(i + 1), lines[i]->getValue<std::uint64_t>("id"));
            CPPUNIT_ASSERT(lines[i]->getValue<bool>("outgoing"));
        }
        // However the lines got there, alice shows each of them once.
        CPPUNIT_ASSERT(waitUntil([&] { return history(*pair.alice, "bob").size() >= std::size_t(kLines); }));
        for (const auto& [text, count] : textCounts(history(*pair.alice, "bob")))
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, 1, count);
    }

    void testSearchFindsLinesAfterRestart()
    {
        ChatPair pair;
        history(*pair.alice, "bob");
        bobSays(pair, "lunch at noon?");
        bobSays(pair, "or dinner at eight");
        bobSays(pair, "100% no lunch_today");
        pair.alice->sendLine(sendRequest("bob", "lunch, sure"));
        CPPUNIT_ASSERT(waitMessage(*pair.alice, "lunch, sure"));

        pair.alice.reset();
        stopAndRestart(pair.net, "alice");
        auto alice = pair.net.attach("alice");
        alice->sendLine(R"({"op":"search","peer":"bob","text":"lunch"})");
        const auto found = alice->waitEvent("found");
        CPPUNIT_ASSERT(found);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), found->getValue<std::string>("peer"));
        CPPUNIT_ASSERT_EQUAL(std::string("lunch"), found->getValue<std::string>("text"));
        const auto lines = found->getArray("lines");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), lines->size());
        CPPUNIT_ASSERT_EQUAL(std::string("lunch at noon?"), lines->getObject(0)->getValue<std::string>("text"));
        CPPUNIT_ASSERT_EQUAL(std::string("100% no lunch_today"), lines->getObject(1)->getValue<std::string>("text"));
        CPPUNIT_ASSERT_EQUAL(std::string("lunch, sure"), lines->getObject(2)->getValue<std::string>("text"));
        CPPUNIT_ASSERT(lines->getObject(2)->getValue<bool>("outgoing"));

        // Search text is not a pattern: % and _ match only themselves.
        alice->sendLine(R"({"op":"search","peer":"bob","text":"0% no lunch_"})");
        const auto literal = alice->waitEvent("found");
        CPPUNIT_ASSERT(literal);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), literal->getArray("lines")->size());
        alice->sendLine(R"({"op":"search","peer":"bob","text":"l%h"})");
        const auto none = alice->waitEvent("found");
        CPPUNIT_ASSERT(none);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), none->getArray("lines")->size());
    }

    void testNewerSchemaVersionRefused()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        net.peerd("alice").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, net.peerd("alice").waitExit());
        const std::string database = net.databaseOf("alice");
        const std::uint32_t current = headerUserVersion(database);
        CPPUNIT_ASSERT(current >= 1 && current < 99);
        setHeaderUserVersion(database, 99);

        auto peerd = net.peerdProcess("alice");
        peerd->start();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(peerd->log(), 69, peerd->waitExit());
        const std::string expected = "peerd: cannot open " + database +
                                     ": it was written by a newer peerd (schema version 99; this peerd knows up to " +
                                     std::to_string(current) + "); "
                                     "run that newer peerd, or pass another --database";
        CPPUNIT_ASSERT_MESSAGE(peerd->log(), peerd->log().find(expected) != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(99), headerUserVersion(database));
    }

    // kill -9 between a send and its answer, as the client sees it: the line
    // was stored, the answer never came. The client sends again under the same key.
    void testSendRepeatedAfterKillGivesSameLineOnce()
    {
        ChatPair pair;
        history(*pair.bob, "alice");
        pair.alice->sendLine(keyedSend("bob", "only once", "k-1"));
        const std::uint64_t id = sentId(*pair.alice);
        CPPUNIT_ASSERT(waitMessage(*pair.bob, "only once"));
        killAndRestart(pair.net, "alice");

        auto alice = pair.net.attach("alice");
        alice->sendLine(keyedSend("bob", "only once", "k-1"));
        CPPUNIT_ASSERT_EQUAL(id, sentId(*alice));
        alice->sendLine(keyedSend("bob", "after the repeat", "k-2"));
        CPPUNIT_ASSERT_EQUAL(id + 1, sentId(*alice));
        CPPUNIT_ASSERT_EQUAL(1, textCounts(history(*alice, "bob"))["only once"]);
        CPPUNIT_ASSERT(waitMessage(*pair.bob, "after the repeat"));
        CPPUNIT_ASSERT_EQUAL(1, textCounts(history(*pair.bob, "alice"))["only once"]);
    }

    // kill -9 before peerd read the send: nothing was stored, and the repeat stores it, once.
    void testSendLostInKillIsStoredWhenRepeated()
    {
        ChatPair pair;
        history(*pair.bob, "alice");
        pair.net.peerd("alice").freeze();
        pair.alice->sendLine(keyedSend("bob", "never read", "k-1"));
        killAndRestart(pair.net, "alice");

        auto alice = pair.net.attach("alice");
        CPPUNIT_ASSERT_EQUAL(0, textCounts(history(*alice, "bob"))["never read"]);
        alice->sendLine(keyedSend("bob", "never read", "k-1"));
        const std::uint64_t id = sentId(*alice);
        alice->sendLine(keyedSend("bob", "never read", "k-1"));
        CPPUNIT_ASSERT_EQUAL(id, sentId(*alice));
        CPPUNIT_ASSERT_EQUAL(1, textCounts(history(*alice, "bob"))["never read"]);
        CPPUNIT_ASSERT(waitMessage(*pair.bob, "never read"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PersistenceTest);
