#include "Broadcaster.h"
#include "Directory.h"

#include "RecordingSink.h"
#include "SeedClient.h"

#include <cppunit/extensions/HelperMacros.h>

#include <set>

using peerchat::Broadcaster;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::test::endpoint;
using peerchat::test::RecordingSink;
using peerchat::test::toUtf16le;

class BroadcasterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(BroadcasterTest);
    CPPUNIT_TEST(testAnnounceLoginReachesEveryOtherUserInItsDialect);
    CPPUNIT_TEST(testAnnounceLogoutReachesEveryOtherUserInItsEncoding);
    CPPUNIT_TEST(testAnnounceToEmptyDirectorySendsNothing);
    CPPUNIT_TEST(testAnnounceSkipsSubjectEndpoint);
    CPPUNIT_TEST(testAnnounceReachesManyUsersOnceEach);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        const auto ip = Poco::Net::IPAddress("127.0.0.1");
        const Directory::TimePoint now{};
        _directory.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip, now);
        _directory.login("bob", endpoint("127.0.0.1:5002"), Dialect::Seed, ip, now);
        _directory.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip, now);
        _directory.login("dave", endpoint("[::1]:5004"), Dialect::Peerchat, Poco::Net::IPAddress("::1"), now);
    }

    void testAnnounceLoginReachesEveryOtherUserInItsDialect()
    {
        RecordingSink sink;
        Broadcaster(_directory, sink).announceLogin(*_directory.find("carol"), 5);
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5001")) == lines({"login,carol,127.0.0.1:6000"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")) == lines({"login,carol,127.0.0.1:6000"}));
        CPPUNIT_ASSERT(sink.to(endpoint("[::1]:5004")) == lines({"login,carol,127.0.0.1:6000,dotnet,5"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:6000")).empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), sink.sent.size());

        sink.sent.clear();
        Broadcaster(_directory, sink).announceLogin(*_directory.find("dave"), 6);
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5001")) == lines({"login,dave,[::1]:5004"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:6000")) == lines({toUtf16le("login,dave,[::1]:5004")}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), sink.sent.size());
    }

    void testAnnounceLogoutReachesEveryOtherUserInItsEncoding()
    {
        RecordingSink sink;
        Broadcaster(_directory, sink).announceLogout(*_directory.find("alice"), 7);
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")) == lines({"logout,alice,127.0.0.1:5001"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:6000")) == lines({toUtf16le("logout,alice,127.0.0.1:5001")}));
        CPPUNIT_ASSERT(sink.to(endpoint("[::1]:5004")) == lines({"logout,alice,127.0.0.1:5001,7"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), sink.sent.size());
    }

    void testAnnounceToEmptyDirectorySendsNothing()
    {
        Directory empty;
        RecordingSink sink;
        Broadcaster(empty, sink).announceLogout(*_directory.find("alice"), 1);
        CPPUNIT_ASSERT(sink.sent.empty());
    }

    void testAnnounceSkipsSubjectEndpoint()
    {
        // bob left earlier; the user now at his endpoint is not told he left.
        peerchat::OnlineUser gone{"bob-before", endpoint("127.0.0.1:5002"), Dialect::Seed,
                                  Poco::Net::IPAddress("127.0.0.1")};
        RecordingSink sink;
        Broadcaster(_directory, sink).announceLogout(gone, 1);
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")).empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), sink.sent.size());
    }

    void testAnnounceReachesManyUsersOnceEach()
    {
        Directory big;
        constexpr int kUsers = 20000;
        for (int i = 0; i < kUsers; ++i) {
            big.login("u" + std::to_string(i),
                      endpoint("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":5000"),
                      i % 3 == 0 ? Dialect::Peerchat : Dialect::Seed, Poco::Net::IPAddress("10.0.0.1"),
                      Directory::TimePoint());
        }
        RecordingSink sink;
        Broadcaster(big, sink).announceLogin(*big.find("u0"), 1);
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers - 1), sink.sent.size());
        std::set<std::string> destinations;
        for (const auto& d : sink.sent) destinations.insert(d.to.toString());
        CPPUNIT_ASSERT_EQUAL(std::size_t(kUsers - 1), destinations.size());
    }

private:
    static std::vector<std::string> lines(std::initializer_list<std::string> items) { return items; }

    Directory _directory;
};

CPPUNIT_TEST_SUITE_REGISTRATION(BroadcasterTest);
