#include "PeerStore.h"
#include "Inbox.h"
#include "Protocol.h"
#include "StoreFaults.h"

#include <cppunit/extensions/HelperMacros.h>

#include <random>
#include <set>
#include <string>
#include <vector>

using peerchat::ConversationId;
using namespace peerchat;

namespace {

const ConversationId kBob = ConversationId::direct("bob");

Msg msg(std::uint64_t seq, const std::string& from = "bob", const std::string& stream = "b0b")
{
    return Msg{stream, seq, "12:00:0" + std::to_string(seq % 10), from, "alice", "line " + std::to_string(seq)};
}

// msg(seq) with a text too long for any page the store has room in.
Msg pageMsg(std::uint64_t seq)
{
    Msg big = msg(seq);
    big.text = std::string(4000, 'x');
    return big;
}

std::vector<std::string> texts(const Inbox::Result& result)
{
    std::vector<std::string> out;
    for (const Inbox::Delivered& delivered : result.delivered) out.push_back(delivered.line.text);
    return out;
}

// The runs a result names, as "A-B" strings.
std::vector<std::string> runs(const Inbox::Result& result)
{
    std::vector<std::string> out;
    for (const SeqRange& range : result.held) out.push_back(std::to_string(range.first) + "-" + std::to_string(range.last));
    return out;
}

std::vector<std::string> historyTexts(const PeerStore& store, const std::string& peer)
{
    std::vector<std::string> out;
    for (const local::ChatLine& line : store.lines.history(ConversationId::direct(peer))) out.push_back(line.text);
    return out;
}

} // namespace

class InboxTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(InboxTest);
    CPPUNIT_TEST(testNextMessageDeliveredAtOnce);
    CPPUNIT_TEST(testDuplicateNotDeliveredAgain);
    CPPUNIT_TEST(testOutOfOrderHeldThenDeliveredInOrder);
    CPPUNIT_TEST(testHeldDuplicateKeptOnce);
    CPPUNIT_TEST(testBeyondWindowDropped);
    CPPUNIT_TEST(testStreamsAreIndependent);
    CPPUNIT_TEST(testPositionComesFromStore);
    CPPUNIT_TEST(testUnreadCountsFollowEachLine);
    CPPUNIT_TEST(testShuffledStreamDeliversEveryLineOnceInOrder);
    CPPUNIT_TEST(testHeldStreamsPerSenderBounded);
    CPPUNIT_TEST(testRefusedMessageNotDeliveredNorPassed);
    CPPUNIT_TEST(testRefusedHeldMessageStaysHeld);
    CPPUNIT_TEST(testResultNamesHeldRunsLowestFirst);
    CPPUNIT_TEST(testHeldRunsFollowEveryArrivalInAnyOrder);
    CPPUNIT_TEST_SUITE_END();

