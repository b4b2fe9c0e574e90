#include "RateLimiter.h"

#include <Poco/Net/IPAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::RateLimiter;
using std::chrono::milliseconds;

namespace {

// Keys as indexd makes them from source addresses: the raw bytes.
std::string key(const Poco::Net::IPAddress& address)
{
    return std::string(static_cast<const char*>(address.addr()), address.length());
}

const std::string kAlice = key(Poco::Net::IPAddress("127.0.0.1"));
const std::string kBob = key(Poco::Net::IPAddress("::1"));
const RateLimiter::TimePoint kT0{};

// The key of address number i of 10.0.0.0/8.
std::string address(int i)
{
    return key(Poco::Net::IPAddress("10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256)
                                    + "." + std::to_string(i % 256)));
}

} // namespace

class RateLimiterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RateLimiterTest);
    CPPUNIT_TEST(testAdmitsTheBurst);
    CPPUNIT_TEST(testRefillsAtTheRate);
    CPPUNIT_TEST(testRefillNeverPastBurst);
    CPPUNIT_TEST(testRatesBelowOneASecond);
    CPPUNIT_TEST(testAddressesHaveTheirOwnBuckets);
    CPPUNIT_TEST(testKeysOfAnyBytesHaveTheirOwnBuckets);
    CPPUNIT_TEST(testTableBoundedForgettingLongestIdle);
    CPPUNIT_TEST(testFloodFromManyAddressesStaysBounded);
    CPPUNIT_TEST_SUITE_END();

public:
    void testAdmitsTheBurst()
    {
        RateLimiter limiter(20, 40, 100);
        for (int i = 0; i < 40; ++i) CPPUNIT_ASSERT(limiter.admit(kAlice, kT0));
        CPPUNIT_ASSERT(!limiter.admit(kAlice, kT0));
    }

    void testRefillsAtTheRate()
    {
        RateLimiter limiter(20, 40, 100);
        for (int i = 0; i < 40; ++i) limiter.admit(kAlice, kT0);
        // A second brings the rate's worth, no more.
        int admitted = 0;
        for (int i = 0; i < 100; ++i) admitted += limiter.admit(kAlice, kT0 + milliseconds(1000));
        CPPUNIT_ASSERT_EQUAL(20, admitted);
        // A token takes a twentieth of a second.
        CPPUNIT_ASSERT(!limiter.admit(kAlice, kT0 + milliseconds(1040)));
        CPPUNIT_ASSERT(limiter.admit(kAlice, kT0 + milliseconds(1060)));
    }

    void testRefillNeverPastBurst()
    {
        RateLimiter limiter(5, 10, 100);
        limiter.admit(kAlice, kT0);
        int admitted = 0;
        for (int i = 0; i < 100; ++i) admitted += limiter.admit(kAlice, kT0 + std::chrono::hours(1));
        CPPUNIT_ASSERT_EQUAL(10, admitted);
    }

    void testRatesBelowOneASecond()
    {
        // Six a minute, six at once: indexd's default login limit.
        RateLimiter limiter(6.0 / 60, 6, 100);
        for (int i = 0; i < 6; ++i) CPPUNIT_ASSERT(limiter.admit("key", kT0));
        CPPUNIT_ASSERT(!limiter.admit("key", kT0));
        CPPUNIT_ASSERT(!limiter.admit("key", kT0 + milliseconds(9900)));
        CPPUNIT_ASSERT(limiter.admit("key", kT0 + milliseconds(10100)));
        CPPUNIT_ASSERT(!limiter.admit("key", kT0 + milliseconds(10200)));
    }

    void testAddressesHaveTheirOwnBuckets()
    {
        RateLimiter limiter(1, 2, 100);
        for (int i = 0; i < 10; ++i) limiter.admit(kAlice, kT0);
        CPPUNIT_ASSERT(limiter.admit(kBob, kT0));
        CPPUNIT_ASSERT(limiter.admit(kBob, kT0));
        CPPUNIT_ASSERT(!limiter.admit(kBob, kT0));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), limiter.size());
    }

    void testKeysOfAnyBytesHaveTheirOwnBuckets()
    {
        RateLimiter limiter(1, 1, 100);
        const std::string identity(32, 'k');
        CPPUNIT_ASSERT(limiter.admit(identity, kT0));
        CPPUNIT_ASSERT(!limiter.admit(identity, kT0));
        // A prefix, and bytes with NUL in them, are other keys.
        CPPUNIT_ASSERT(limiter.admit(identity.substr(0, 31), kT0));
        CPPUNIT_ASSERT(limiter.admit(std::string("a\0b", 3), kT0));
        CPPUNIT_ASSERT(limiter.admit(std::string("a\0c", 3), kT0));
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), limiter.size());
    }

    void testTableBoundedForgettingLongestIdle()
    {
        RateLimiter limiter(1, 2, 3);
        for (int i = 0; i < 3; ++i) {
            limiter.admit(address(i), kT0);
            limiter.admit(address(i), kT0);
        }
        // address(0) is heard from again, so address(1) is the longest idle.
        CPPUNIT_ASSERT(!limiter.admit(address(0), kT0 + milliseconds(1)));
        limiter.admit(address(3), kT0 + milliseconds(2));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), limiter.size());
        // Forgotten: it starts over with a full bucket.
        CPPUNIT_ASSERT(limiter.admit(address(1), kT0 + milliseconds(3)));
        // address(0) is remembered, still empty; address(2) went to make room for address(1).
        CPPUNIT_ASSERT(!limiter.admit(address(0), kT0 + milliseconds(4)));
        CPPUNIT_ASSERT(limiter.admit(address(2), kT0 + milliseconds(5)));
    }

    void testFloodFromManyAddressesStaysBounded()
    {
        RateLimiter limiter(20, 40, 1000);
        for (int i = 0; i < 200000; ++i) limiter.admit(address(i), kT0 + milliseconds(i / 1000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1000), limiter.size());
        // The table still tells the addresses it holds apart from the ones it forgot.
        for (int i = 0; i < 40; ++i) limiter.admit(address(199999), kT0 + milliseconds(200));
        CPPUNIT_ASSERT(!limiter.admit(address(199999), kT0 + milliseconds(200)));
        CPPUNIT_ASSERT(limiter.admit(address(0), kT0 + milliseconds(200)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RateLimiterTest);
