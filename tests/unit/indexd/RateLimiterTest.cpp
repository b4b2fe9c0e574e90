#include "RateLimiter.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::RateLimiter;
using std::chrono::milliseconds;

namespace {

const Poco::Net::IPAddress kAlice("127.0.0.1");
const Poco::Net::IPAddress kBob("::1");
const RateLimiter::TimePoint kT0{};

// Address number i of 10.0.0.0/8.
Poco::Net::IPAddress address(int i)
{
    return Poco::Net::IPAddress("10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256) + "."
                                + std::to_string(i % 256));
}

} // namespace

class RateLimiterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RateLimiterTest);
    CPPUNIT_TEST(testAdmitsBurstOfTwiceTheRate);
    CPPUNIT_TEST(testRefillsAtTheRate);
    CPPUNIT_TEST(testRefillNeverPastBurst);
    CPPUNIT_TEST(testReportsOncePerSecond);
    CPPUNIT_TEST(testAddressesHaveTheirOwnBuckets);
    CPPUNIT_TEST(testTableBoundedForgettingLongestIdle);
    CPPUNIT_TEST(testFloodFromManyAddressesStaysBounded);
    CPPUNIT_TEST_SUITE_END();

public:
    void testAdmitsBurstOfTwiceTheRate()
    {
        RateLimiter limiter(20, 100);
        for (int i = 0; i < 40; ++i) CPPUNIT_ASSERT(limiter.admit(kAlice, kT0) == RateLimiter::Verdict::Admitted);
        CPPUNIT_ASSERT(limiter.admit(kAlice, kT0) != RateLimiter::Verdict::Admitted);
    }

    void testRefillsAtTheRate()
    {
        RateLimiter limiter(20, 100);
        for (int i = 0; i < 40; ++i) limiter.admit(kAlice, kT0);
        // A second brings the rate's worth, no more.
        int admitted = 0;
        for (int i = 0; i < 100; ++i)
            admitted += limiter.admit(kAlice, kT0 + milliseconds(1000)) == RateLimiter::Verdict::Admitted;
        CPPUNIT_ASSERT_EQUAL(20, admitted);
        // A token takes a twentieth of a second.
        CPPUNIT_ASSERT(limiter.admit(kAlice, kT0 + milliseconds(1040)) != RateLimiter::Verdict::Admitted);
        CPPUNIT_ASSERT(limiter.admit(kAlice, kT0 + milliseconds(1060)) == RateLimiter::Verdict::Admitted);
    }

    void testRefillNeverPastBurst()
    {
        RateLimiter limiter(5, 100);
        limiter.admit(kAlice, kT0);
        int admitted = 0;
        for (int i = 0; i < 100; ++i)
            admitted += limiter.admit(kAlice, kT0 + std::chrono::hours(1)) == RateLimiter::Verdict::Admitted;
        CPPUNIT_ASSERT_EQUAL(10, admitted);
    }

    void testReportsOncePerSecond()
    {
        RateLimiter limiter(1, 100);
        limiter.admit(kAlice, kT0);
        limiter.admit(kAlice, kT0);
        CPPUNIT_ASSERT(limiter.admit(kAlice, kT0) == RateLimiter::Verdict::Reported);
        CPPUNIT_ASSERT(limiter.admit(kAlice, kT0 + milliseconds(100)) == RateLimiter::Verdict::Dropped);
        // Within the second nothing more is reported; a token later the next drop is.
        CPPUNIT_ASSERT(limiter.admit(kAlice, kT0 + milliseconds(900)) == RateLimiter::Verdict::Dropped);
        CPPUNIT_ASSERT(limiter.admit(kAlice, kT0 + milliseconds(1100)) == RateLimiter::Verdict::Admitted);
        CPPUNIT_ASSERT(limiter.admit(kAlice, kT0 + milliseconds(1100)) == RateLimiter::Verdict::Reported);
    }

    void testAddressesHaveTheirOwnBuckets()
    {
        RateLimiter limiter(1, 100);
        for (int i = 0; i < 10; ++i) limiter.admit(kAlice, kT0);
        CPPUNIT_ASSERT(limiter.admit(kBob, kT0) == RateLimiter::Verdict::Admitted);
        CPPUNIT_ASSERT(limiter.admit(kBob, kT0) == RateLimiter::Verdict::Admitted);
        CPPUNIT_ASSERT(limiter.admit(kBob, kT0) != RateLimiter::Verdict::Admitted);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), limiter.size());
    }

    void testTableBoundedForgettingLongestIdle()
    {
        RateLimiter limiter(1, 3);
        for (int i = 0; i < 3; ++i) {
            limiter.admit(address(i), kT0);
            limiter.admit(address(i), kT0);
        }
        // address(0) is heard from again, so address(1) is the longest idle.
        CPPUNIT_ASSERT(limiter.admit(address(0), kT0 + milliseconds(1)) != RateLimiter::Verdict::Admitted);
        limiter.admit(address(3), kT0 + milliseconds(2));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), limiter.size());
        // Forgotten: it starts over with a full bucket.
        CPPUNIT_ASSERT(limiter.admit(address(1), kT0 + milliseconds(3)) == RateLimiter::Verdict::Admitted);
        // address(0) is remembered, still empty; address(2) went to make room for address(1).
        CPPUNIT_ASSERT(limiter.admit(address(0), kT0 + milliseconds(4)) != RateLimiter::Verdict::Admitted);
        CPPUNIT_ASSERT(limiter.admit(address(2), kT0 + milliseconds(5)) == RateLimiter::Verdict::Admitted);
    }

    void testFloodFromManyAddressesStaysBounded()
    {
        RateLimiter limiter(20, 1000);
        for (int i = 0; i < 200000; ++i) limiter.admit(address(i), kT0 + milliseconds(i / 1000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1000), limiter.size());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RateLimiterTest);
