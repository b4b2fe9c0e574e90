#include "PeerStore.h"
#include "Outbox.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <string>
#include <vector>

using namespace peerchat;
using namespace std::chrono_literals;

namespace {

const Outbox::TimePoint kStart = Outbox::TimePoint() + 1000h;

OutboxEntry line(const std::string& peer, std::uint64_t seq, const std::string& stream = "a1")
{
    return OutboxEntry{peer, seq, stream, seq, "12:00:00", "line " + std::to_string(seq)};
}

std::vector<std::uint64_t> seqs(const std::vector<OutboxEntry>& entries)
{
    std::vector<std::uint64_t> out;
    for (const OutboxEntry& entry : entries) out.push_back(entry.seq);
    return out;
}

// The times, relative to kStart in ms, at which poll() hands back the line, stepping the clock 1 ms at a time.
std::vector<long> resendTimes(Outbox& outbox, std::chrono::milliseconds until)
{
    std::vector<long> times;
    for (auto now = kStart; now <= kStart + until; now += 1ms) {
        if (!outbox.poll(now).resend.empty()) {
            times.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(now - kStart).count());
        }
    }
    return times;
}

} // namespace

class OutboxTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(OutboxTest);
    CPPUNIT_TEST(testRetriesBackOffDoublingToLongest);
    CPPUNIT_TEST(testNothingDueBeforeFirstInterval);
    CPPUNIT_TEST(testNextDueIsEarliestLine);
    CPPUNIT_TEST(testAcknowledgeForgetsUpToSeqOfThatStream);
    CPPUNIT_TEST(testProgressStartsBackoffOverForRestOfStream);
    CPPUNIT_TEST(testGiveUpReportsFailedOnceThenRetriesEveryGiveUp);
    CPPUNIT_TEST(testQueuedLineIsDueAtOnce);
    CPPUNIT_TEST(testHeldLineRestsUntilRestart);
    CPPUNIT_TEST(testRestartMakesPeerLinesDueWithFreshTiming);
    CPPUNIT_TEST(testTakeAllReturnsPeerLinesInOrder);
    CPPUNIT_TEST(testDueLinesComeInStreamOrder);
    CPPUNIT_TEST(testLineTrackedAgainKeepsOnlyItsOwnTiming);
    CPPUNIT_TEST(testThousandsOfLinesInAndOut);
    CPPUNIT_TEST(testSentTwiceTrackedOnce);
    CPPUNIT_TEST(testCountFollowsLinesPerPeer);
    CPPUNIT_TEST(testWindowHoldsLinesUntilAcksMakeRoom);
    CPPUNIT_TEST(testWindowsOfPeersAreTheirOwn);
    CPPUNIT_TEST(testLossHalvesWindowOncePerRoundTripNeverBelowTheFirst);
    CPPUNIT_TEST(testRepeatedAckSendsMissingLineAtOnce);
    CPPUNIT_TEST(testRetryWaitFollowsMeasuredRoundTrip);
    CPPUNIT_TEST(testSilentPeerIsProbedWithTheNewestLine);
    CPPUNIT_TEST(testProbesBackOffWhileThePeerStaysSilent);
    CPPUNIT_TEST(testNoProbeWhileThePeerIsHeard);
    CPPUNIT_TEST(testHeldRunsLeaveOnlyTheMissingLinesToSendAgain);
    CPPUNIT_TEST(testLostRetryGoesAgainWhenLaterLinesArrive);
    CPPUNIT_TEST(testAckBeforeTheFirstLineNamesWhatIsHeld);
    CPPUNIT_TEST(testLineReorderedALittleIsNotLost);
    CPPUNIT_TEST(testHeldLineGoesAgainAfterLongestBackoff);
    CPPUNIT_TEST(testHeldLinesLeaveRoomInTheWindow);
    CPPUNIT_TEST(testNoLineGoesPastWhatTheReceiverHolds);
    CPPUNIT_TEST_SUITE_END();