public:
    void testNextMessageDeliveredAtOnce()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 16);
        const auto result = inbox.receive(msg(1), 1700000000000);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), result.position);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), result.delivered.size());
        const local::ChatLine& line = result.delivered[0].line;
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), line.conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), line.from);
        CPPUNIT_ASSERT(!line.outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("12:00:01"), line.sentTime);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1700000000000), line.receivedAtMs);
        CPPUNIT_ASSERT_EQUAL(std::string("line 1"), line.text);
        CPPUNIT_ASSERT(line.state == local::LineState::Received);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), store.incoming.delivered("bob", "b0b"));
    }

    void testDuplicateNotDeliveredAgain()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 16);
        inbox.receive(msg(1), 1);
        inbox.receive(msg(2), 2);
        const auto again = inbox.receive(msg(1), 3);
        CPPUNIT_ASSERT(again.delivered.empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), again.position);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.lines.history(kBob).size());
    }

    void testOutOfOrderHeldThenDeliveredInOrder()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 16);
        const auto third = inbox.receive(msg(3), 30);
        CPPUNIT_ASSERT(third.delivered.empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), third.position);
        CPPUNIT_ASSERT(inbox.receive(msg(2), 20).delivered.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), inbox.held());
        CPPUNIT_ASSERT(store.lines.history(kBob).empty());

        const auto first = inbox.receive(msg(1), 10);
        CPPUNIT_ASSERT(texts(first) == (std::vector<std::string>{"line 1", "line 2", "line 3"}));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), first.position);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), inbox.held());
        // A held line keeps the time it arrived.
        CPPUNIT_ASSERT_EQUAL(std::int64_t(30), first.delivered[2].line.receivedAtMs);
        CPPUNIT_ASSERT(historyTexts(store, "bob") == (std::vector<std::string>{"line 1", "line 2", "line 3"}));
    }

    void testHeldDuplicateKeptOnce()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 16);
        inbox.receive(msg(2), 1);
        inbox.receive(msg(2), 2);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), inbox.held());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), inbox.receive(msg(1), 3).delivered.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), store.lines.history(kBob).size());
    }

    void testBeyondWindowDropped()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 4);
        inbox.receive(msg(4), 1);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), inbox.held());
        const auto tooFar = inbox.receive(msg(5), 2);
        CPPUNIT_ASSERT(tooFar.delivered.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), inbox.held());
        inbox.receive(msg(1), 3);
        // The window moved on with the delivered position: 5 fits now.
        inbox.receive(msg(5), 4);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), inbox.held());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), inbox.receive(msg(6), 5).delivered.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), inbox.held());
    }

    void testStreamsAreIndependent()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 16);
        inbox.receive(msg(2, "bob", "aa"), 1);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), inbox.receive(msg(1, "bob", "bb"), 2).delivered.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), inbox.receive(msg(1, "carol", "aa"), 3).delivered.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), inbox.held());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), inbox.receive(msg(1, "bob", "aa"), 4).delivered.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.lines.history(kBob).size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), store.lines.history(ConversationId::direct("carol")).size());
    }

    void testPositionComesFromStore()
    {
        PeerStore store(100);
        store.incoming.deliver("bob", "b0b", 1, "12:00:00", 1, "before");
        store.incoming.deliver("bob", "b0b", 2, "12:00:00", 1, "before");
        Inbox inbox(store.incoming, store.lines, 16);
        const auto old = inbox.receive(msg(2), 5);
        CPPUNIT_ASSERT(old.delivered.empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), old.position);
        CPPUNIT_ASSERT(texts(inbox.receive(msg(3), 6)) == std::vector<std::string>{"line 3"});
    }

    void testUnreadCountsFollowEachLine()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 16);
        inbox.receive(msg(3), 1);
        inbox.receive(msg(2), 1);
        const auto result = inbox.receive(msg(1), 1);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), result.delivered[0].unread);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), result.delivered[1].unread);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(3), result.delivered[2].unread);
    }

    void testShuffledStreamDeliversEveryLineOnceInOrder()
    {
        PeerStore store(1000);
        Inbox inbox(store.incoming, store.lines, 64);
        // Every line twice, in an order that jumps back and forth.
        std::vector<std::uint64_t> order;
        for (std::uint64_t block = 0; block < 10; ++block) {
            for (std::uint64_t i = 10; i >= 1; --i) order.push_back(block * 10 + i);
            for (std::uint64_t i = 1; i <= 10; i += 3) order.push_back(block * 10 + i);
        }
        for (std::uint64_t block = 0; block < 10; ++block) {
            for (std::uint64_t i = 1; i <= 10; ++i) order.push_back(block * 10 + i);
        }
        std::size_t delivered = 0;
        for (const std::uint64_t seq : order) delivered += inbox.receive(msg(seq), 1).delivered.size();
        CPPUNIT_ASSERT_EQUAL(std::size_t(100), delivered);
        const auto lines = store.lines.history(kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(100), lines.size());
        for (std::size_t i = 0; i < lines.size(); ++i) {
            CPPUNIT_ASSERT_EQUAL("line " + std::to_string(i + 1), lines[i].text);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), inbox.held());
    }

    void testHeldStreamsPerSenderBounded()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 16);
        const auto streamId = [](std::size_t n) { return "5" + std::to_string(n); };
        // One line ahead of a gap in each of more streams than a sender may hold.
        for (std::size_t n = 0; n <= Inbox::kMaxHeldStreamsPerSender; ++n) {
            inbox.receive(msg(2, "bob", streamId(n)), static_cast<std::int64_t>(100 + n));
        }
        inbox.receive(msg(2, "carol", "c0c"), 1);
        CPPUNIT_ASSERT_EQUAL(Inbox::kMaxHeldStreamsPerSender + 1, inbox.held());
        // The stream idle longest went; the others, and carol's, are held still.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), inbox.receive(msg(1, "bob", streamId(0)), 500).delivered.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), inbox.receive(msg(1, "bob", streamId(1)), 501).delivered.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), inbox.receive(msg(1, "carol", "c0c"), 502).delivered.size());
    }

    void testRefusedMessageNotDeliveredNorPassed()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 16);
        inbox.receive(msg(1), 10);
        inbox.receive(msg(3), 30);
        peerchat::test::failWrites(store);
        const auto refused = inbox.receive(pageMsg(2), 20);
        CPPUNIT_ASSERT(refused.delivered.empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), refused.position);
        CPPUNIT_ASSERT_MESSAGE(refused.refusal, refused.refusal.find("is full") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), inbox.held());

        // Sent again once there is room, it goes in with what was held behind it.
        store.database.limitPages(1000000);
        const auto again = inbox.receive(pageMsg(2), 21);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), again.position);
        CPPUNIT_ASSERT(again.refusal.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), again.delivered.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), inbox.held());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), store.lines.history(kBob).size());
    }

    void testRefusedHeldMessageStaysHeld()
    {
        PeerStore store(100);
        Inbox inbox(store.incoming, store.lines, 16);
        inbox.receive(pageMsg(3), 30);
        inbox.receive(msg(4), 40);
        const auto first = inbox.receive(msg(1), 10);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), first.position);
        peerchat::test::failWrites(store);
        // 2 is refused, and 3 and 4, held behind it, stay held.
        const auto refused = inbox.receive(msg(2), 20);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), refused.position);
        CPPUNIT_ASSERT(refused.delivered.empty());
        CPPUNIT_ASSERT(!refused.refusal.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), inbox.held());

        store.database.limitPages(1000000);
        const auto rest = inbox.receive(msg(2), 21);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), rest.position);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), rest.delivered.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), inbox.held());
    }

    void testResultNamesHeldRunsLowestFirst()
    {
        PeerStore store(1000);
        Inbox inbox(store.incoming, store.lines, 1000);
        CPPUNIT_ASSERT(inbox.receive(msg(1), 1).held.empty());
        CPPUNIT_ASSERT(runs(inbox.receive(msg(4), 1)) == std::vector<std::string>{"4-4"});
        CPPUNIT_ASSERT(runs(inbox.receive(msg(3), 1)) == (std::vector<std::string>{"3-4"}));
        CPPUNIT_ASSERT(runs(inbox.receive(msg(7), 1)) == (std::vector<std::string>{"3-4", "7-7"}));
        // A repeated line still names what is held; another sender's stream names its own.
        CPPUNIT_ASSERT(runs(inbox.receive(msg(1), 1)) == (std::vector<std::string>{"3-4", "7-7"}));
        CPPUNIT_ASSERT(inbox.receive(msg(1, "carol"), 1).held.empty());
        // The gap filled: 2 to 4 delivered, 7 still held.
        const auto filled = inbox.receive(msg(2), 1);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), filled.position);
        CPPUNIT_ASSERT(runs(filled) == std::vector<std::string>{"7-7"});
        // Every other line held: only the lowest runs fit one ack.
        for (std::uint64_t seq = 10; seq < 10 + 2 * (Protocol::kMaxAckRanges + 5); seq += 2) inbox.receive(msg(seq), 1);
        const auto many = inbox.receive(msg(1), 1);
        CPPUNIT_ASSERT_EQUAL(Protocol::kMaxAckRanges, many.held.size());
        CPPUNIT_ASSERT_EQUAL(std::string("7-7"), runs(many).front());
        CPPUNIT_ASSERT_EQUAL(std::string("70-70"), runs(many).back());
    }

    // Lines of a stream arrive shuffled, some twice: after each, the runs
    // named are those of the lines held at that moment, counted afresh.
    void testHeldRunsFollowEveryArrivalInAnyOrder()
    {
        PeerStore store(10000);
        Inbox inbox(store.incoming, store.lines, 1000);
        std::vector<std::uint64_t> arrivals;
        for (std::uint64_t seq = 1; seq <= 600; ++seq) arrivals.push_back(seq);
        for (std::uint64_t seq = 1; seq <= 600; seq += 7) arrivals.push_back(seq);
        std::mt19937 random(12);
        // Shuffled within blocks of 50: loss and reordering, not a stream sent backwards.
        for (std::size_t at = 0; at < arrivals.size(); at += 50)
            std::shuffle(arrivals.begin() + static_cast<std::ptrdiff_t>(at),
                         arrivals.begin() + static_cast<std::ptrdiff_t>(std::min(at + 50, arrivals.size())), random);
        std::set<std::uint64_t> held;
        std::uint64_t position = 0;
        for (const std::uint64_t seq : arrivals) {
            const Inbox::Result result = inbox.receive(msg(seq), 1);
            if (seq > position) held.insert(seq);
            while (!held.empty() && *held.begin() == position + 1) {
                position = *held.begin();
                held.erase(held.begin());
            }
            CPPUNIT_ASSERT_EQUAL(position, result.position);
            std::vector<SeqRange> expected;
            for (const std::uint64_t h : held) {
                if (!expected.empty() && expected.back().last + 1 == h) {
                    expected.back().last = h;
                } else if (expected.size() < Protocol::kMaxAckRanges) {
                    expected.push_back({h, h});
                } else {
                    break;
                }
            }
            CPPUNIT_ASSERT_EQUAL(expected.size(), result.held.size());
            for (std::size_t i = 0; i < expected.size(); ++i) {
                CPPUNIT_ASSERT_EQUAL(expected[i].first, result.held[i].first);
                CPPUNIT_ASSERT_EQUAL(expected[i].last, result.held[i].last);
            }
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(600), position);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), inbox.held());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InboxTest);
