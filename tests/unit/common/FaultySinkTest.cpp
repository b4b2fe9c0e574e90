#include "FaultySink.h"

#include "ManualTimers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <string>
#include <vector>

using peerchat::DatagramSink;
using peerchat::Endpoint;
using peerchat::FaultSettings;
using peerchat::FaultySink;
using peerchat::test::ManualTimers;
using namespace std::chrono_literals;

namespace {

FaultSettings faults(const std::string& spec)
{
    const auto parsed = FaultSettings::parse(spec);
    CPPUNIT_ASSERT_MESSAGE(parsed.error(), parsed.ok());
    return *parsed;
}

std::vector<std::string> numbered(int count)
{
    std::vector<std::string> texts;
    for (int i = 0; i < count; ++i) texts.push_back("datagram " + std::to_string(i));
    return texts;
}

/// Keeps what reaches the socket behind the faults, in order.
struct RecordingSink : DatagramSink
{
    void sendTo(std::string_view bytes, const Endpoint&) override { sent.emplace_back(bytes); }
    std::vector<std::string> sent;
};

} // namespace

/// Fault injection in front of a sink, on a hand-turned clock: what would
/// reach the socket, and when.
class FaultySinkTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(FaultySinkTest);
    CPPUNIT_TEST(testDropAllPassesNothing);
    CPPUNIT_TEST(testDuplicateAllPassesEachTwice);
    CPPUNIT_TEST(testReorderHoldsDatagramBehindLaterOne);
    CPPUNIT_TEST(testDelayPassesEachWithinDelay);
    CPPUNIT_TEST(testDelayChangesOrderSameWayForSameSeed);
    CPPUNIT_TEST(testReorderChangesOrderSameWayForSameSeed);
    CPPUNIT_TEST(testDelayedDatagramsForgottenWhenSinkGoes);
    CPPUNIT_TEST_SUITE_END();

public:
    void testDropAllPassesNothing()
    {
        CPPUNIT_ASSERT(passed(faults("drop=1"), numbered(20), 1s).empty());
    }

    void testDuplicateAllPassesEachTwice()
    {
        CPPUNIT_ASSERT(passed(faults("dup=1"), {"a", "b"}, 0ms) == (std::vector<std::string>{"a", "a", "b", "b"}));
    }

    void testReorderHoldsDatagramBehindLaterOne()
    {
        ManualTimers timers;
        RecordingSink socket;
        FaultySink sink(socket, timers, faults("reorder=1"));
        sink.sendTo("held", kTo);
        FaultySink clean(socket, timers, FaultSettings{});
        clean.sendTo("later", kTo);
        timers.advance(1s);
        CPPUNIT_ASSERT(socket.sent == (std::vector<std::string>{"later", "held"}));
    }

    void testDelayPassesEachWithinDelay()
    {
        ManualTimers timers;
        RecordingSink socket;
        FaultySink sink(socket, timers, faults("delay=40,seed=7"));
        for (const auto& text : numbered(12)) sink.sendTo(text, kTo);
        timers.advance(40ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(12), socket.sent.size());
    }

    void testDelayChangesOrderSameWayForSameSeed()
    {
        assertSameShuffleForSameSeed("delay=40,seed=7");
    }

    void testReorderChangesOrderSameWayForSameSeed()
    {
        assertSameShuffleForSameSeed("reorder=0.5,seed=3");
    }

    void testDelayedDatagramsForgottenWhenSinkGoes()
    {
        ManualTimers timers;
        RecordingSink socket;
        {
            FaultySink sink(socket, timers, faults("reorder=1"));
            sink.sendTo("held", kTo);
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), timers.pending());
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), timers.pending());
    }

private:
    // What reaches the socket of texts sent under settings, within wait.
    static std::vector<std::string> passed(const FaultSettings& settings, const std::vector<std::string>& texts,
                                           std::chrono::milliseconds wait)
    {
        ManualTimers timers;
        RecordingSink socket;
        FaultySink sink(socket, timers, settings);
        for (const auto& text : texts) sink.sendTo(text, kTo);
        timers.advance(wait);
        return socket.sent;
    }

    // Sending the same datagrams twice under spec (which fixes the seed)
    // passes all of them, in an order other than the sending order, and in
    // the same order both times.
    static void assertSameShuffleForSameSeed(const std::string& spec)
    {
        const auto texts = numbered(12);
        const auto first = passed(faults(spec), texts, 1s);
        const auto second = passed(faults(spec), texts, 1s);
        CPPUNIT_ASSERT(first == second);
        CPPUNIT_ASSERT(first != texts);
        auto order = first;
        std::sort(order.begin(), order.end());
        auto sortedTexts = texts;
        std::sort(sortedTexts.begin(), sortedTexts.end());
        CPPUNIT_ASSERT(order == sortedTexts);
    }

    static inline const Endpoint kTo{Poco::Net::SocketAddress("127.0.0.1", 9)};
};

CPPUNIT_TEST_SUITE_REGISTRATION(FaultySinkTest);
