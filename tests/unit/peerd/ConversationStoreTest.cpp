#include "ConversationStore.h"
#include "Protocol.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::ConversationStore;

class ConversationStoreTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ConversationStoreTest);
    CPPUNIT_TEST(testAddNumbersLinesFromOnePerPeer);
    CPPUNIT_TEST(testEnqueueNumbersOneStreamPerPeer);
    CPPUNIT_TEST(testAcknowledgeDeliversUpToSeq);
    CPPUNIT_TEST(testDeliverAdvancesIncomingStream);
    CPPUNIT_TEST(testAddKeepsBothDirectionsInOrder);
    CPPUNIT_TEST(testHistoryLimitDropsOldestAndKeepsCounting);
    CPPUNIT_TEST(testHistoryOfStrangerIsEmpty);
    CPPUNIT_TEST(testIncomingRaisesUnreadOutgoingDoesNot);
    CPPUNIT_TEST(testMarkReadZeroesOnePeer);
    CPPUNIT_TEST(testUnreadCountsListOnlyNonZero);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEnqueueNumbersOneStreamPerPeer()
    {
        ConversationStore store(100);
        const auto first = store.enqueue("bob", "alice", "12:00:00", 1, "one");
        const auto second = store.enqueue("bob", "alice", "12:00:01", 2, "two");
        const auto other = store.enqueue("carol", "alice", "12:00:02", 3, "three");
        CPPUNIT_ASSERT(peerchat::isStreamId(first.stream));
        CPPUNIT_ASSERT_EQUAL(first.stream, second.stream);
        CPPUNIT_ASSERT(first.stream != other.stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), first.seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), second.seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), other.seq);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.outbox().size());
        CPPUNIT_ASSERT(store.history("bob").at(1).state == peerchat::local::LineState::Pending);
    }

    void testAcknowledgeDeliversUpToSeq()
    {
        ConversationStore store(100);
        const auto first = store.enqueue("bob", "alice", "12:00:00", 1, "one");
        store.enqueue("bob", "alice", "12:00:01", 2, "two");
        store.enqueue("bob", "alice", "12:00:02", 3, "three");
        CPPUNIT_ASSERT(store.acknowledge("bob", "0", 3).empty());
        const auto changed = store.acknowledge("bob", first.stream, 2);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), changed.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.outbox().size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.outbox().front().seq);
        const auto lines = store.history("bob");
        CPPUNIT_ASSERT(lines[0].state == peerchat::local::LineState::Delivered);
        CPPUNIT_ASSERT(lines[1].state == peerchat::local::LineState::Delivered);
        CPPUNIT_ASSERT(lines[2].state == peerchat::local::LineState::Pending);
        CPPUNIT_ASSERT(store.acknowledge("bob", first.stream, 2).empty());
        CPPUNIT_ASSERT(store.setState("bob", lines[2].id, peerchat::local::LineState::Failed));
        CPPUNIT_ASSERT(store.history("bob")[2].state == peerchat::local::LineState::Failed);
        CPPUNIT_ASSERT(!store.setState("bob", 99, peerchat::local::LineState::Failed));
    }

    void testDeliverAdvancesIncomingStream()
    {
        ConversationStore store(100);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), store.delivered("bob", "ff"));
        store.deliver("bob", "ff", 1, "12:00:00", 1, "one");
        const auto line = store.deliver("bob", "ff", 2, "12:00:01", 2, "two");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.delivered("bob", "ff"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), store.delivered("bob", "ee"));
        CPPUNIT_ASSERT(line.state == peerchat::local::LineState::Received);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), store.unread("bob"));
    }

    void testAddNumbersLinesFromOnePerPeer()
    {
        ConversationStore store(100);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), store.addIncoming("bob", "12:00:00", 1, "a").id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), store.addOutgoing("bob", "alice", "12:00:01", 2, "b").id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), store.addIncoming("carol", "12:00:02", 3, "c").id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), store.addIncoming("bob", "12:00:03", 4, "d").id);
    }

    void testAddKeepsBothDirectionsInOrder()
    {
        ConversationStore store(100);
        store.addIncoming("bob", "3:04:05 PM", 1000, "hi, alice");
        store.addOutgoing("bob", "alice", "15:04:06", 2000, "你好, bob");
        const auto lines = store.history("bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), lines.size());

        CPPUNIT_ASSERT_EQUAL(std::string("bob"), lines[0].peer);
        CPPUNIT_ASSERT(!lines[0].outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), lines[0].from);
        CPPUNIT_ASSERT_EQUAL(std::string("3:04:05 PM"), lines[0].sentTime);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), lines[0].receivedAtMs);
        CPPUNIT_ASSERT_EQUAL(std::string("hi, alice"), lines[0].text);

        CPPUNIT_ASSERT_EQUAL(std::string("bob"), lines[1].peer);
        CPPUNIT_ASSERT(lines[1].outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), lines[1].from);
        CPPUNIT_ASSERT_EQUAL(std::string("15:04:06"), lines[1].sentTime);
        CPPUNIT_ASSERT_EQUAL(std::string("你好, bob"), lines[1].text);
    }

    void testHistoryLimitDropsOldestAndKeepsCounting()
    {
        ConversationStore store(3);
        for (int i = 1; i <= 5; ++i) store.addIncoming("bob", "12:00:00", i, "line " + std::to_string(i));
        const auto lines = store.history("bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), lines.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), lines[0].id);
        CPPUNIT_ASSERT_EQUAL(std::string("line 3"), lines[0].text);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), lines[2].id);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), store.addOutgoing("bob", "alice", "12:00:01", 6, "six").id);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.history("bob").size());
    }

    void testHistoryOfStrangerIsEmpty()
    {
        ConversationStore store(10);
        store.addIncoming("bob", "12:00:00", 1, "hi");
        CPPUNIT_ASSERT(store.history("carol").empty());
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), store.unread("carol"));
    }

    void testIncomingRaisesUnreadOutgoingDoesNot()
    {
        ConversationStore store(10);
        store.addIncoming("bob", "12:00:00", 1, "one");
        store.addIncoming("bob", "12:00:01", 2, "two");
        store.addOutgoing("bob", "alice", "12:00:02", 3, "three");
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), store.unread("bob"));
    }

    void testMarkReadZeroesOnePeer()
    {
        ConversationStore store(10);
        store.addIncoming("bob", "12:00:00", 1, "one");
        store.addIncoming("carol", "12:00:00", 1, "one");
        store.markRead("bob");
        store.markRead("nobody");
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), store.unread("bob"));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), store.unread("carol"));
        store.addIncoming("bob", "12:00:01", 2, "again");
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), store.unread("bob"));
    }

    void testUnreadCountsListOnlyNonZero()
    {
        ConversationStore store(10);
        store.addIncoming("bob", "12:00:00", 1, "one");
        store.addIncoming("bob", "12:00:00", 1, "two");
        store.addIncoming("carol", "12:00:00", 1, "one");
        store.addOutgoing("dave", "alice", "12:00:00", 1, "hello");
        store.markRead("carol");
        const auto counts = store.unreadCounts();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), counts.size());
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), counts.at("bob"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConversationStoreTest);
