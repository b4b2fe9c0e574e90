#include "Directory.h"

#include "RecordingSink.h"

#include <cppunit/extensions/HelperMacros.h>

#include <set>

using peerchat::Dialect;
using peerchat::Directory;
using peerchat::LoginOutcome;
using peerchat::LogoutOutcome;
using peerchat::test::endpoint;

namespace {

Poco::Net::IPAddress ip(const std::string& text)
{
    return Poco::Net::IPAddress(text);
}

} // namespace

class DirectoryTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(DirectoryTest);
    CPPUNIT_TEST(testLoginRegistersName);
    CPPUNIT_TEST(testLoginAtSameEndpointIsAlreadyHere);
    CPPUNIT_TEST(testLoginAtSameEndpointRefreshesDialect);
    CPPUNIT_TEST(testLoginOfNameOnlineElsewhereIsTaken);
    CPPUNIT_TEST(testLoginDisplacesNameAtSameEndpoint);
    CPPUNIT_TEST(testLogoutFromRegisteredEndpoint);
    CPPUNIT_TEST(testLogoutFromOtherPortRefused);
    CPPUNIT_TEST(testLogoutOfUnknownNameNotOnline);
    CPPUNIT_TEST(testLogoutDotNetFromAnyPortOfLoginAddress);
    CPPUNIT_TEST(testLogoutDotNetWithOtherWrittenEndpointRefused);
    CPPUNIT_TEST(testLogoutDotNetFromOtherAddressRefused);
    CPPUNIT_TEST(testSnapshotListsEveryUserWithDialect);
    CPPUNIT_TEST(testVersionGrowsWithEveryChangeOnly);
    CPPUNIT_TEST(testManyUsersKeepBothIndexesConsistent);
    CPPUNIT_TEST_SUITE_END();