public:
    void testRetriesBackOffDoublingToLongest()
    {
        Outbox outbox({100ms, 800ms, 1h});
        outbox.sent(line("bob", 1), kStart);
        // 100, then +200, +400, +800, +800...
        const std::vector<long> expected{100, 300, 700, 1500, 2300, 3100};
        CPPUNIT_ASSERT(resendTimes(outbox, 3200ms) == expected);
    }

    void testNothingDueBeforeFirstInterval()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        outbox.sent(line("bob", 1), kStart);
        CPPUNIT_ASSERT(outbox.poll(kStart + 299ms).resend.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.poll(kStart + 300ms).resend.size());
        CPPUNIT_ASSERT(outbox.poll(kStart + 300ms).resend.empty());
    }

    void testNextDueIsEarliestLine()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        CPPUNIT_ASSERT(!outbox.nextDue());
        outbox.sent(line("bob", 1), kStart + 50ms);
        outbox.sent(line("carol", 1), kStart);
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 300ms);
        outbox.acknowledge("carol", "a1", 1, {}, kStart);
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 350ms);
    }

    void testAcknowledgeForgetsUpToSeqOfThatStream()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= 4; ++seq) outbox.sent(line("bob", seq), kStart);
        outbox.sent(line("bob", 1, "b2"), kStart);
        outbox.sent(line("carol", 1), kStart);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), outbox.acknowledge("bob", "ff", 9, {}, kStart));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), outbox.acknowledge("bob", "a1", 3, {}, kStart));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), outbox.acknowledge("bob", "a1", 3, {}, kStart));
        CPPUNIT_ASSERT(outbox.find("bob", "a1", 3) == nullptr);
        CPPUNIT_ASSERT(outbox.find("bob", "a1", 4) != nullptr);
        CPPUNIT_ASSERT(outbox.find("bob", "b2", 1) != nullptr);
        CPPUNIT_ASSERT(outbox.find("carol", "a1", 1) != nullptr);
        const auto due = outbox.poll(kStart + 300ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), due.resend.size());
    }

    void testProgressStartsBackoffOverForRestOfStream()
    {
        Outbox outbox({100ms, 800ms, 1h});
        for (std::uint64_t seq = 1; seq <= 3; ++seq) outbox.sent(line("bob", seq), kStart);
        outbox.sent(line("carol", 1), kStart);
        // All four back off together: 100, 300, 700, 1500, 2300.
        for (const auto at : {100ms, 300ms, 700ms, 1500ms, 2300ms}) {
            CPPUNIT_ASSERT_EQUAL(std::size_t(4), outbox.poll(kStart + at).resend.size());
        }
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 3100ms);

        // bob acks line 1: his lines 2 and 3 come again 100 ms later, then 200 ms after that.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.acknowledge("bob", "a1", 1, {}, kStart + 2400ms));
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 2500ms);
        const auto due = outbox.poll(kStart + 2500ms);
        CPPUNIT_ASSERT(seqs(due.resend) == (std::vector<std::uint64_t>{2, 3}));
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 2700ms);
        // carol's line keeps its own backoff; a repeated ack moves nothing.
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), outbox.acknowledge("bob", "a1", 1, {}, kStart + 2600ms));
        CPPUNIT_ASSERT(outbox.poll(kStart + 3099ms).resend.size() == 2);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 3100ms).resend) == std::vector<std::uint64_t>{1});
    }

    void testGiveUpReportsFailedOnceThenRetriesEveryGiveUp()
    {
        Outbox outbox({100ms, 800ms, 1000ms});
        outbox.sent(line("bob", 1), kStart);
        std::vector<long> failedAt;
        std::vector<long> resentAt;
        for (auto now = kStart; now <= kStart + 3500ms; now += 1ms) {
            const auto due = outbox.poll(now);
            const long ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - kStart).count();
            if (!due.failed.empty()) failedAt.push_back(ms);
            if (!due.resend.empty()) resentAt.push_back(ms);
        }
        CPPUNIT_ASSERT(failedAt == std::vector<long>{1000});
        // 100, 300, 700, then the give-up time itself, then every give-up interval.
        const std::vector<long> expected{100, 300, 700, 1000, 2000, 3000};
        CPPUNIT_ASSERT(resentAt == expected);
        CPPUNIT_ASSERT(outbox.find("bob", "a1", 1) != nullptr);
    }

    void testQueuedLineIsDueAtOnce()
    {
        Outbox outbox({100ms, 800ms, 60000ms});
        outbox.queue(line("bob", 1), kStart);
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart);
        const std::vector<long> expected{0, 100, 300};
        CPPUNIT_ASSERT(resendTimes(outbox, 400ms) == expected);
    }

    void testHeldLineRestsUntilRestart()
    {
        Outbox outbox({100ms, 800ms, 1000ms});
        outbox.sent(line("bob", 1), kStart);
        outbox.rest(line("bob", 2));
        CPPUNIT_ASSERT(outbox.hold("bob", "a1", 1));
        CPPUNIT_ASSERT(!outbox.hold("bob", "a1", 7));
        CPPUNIT_ASSERT(!outbox.nextDue());
        CPPUNIT_ASSERT(resendTimes(outbox, 5000ms).empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), outbox.size());

        outbox.restart("bob", kStart + 10000ms);
        const auto due = outbox.poll(kStart + 10000ms);
        CPPUNIT_ASSERT(seqs(due.resend) == (std::vector<std::uint64_t>{1, 2}));
        CPPUNIT_ASSERT(due.failed.empty());
    }

    void testRestartMakesPeerLinesDueWithFreshTiming()
    {
        Outbox outbox({100ms, 800ms, 1000ms});
        outbox.sent(line("bob", 1), kStart);
        outbox.sent(line("carol", 1), kStart);
        // bob's line failed and waits a whole give-up interval...
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), outbox.poll(kStart + 1000ms).failed.size());
        // ...until bob logs in again: due now, then 100 ms later, and a new give-up time.
        outbox.restart("bob", kStart + 1200ms);
        auto due = outbox.poll(kStart + 1200ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), due.resend.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), due.resend[0].peer);
        CPPUNIT_ASSERT(outbox.poll(kStart + 1299ms).resend.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.poll(kStart + 1300ms).resend.size());
        due = outbox.poll(kStart + 2200ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), due.failed.size());
    }

    void testTakeAllReturnsPeerLinesInOrder()
    {
        Outbox outbox({100ms, 800ms, 1000ms});
        outbox.sent(line("bob", 2), kStart);
        outbox.rest(line("bob", 1));
        outbox.sent(line("bobby", 1), kStart);
        const auto taken = outbox.takeAll("bob");
        CPPUNIT_ASSERT(seqs(taken) == (std::vector<std::uint64_t>{1, 2}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.size());
        CPPUNIT_ASSERT(outbox.find("bobby", "a1", 1) != nullptr);
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 100ms);
    }

    // A line taken and tracked again under the same key (Delivery does so
    // when a peer's lines go back to the store's order) wakes at its own
    // times, never at one its predecessor had scheduled.
    void testLineTrackedAgainKeepsOnlyItsOwnTiming()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        // Due at 290 ms, before any of bob's: what wakes first keeps bob's old times in the schedule.
        outbox.sent(line("carol", 1), kStart - 10ms);
        outbox.queue(line("bob", 1), kStart);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.poll(kStart).resend.size());  // due again at 300 ms
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.takeAll("bob").size());
        outbox.queue(line("bob", 1), kStart + 10ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.poll(kStart + 10ms).resend.size());  // due again at 310 ms
        const auto due = outbox.poll(kStart + 305ms).resend;
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), due.size());
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), due.front().peer);
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 310ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.poll(kStart + 310ms).resend.size());
    }

    // A burst the size of a full queue, sent through the window and acked in
    // runs: every line goes out once, in order, and nothing is left behind.
    void testThousandsOfLinesInAndOut()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= 10000; ++seq) outbox.queue(line("bob", seq), kStart);
        std::uint64_t next = 1;
        auto now = kStart;
        while (outbox.size() > 0) {
            for (const OutboxEntry& entry : outbox.poll(now).resend) CPPUNIT_ASSERT_EQUAL(next++, entry.seq);
            now += 1ms;
            outbox.acknowledge("bob", "a1", next - 1, {}, now);
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(10001), next);
        CPPUNIT_ASSERT(!outbox.nextDue());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), outbox.count("bob"));
    }

    void testDueLinesComeInStreamOrder()
    {
        Outbox outbox({100ms, 800ms, 1000ms});
        outbox.sent(line("bob", 3), kStart);
        outbox.sent(line("bob", 1), kStart + 5ms);
        outbox.sent(line("bob", 2), kStart + 2ms);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 200ms).resend) == (std::vector<std::uint64_t>{1, 2, 3}));
    }

    void testSentTwiceTrackedOnce()
    {
        Outbox outbox({100ms, 800ms, 1000ms});
        outbox.sent(line("bob", 1), kStart);
        outbox.sent(line("bob", 1), kStart + 50ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.size());
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 100ms);
    }

    void testCountFollowsLinesPerPeer()
    {
        Outbox outbox({100ms, 800ms, 1000ms});
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), outbox.count("bob"));
        for (std::uint64_t seq = 1; seq <= 3; ++seq) outbox.sent(line("bob", seq), kStart);
        outbox.rest(line("bob", 4));
        outbox.queue(line("carol", 1), kStart);
        outbox.sent(line("bob", 1), kStart);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), outbox.count("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.count("carol"));
        outbox.acknowledge("bob", "a1", 2, {}, kStart);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), outbox.count("bob"));
        outbox.takeAll("bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), outbox.count("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), outbox.count("carol"));
    }

    void testWindowHoldsLinesUntilAcksMakeRoom()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        const auto window = static_cast<std::uint64_t>(Outbox::kInitialWindow);
        for (std::uint64_t seq = 1; seq <= window + 44; ++seq) outbox.queue(line("bob", seq), kStart);
        const auto first = outbox.poll(kStart);
        CPPUNIT_ASSERT_EQUAL(std::size_t(Outbox::kInitialWindow), first.resend.size());
        CPPUNIT_ASSERT_EQUAL(window, first.resend.back().seq);
        CPPUNIT_ASSERT(outbox.poll(kStart + 1ms).resend.empty());
        // Ten lines arrive: ten places free, and the window grows by ten (it doubles each round trip).
        outbox.acknowledge("bob", "a1", 10, {}, kStart + 2ms);
        CPPUNIT_ASSERT(*outbox.nextDue() <= kStart + 2ms);
        const auto more = outbox.poll(kStart + 2ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(20), more.resend.size());
        CPPUNIT_ASSERT_EQUAL(window + 1, more.resend.front().seq);
        CPPUNIT_ASSERT_EQUAL(Outbox::kInitialWindow + 10, outbox.window("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(window + 34), outbox.count("bob"));
    }

    void testWindowsOfPeersAreTheirOwn()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= Outbox::kInitialWindow * 2; ++seq) outbox.queue(line("bob", seq), kStart);
        outbox.queue(line("carol", 1), kStart);
        const auto due = outbox.poll(kStart);
        // A burst to bob leaves carol's line its turn.
        CPPUNIT_ASSERT_EQUAL(std::size_t(Outbox::kInitialWindow) + 1, due.resend.size());
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), due.resend.back().peer);
    }

    void testLossHalvesWindowOncePerRoundTripNeverBelowTheFirst()
    {
        Outbox outbox({100ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= Outbox::kMaxWindow * 4; ++seq) outbox.queue(line("bob", seq), kStart);
        // Every line acked at once, round after round: the window doubles to its most.
        auto now = kStart;
        std::uint64_t acked = 0;
        for (int round = 0; round < 3; ++round) {
            acked += outbox.poll(now).resend.size();
            outbox.acknowledge("bob", "a1", acked, {}, now);
        }
        CPPUNIT_ASSERT_EQUAL(Outbox::kMaxWindow, outbox.window("bob"));
        outbox.poll(now);
        // Their retries come due: a loss, and the window halves, once for the whole round trip.
        now += 100ms;
        CPPUNIT_ASSERT(!outbox.poll(now).resend.empty());
        CPPUNIT_ASSERT_EQUAL(Outbox::kMaxWindow / 2, outbox.window("bob"));
        now += 1ms;
        outbox.poll(now);
        CPPUNIT_ASSERT_EQUAL(Outbox::kMaxWindow / 2, outbox.window("bob"));
        // Loss after loss, a round trip apart: never below the first window.
        for (int loss = 0; loss < 10; ++loss) {
            now += 8000ms;
            outbox.poll(now);
        }
        CPPUNIT_ASSERT_EQUAL(Outbox::kInitialWindow, outbox.window("bob"));
    }

    void testRepeatedAckSendsMissingLineAtOnce()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= 6; ++seq) outbox.sent(line("bob", seq), kStart);
        outbox.acknowledge("bob", "a1", 2, {}, kStart + 10ms);
        // bob has 4, 5 and 6 but not 3: he says 2 again for each. An ack overtaken on the way counts for nothing.
        outbox.acknowledge("bob", "a1", 2, {}, kStart + 11ms);
        outbox.acknowledge("bob", "a1", 1, {}, kStart + 11ms);
        outbox.acknowledge("bob", "a1", 2, {}, kStart + 12ms);
        CPPUNIT_ASSERT(*outbox.nextDue() > kStart + 12ms);
        outbox.acknowledge("bob", "a1", 2, {}, kStart + 13ms);
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 13ms);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 13ms).resend) == std::vector<std::uint64_t>{3});
    }

    void testRetryWaitFollowsMeasuredRoundTrip()
    {
        Outbox outbox({100ms, 8000ms, 60000ms});
        outbox.sent(line("bob", 1), kStart);
        // A round trip of a second: the timeout becomes 1 s + 4 x 0.5 s.
        outbox.acknowledge("bob", "a1", 1, {}, kStart + 1000ms);
        outbox.sent(line("bob", 2), kStart + 1000ms);
        // A peer silent for two round trips is probed first (the line is the newest unheard of).
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 3000ms);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 3000ms).resend) == std::vector<std::uint64_t>{2});
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 4000ms);
    }

    void testSilentPeerIsProbedWithTheNewestLine()
    {
        // The last lines of a burst are lost: no later line arrives to show it.
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= 10; ++seq) outbox.sent(line("bob", seq), kStart);
        outbox.acknowledge("bob", "a1", 5, {}, kStart + 10ms);
        const double window = outbox.window("bob");
        // Two round trips of silence: the newest line goes again, and the window stays.
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 30ms);
        CPPUNIT_ASSERT(outbox.poll(kStart + 29ms).resend.empty());
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 30ms).resend) == std::vector<std::uint64_t>{10});
        CPPUNIT_ASSERT_EQUAL(window, outbox.window("bob"));
        // bob holds it: the lines before it are lost, all of them, at once.
        outbox.acknowledge("bob", "a1", 5, {{10, 10}}, kStart + 35ms);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 35ms).resend) == (std::vector<std::uint64_t>{6, 7, 8, 9}));
    }

    void testProbesBackOffWhileThePeerStaysSilent()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        outbox.sent(line("bob", 1), kStart);
        outbox.acknowledge("bob", "a1", 1, {}, kStart + 10ms);
        outbox.sent(line("bob", 2), kStart + 10ms);
        // Probes after 2, then 4 and 8 round trips; the line's own retry (300 ms after it went) is not moved.
        const std::vector<long> times = resendTimes(outbox, 320ms);
        CPPUNIT_ASSERT(times == (std::vector<long>{30, 70, 150, 310}));
    }

    void testNoProbeWhileThePeerIsHeard()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        outbox.sent(line("bob", 1), kStart);
        outbox.acknowledge("bob", "a1", 1, {}, kStart + 10ms);
        // A line every 10 ms, each acked 10 ms later: nothing goes twice.
        for (std::uint64_t seq = 2; seq <= 30; ++seq) {
            const auto at = kStart + std::chrono::milliseconds(10 * seq);
            outbox.sent(line("bob", seq), at - 10ms);
            outbox.acknowledge("bob", "a1", seq, {}, at);
            CPPUNIT_ASSERT(outbox.poll(at).resend.empty());
        }
    }

    void testHeldRunsLeaveOnlyTheMissingLinesToSendAgain()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= 10; ++seq) outbox.sent(line("bob", seq), kStart);
        // bob has 1 and 2, holds 4 to 6 and 8 to 10: 3 and 7 went out before lines he has.
        outbox.acknowledge("bob", "a1", 2, {{4, 6}, {8, 10}}, kStart + 10ms);
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 10ms);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 10ms).resend) == (std::vector<std::uint64_t>{3, 7}));
        // The held lines wait on; only 3 and 7 back off.
        for (auto now = kStart + 11ms; now < kStart + 7000ms; now += 10ms) {
            for (const std::uint64_t seq : seqs(outbox.poll(now).resend)) CPPUNIT_ASSERT(seq == 3 || seq == 7);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(8), outbox.count("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(8), outbox.acknowledge("bob", "a1", 10, {}, kStart + 7000ms));
    }

    void testLostRetryGoesAgainWhenLaterLinesArrive()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= 10; ++seq) outbox.sent(line("bob", seq), kStart);
        outbox.acknowledge("bob", "a1", 1, {{3, 10}}, kStart + 10ms);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 10ms).resend) == std::vector<std::uint64_t>{2});
        // 2's retry is lost too; three lines sent after it arrive.
        for (std::uint64_t seq = 11; seq <= 15; ++seq) outbox.sent(line("bob", seq), kStart + 11ms);
        outbox.acknowledge("bob", "a1", 1, {{3, 12}}, kStart + 20ms);
        CPPUNIT_ASSERT(*outbox.nextDue() > kStart + 20ms);
        outbox.acknowledge("bob", "a1", 1, {{3, 13}}, kStart + 21ms);
        CPPUNIT_ASSERT(*outbox.nextDue() == kStart + 21ms);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 21ms).resend) == std::vector<std::uint64_t>{2});
    }

    void testAckBeforeTheFirstLineNamesWhatIsHeld()
    {
        // 1 and 2 are lost; bob holds 3 to 8 and has delivered nothing: position 0.
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= 8; ++seq) outbox.sent(line("bob", seq), kStart);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), outbox.acknowledge("bob", "a1", 0, {{3, 8}}, kStart + 10ms));
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 10ms).resend) == (std::vector<std::uint64_t>{1, 2}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(8), outbox.count("bob"));
    }

    void testLineReorderedALittleIsNotLost()
    {
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= 5; ++seq) outbox.sent(line("bob", seq), kStart);
        outbox.acknowledge("bob", "a1", 1, {{3, 4}}, kStart + 10ms);
        CPPUNIT_ASSERT(*outbox.nextDue() > kStart + 10ms);
        outbox.acknowledge("bob", "a1", 1, {{3, 5}}, kStart + 11ms);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 11ms).resend) == std::vector<std::uint64_t>{2});
    }

    void testHeldLineGoesAgainAfterLongestBackoff()
    {
        // bob may drop what he holds (a restart, his memory bound): it goes again, late.
        Outbox outbox({300ms, 8000ms, 60000ms});
        for (std::uint64_t seq = 1; seq <= 3; ++seq) outbox.sent(line("bob", seq), kStart);
        outbox.acknowledge("bob", "a1", 1, {{3, 3}}, kStart + 10ms);
        std::vector<long> threeAt;
        for (auto now = kStart + 10ms; now <= kStart + 8020ms; now += 1ms) {
            for (const std::uint64_t seq : seqs(outbox.poll(now).resend)) {
                if (seq == 3) threeAt.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(now - kStart).count());
            }
        }
        CPPUNIT_ASSERT(threeAt == std::vector<long>{8010});
    }

    void testHeldLinesLeaveRoomInTheWindow()
    {
        // What bob holds ahead of a gap has left the path: while 2 goes again, new lines go on.
        Outbox outbox({300ms, 8000ms, 60000ms});
        const auto last = static_cast<std::uint64_t>(Outbox::kInitialWindow);
        for (std::uint64_t seq = 1; seq <= last + 10; ++seq) outbox.queue(line("bob", seq), kStart);
        CPPUNIT_ASSERT_EQUAL(std::size_t(Outbox::kInitialWindow), outbox.poll(kStart).resend.size());
        outbox.acknowledge("bob", "a1", 1, {{3, last}}, kStart + 10ms);
        std::vector<std::uint64_t> expected{2};
        for (std::uint64_t seq = last + 1; seq <= last + 10; ++seq) expected.push_back(seq);
        CPPUNIT_ASSERT(seqs(outbox.poll(kStart + 10ms).resend) == expected);
    }

    void testNoLineGoesPastWhatTheReceiverHolds()
    {
        // 2 is lost again and again while bob holds every later line: the
        // stream goes on up to kMostAhead past 2, and no further until 2 arrives.
        Outbox outbox({300ms, 8000ms, 60000ms});
        const std::uint64_t total = Outbox::kMostAhead + 100;
        for (std::uint64_t seq = 1; seq <= total; ++seq) outbox.queue(line("bob", seq), kStart);
        std::uint64_t highest = 0;
        auto now = kStart;
        for (int round = 0; round < 20; ++round) {
            for (const std::uint64_t seq : seqs(outbox.poll(now).resend)) highest = std::max(highest, seq);
            now += 10ms;
            outbox.acknowledge("bob", "a1", 1, {{3, highest}}, now);
        }
        CPPUNIT_ASSERT_EQUAL(1 + Outbox::kMostAhead, highest);
        outbox.acknowledge("bob", "a1", highest, {}, now);
        CPPUNIT_ASSERT(seqs(outbox.poll(now).resend).front() == highest + 1);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OutboxTest);
