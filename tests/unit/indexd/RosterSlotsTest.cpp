#include "RosterSlots.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::RosterSlots;
using namespace std::chrono_literals;

namespace {

const Poco::Net::IPAddress kAlice("192.0.2.1");
const Poco::Net::IPAddress kBob("192.0.2.2");
const RosterSlots::TimePoint kStart{};

} // namespace

class RosterSlotsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RosterSlotsTest);
    CPPUNIT_TEST(testFullWhenEverySlotHeld);
    CPPUNIT_TEST(testAddressFullAtItsLimitOnly);
    CPPUNIT_TEST(testReleaseFreesSlotAndAddress);
    CPPUNIT_TEST(testNoneStalledBeforeStallTime);
    CPPUNIT_TEST(testLongestStalledIsOldestWithoutProgress);
    CPPUNIT_TEST(testProgressPutsConnectionLast);
    CPPUNIT_TEST(testNextStallIsWhenOldestStalls);
    CPPUNIT_TEST(testUnknownConnectionsIgnored);
    CPPUNIT_TEST(testIPv6AddressesCountedApart);
    CPPUNIT_TEST_SUITE_END();

public:
    void testFullWhenEverySlotHeld()
    {
        RosterSlots slots(2, 8, 500ms);
        CPPUNIT_ASSERT(!slots.full());
        slots.take(1, kAlice, kStart);
        CPPUNIT_ASSERT(!slots.full());
        slots.take(2, kBob, kStart);
        CPPUNIT_ASSERT(slots.full());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), slots.size());
    }

    void testAddressFullAtItsLimitOnly()
    {
        RosterSlots slots(10, 2, 500ms);
        slots.take(1, kAlice, kStart);
        CPPUNIT_ASSERT(!slots.addressFull(kAlice));
        slots.take(2, kAlice, kStart);
        CPPUNIT_ASSERT(slots.addressFull(kAlice));
        CPPUNIT_ASSERT(!slots.addressFull(kBob));
        CPPUNIT_ASSERT(!slots.full());
    }

    void testReleaseFreesSlotAndAddress()
    {
        RosterSlots slots(2, 2, 500ms);
        slots.take(1, kAlice, kStart);
        slots.take(2, kAlice, kStart);
        slots.release(1);
        CPPUNIT_ASSERT(!slots.full());
        CPPUNIT_ASSERT(!slots.addressFull(kAlice));
        slots.release(2);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), slots.size());
        CPPUNIT_ASSERT(!slots.nextStall());
    }

    void testNoneStalledBeforeStallTime()
    {
        RosterSlots slots(2, 8, 500ms);
        CPPUNIT_ASSERT(!slots.longestStalled(kStart));
        slots.take(1, kAlice, kStart);
        CPPUNIT_ASSERT(!slots.longestStalled(kStart + 499ms));
        CPPUNIT_ASSERT_EQUAL(RosterSlots::Id(1), slots.longestStalled(kStart + 500ms).value());
    }

    void testLongestStalledIsOldestWithoutProgress()
    {
        RosterSlots slots(3, 8, 500ms);
        slots.take(1, kAlice, kStart);
        slots.take(2, kBob, kStart + 100ms);
        slots.take(3, kBob, kStart + 200ms);
        CPPUNIT_ASSERT_EQUAL(RosterSlots::Id(1), slots.longestStalled(kStart + 2s).value());
        slots.release(1);
        CPPUNIT_ASSERT_EQUAL(RosterSlots::Id(2), slots.longestStalled(kStart + 2s).value());
    }

    void testProgressPutsConnectionLast()
    {
        RosterSlots slots(2, 8, 500ms);
        slots.take(1, kAlice, kStart);
        slots.take(2, kBob, kStart + 100ms);
        slots.progressed(1, kStart + 300ms);
        // 2 took nothing since 100 ms, 1 since 300 ms.
        CPPUNIT_ASSERT(!slots.longestStalled(kStart + 599ms));
        CPPUNIT_ASSERT_EQUAL(RosterSlots::Id(2), slots.longestStalled(kStart + 600ms).value());
        slots.progressed(2, kStart + 700ms);
        CPPUNIT_ASSERT_EQUAL(RosterSlots::Id(1), slots.longestStalled(kStart + 800ms).value());
    }

    void testNextStallIsWhenOldestStalls()
    {
        RosterSlots slots(2, 8, 500ms);
        slots.take(1, kAlice, kStart);
        slots.take(2, kBob, kStart + 100ms);
        CPPUNIT_ASSERT(kStart + 500ms == slots.nextStall().value());
        slots.progressed(1, kStart + 200ms);
        CPPUNIT_ASSERT(kStart + 600ms == slots.nextStall().value());
    }

    void testUnknownConnectionsIgnored()
    {
        RosterSlots slots(2, 8, 500ms);
        slots.take(1, kAlice, kStart);
        slots.progressed(7, kStart + 1s);
        slots.release(7);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), slots.size());
        CPPUNIT_ASSERT_EQUAL(RosterSlots::Id(1), slots.longestStalled(kStart + 1s).value());
    }

    void testIPv6AddressesCountedApart()
    {
        RosterSlots slots(10, 1, 500ms);
        slots.take(1, Poco::Net::IPAddress("2001:db8::1"), kStart);
        CPPUNIT_ASSERT(slots.addressFull(Poco::Net::IPAddress("2001:db8::1")));
        CPPUNIT_ASSERT(!slots.addressFull(Poco::Net::IPAddress("2001:db8::2")));
        CPPUNIT_ASSERT(!slots.addressFull(kAlice));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterSlotsTest);