public:
    void testLoginRegistersName()
    {
        Directory d;
        const auto outcome = d.login("天涯", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::Registered);
        CPPUNIT_ASSERT(!outcome.displaced);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.size());
        const auto* user = d.find("天涯");
        CPPUNIT_ASSERT(user);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), user->endpoint.toString());
        CPPUNIT_ASSERT(user->dialect == Dialect::Seed);
    }

    void testLoginAtSameEndpointIsAlreadyHere()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        const auto outcome = d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::AlreadyHere);
        CPPUNIT_ASSERT(!outcome.displaced);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.size());
    }

    void testLoginAtSameEndpointRefreshesDialect()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Peerchat, ip("127.0.0.1"));
        CPPUNIT_ASSERT(d.find("alice")->dialect == Dialect::Peerchat);
    }

    void testLoginOfNameOnlineElsewhereIsTaken()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        const auto before = d.version();
        const auto outcome = d.login("alice", endpoint("127.0.0.1:5002"), Dialect::Peerchat, ip("127.0.0.1"));
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::Taken);
        CPPUNIT_ASSERT_EQUAL(before, d.version());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), d.find("alice")->endpoint.toString());
        CPPUNIT_ASSERT(d.find("alice")->dialect == Dialect::Seed);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.size());
    }

    void testLoginDisplacesNameAtSameEndpoint()
    {
        Directory d;
        d.login("bob", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        const auto outcome = d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        CPPUNIT_ASSERT(outcome.kind == LoginOutcome::Kind::Registered);
        CPPUNIT_ASSERT(outcome.displaced);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), outcome.displaced->name);
        CPPUNIT_ASSERT(!d.find("bob"));
        CPPUNIT_ASSERT(d.find("alice"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.size());
        // bob may come back elsewhere: nothing of him is left behind.
        CPPUNIT_ASSERT(d.login("bob", endpoint("127.0.0.1:5002"), Dialect::Seed, ip("127.0.0.1")).kind
                       == LoginOutcome::Kind::Registered);
    }

    void testLogoutFromRegisteredEndpoint()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        const auto outcome = d.logout("alice", endpoint("10.0.0.9:7"), endpoint("127.0.0.1:5001"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::LoggedOut);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), outcome.user->name);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), d.size());
        // The endpoint is free again.
        CPPUNIT_ASSERT(!d.login("bob", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1")).displaced);
    }

    void testLogoutFromOtherPortRefused()
    {
        Directory d;
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        const auto before = d.version();
        const auto outcome = d.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.1:5002"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::WrongSource);
        CPPUNIT_ASSERT(d.find("alice"));
        CPPUNIT_ASSERT_EQUAL(before, d.version());
    }

    void testLogoutOfUnknownNameNotOnline()
    {
        Directory d;
        const auto outcome = d.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.1:5001"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::NotOnline);
        CPPUNIT_ASSERT(!outcome.user);
    }

    void testLogoutDotNetFromAnyPortOfLoginAddress()
    {
        Directory d;
        d.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip("127.0.0.1"));
        const auto outcome = d.logout("carol", endpoint("127.0.0.1:6000"), endpoint("127.0.0.1:43210"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::LoggedOut);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), d.size());
    }

    void testLogoutDotNetWithOtherWrittenEndpointRefused()
    {
        Directory d;
        d.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip("127.0.0.1"));
        const auto outcome = d.logout("carol", endpoint("127.0.0.1:6001"), endpoint("127.0.0.1:43210"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::WrongSource);
        CPPUNIT_ASSERT(d.find("carol"));
    }

    void testLogoutDotNetFromOtherAddressRefused()
    {
        Directory d;
        d.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip("127.0.0.1"));
        const auto outcome = d.logout("carol", endpoint("127.0.0.1:6000"), endpoint("127.0.0.2:6000"));
        CPPUNIT_ASSERT(outcome.kind == LogoutOutcome::Kind::WrongSource);
        CPPUNIT_ASSERT(d.find("carol"));
    }

    void testSnapshotListsEveryUserWithDialect()
    {
        Directory d;
        CPPUNIT_ASSERT(d.snapshot().empty());
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        d.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip("127.0.0.1"));
        d.login("dave", endpoint("[::1]:7000"), Dialect::Peerchat, ip("::1"));
        std::set<std::string> rows;
        for (const auto& e : d.snapshot()) rows.insert(e.name + " " + e.endpoint.toString() + " " + e.dialect);
        const std::set<std::string> expected{"alice 127.0.0.1:5001 seed", "carol 127.0.0.1:6000 dotnet",
                                             "dave [::1]:7000 peerchat/1"};
        CPPUNIT_ASSERT(rows == expected);
    }

    void testVersionGrowsWithEveryChangeOnly()
    {
        Directory d;
        auto v = d.version();
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        CPPUNIT_ASSERT(d.version() > v);
        v = d.version();
        d.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip("127.0.0.1"));
        CPPUNIT_ASSERT_EQUAL(v, d.version());
        d.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.9:5001"));
        CPPUNIT_ASSERT_EQUAL(v, d.version());
        d.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.1:5001"));
        CPPUNIT_ASSERT(d.version() > v);
    }

    void testManyUsersKeepBothIndexesConsistent()
    {
        Directory d;
        constexpr int kUsers = 100000;
        for (int i = 0; i < kUsers; ++i) {
            const std::string ep = "10.0." + std::to_string(i / 50000) + "." + std::to_string(i % 250) + ":"
                                   + std::to_string(1000 + (i / 250) % 200);
            CPPUNIT_ASSERT(d.login("u" + std::to_string(i), endpoint(ep), Dialect::Seed, ip("10.0.0.1")).kind
                           == LoginOutcome::Kind::Registered);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers), d.size());
        // u0 sits at 10.0.0.0:1000; a newcomer there displaces exactly u0.
        const auto outcome = d.login("newcomer", endpoint("10.0.0.0:1000"), Dialect::Seed, ip("10.0.0.0"));
        CPPUNIT_ASSERT(outcome.displaced);
        CPPUNIT_ASSERT_EQUAL(std::string("u0"), outcome.displaced->name);
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers), d.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers), d.snapshot().size());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DirectoryTest);
