#include "UnprovenLogins.h"

#include "RecordingSink.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::Dialect;
using peerchat::OnlineUser;
using peerchat::UnprovenLogins;
using peerchat::test::endpoint;
using std::chrono::milliseconds;

namespace {

const UnprovenLogins::TimePoint kT0{};

// A seed user name logged in from at, its source address at's.
OnlineUser seed(const std::string& name, const std::string& at)
{
    const auto where = endpoint(at);
    return OnlineUser{name, where, Dialect::Seed, where.host(), std::nullopt};
}

Poco::Net::IPAddress ip(const std::string& text)
{
    return Poco::Net::IPAddress(text);
}

std::string nameOf(const std::optional<OnlineUser>& user)
{
    return user ? user->name : "nobody";
}

} // namespace

class UnprovenLoginsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(UnprovenLoginsTest);
    CPPUNIT_TEST(testHeldUntilProvenFromItsAddress);
    CPPUNIT_TEST(testEachProofTakesOldestOfItsAddress);
    CPPUNIT_TEST(testLoginOfSameNameReplacesWaitingOne);
    CPPUNIT_TEST(testForgetTakesOut);
    CPPUNIT_TEST(testExpireTakesOldOnesOldestFirst);
    CPPUNIT_TEST(testFullForgetsOldest);
    CPPUNIT_TEST_SUITE_END();

public:
    void testHeldUntilProvenFromItsAddress()
    {
        UnprovenLogins logins(100);
        logins.hold(seed("alice", "127.0.0.1:5001"), kT0);
        CPPUNIT_ASSERT(logins.find("alice"));
        CPPUNIT_ASSERT(!logins.find("bob"));
        CPPUNIT_ASSERT(!logins.prove(ip("127.0.0.2")));
        CPPUNIT_ASSERT(!logins.prove(ip("::1")));
        const auto proven = logins.prove(ip("127.0.0.1"));
        CPPUNIT_ASSERT(proven && proven->endpoint == endpoint("127.0.0.1:5001"));
        CPPUNIT_ASSERT(!logins.find("alice"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), logins.size());
    }

    void testEachProofTakesOldestOfItsAddress()
    {
        UnprovenLogins logins(100);
        logins.hold(seed("alice", "127.0.0.1:5001"), kT0);
        logins.hold(seed("bob", "127.0.0.2:5002"), kT0 + milliseconds(1));
        logins.hold(seed("carol", "127.0.0.1:5003"), kT0 + milliseconds(2));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), nameOf(logins.prove(ip("127.0.0.1"))));
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), nameOf(logins.prove(ip("127.0.0.1"))));
        CPPUNIT_ASSERT_EQUAL(std::string("nobody"), nameOf(logins.prove(ip("127.0.0.1"))));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), nameOf(logins.prove(ip("127.0.0.2"))));
    }

    void testLoginOfSameNameReplacesWaitingOne()
    {
        UnprovenLogins logins(100);
        logins.hold(seed("alice", "127.0.0.9:5009"), kT0);
        logins.hold(seed("alice", "127.0.0.1:5001"), kT0 + milliseconds(1));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), logins.size());
        CPPUNIT_ASSERT(!logins.prove(ip("127.0.0.9")));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), nameOf(logins.prove(ip("127.0.0.1"))));
    }

    void testForgetTakesOut()
    {
        UnprovenLogins logins(100);
        logins.hold(seed("alice", "127.0.0.1:5001"), kT0);
        logins.forget("alice");
        logins.forget("nobody");
        CPPUNIT_ASSERT(!logins.prove(ip("127.0.0.1")));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), logins.size());
    }

    void testExpireTakesOldOnesOldestFirst()
    {
        UnprovenLogins logins(100);
        logins.hold(seed("alice", "127.0.0.1:5001"), kT0);
        logins.hold(seed("bob", "127.0.0.1:5002"), kT0 + milliseconds(5));
        logins.hold(seed("carol", "127.0.0.1:5003"), kT0 + milliseconds(10));
        const auto expired = logins.expireHeldBefore(kT0 + milliseconds(5));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), expired.size());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), expired[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), expired[1].name);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), nameOf(logins.prove(ip("127.0.0.1"))));
    }

    void testFullForgetsOldest()
    {
        UnprovenLogins logins(2);
        logins.hold(seed("alice", "127.0.0.1:5001"), kT0);
        logins.hold(seed("bob", "127.0.0.1:5002"), kT0);
        logins.hold(seed("carol", "127.0.0.1:5003"), kT0);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), logins.size());
        CPPUNIT_ASSERT(!logins.find("alice"));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), nameOf(logins.prove(ip("127.0.0.1"))));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UnprovenLoginsTest);
