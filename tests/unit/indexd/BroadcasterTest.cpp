#include "Broadcaster.h"
#include "Directory.h"
#include "IndexIdentity.h"

#include "RecordingSink.h"
#include "SeedClient.h"
#include "TestPeer.h"

#include <cppunit/extensions/HelperMacros.h>

#include <set>

using peerchat::Broadcaster;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::IndexIdentity;
using peerchat::PeerSession;
using peerchat::SigningKey;
using peerchat::test::endpoint;
using peerchat::test::RecordingSink;
using peerchat::test::toUtf16le;

class BroadcasterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(BroadcasterTest);
    CPPUNIT_TEST(testAnnounceLoginReachesEveryOtherLegacyUserInItsEncoding);
    CPPUNIT_TEST(testAnnounceLogoutReachesEveryOtherLegacyUserInItsEncoding);
    CPPUNIT_TEST(testAnnounceNothingOfPeerchatUser);
    CPPUNIT_TEST(testAnnounceToEmptyDirectorySendsNothing);
    CPPUNIT_TEST(testAnnounceSkipsSubjectEndpoint);
    CPPUNIT_TEST(testAnnounceReachesManyUsersWithOneFormPerEncoding);
    CPPUNIT_TEST_SUITE_END();

public:
    BroadcasterTest() : _identity(SigningKey::generate()) {}

    void setUp() override
    {
        const auto ip = Poco::Net::IPAddress("127.0.0.1");
        const Directory::TimePoint now{};
        _directory.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, ip, now);
        _directory.login("bob", endpoint("127.0.0.1:5002"), Dialect::Seed, ip, now);
        _directory.login("carol", endpoint("127.0.0.1:6000"), Dialect::DotNet, ip, now);
        _directory.login("dave", endpoint("[::1]:5004"), Dialect::Peerchat, Poco::Net::IPAddress("::1"), now,
                         session("dave"));
        _directory.login("erin", endpoint("127.0.0.1:5005"), Dialect::Peerchat, ip, now, session("erin"));
    }

    void testAnnounceLoginReachesEveryOtherLegacyUserInItsEncoding()
    {
        RecordingSink sink;
        Broadcaster(_directory, sink).announceLogin(*_directory.find("carol"));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5001")) == lines({"login,carol,127.0.0.1:6000"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")) == lines({"login,carol,127.0.0.1:6000"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), sink.sent.size());

        sink.sent.clear();
        Broadcaster(_directory, sink).announceLogin(*_directory.find("alice"));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")) == lines({"login,alice,127.0.0.1:5001"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:6000")) == lines({toUtf16le("login,alice,127.0.0.1:5001")}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), sink.sent.size());
    }

    void testAnnounceLogoutReachesEveryOtherLegacyUserInItsEncoding()
    {
        RecordingSink sink;
        Broadcaster(_directory, sink).announceLogout(*_directory.find("alice"));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")) == lines({"logout,alice,127.0.0.1:5001"}));
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:6000")) == lines({toUtf16le("logout,alice,127.0.0.1:5001")}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), sink.sent.size());
    }

    void testAnnounceNothingOfPeerchatUser()
    {
        // A peerchat/3 user's presence goes to its contacts, sealed, and never to seed or .NET users.
        RecordingSink sink;
        Broadcaster(_directory, sink).announceLogin(*_directory.find("dave"));
        Broadcaster(_directory, sink).announceLogout(*_directory.find("erin"));
        CPPUNIT_ASSERT(sink.sent.empty());
    }

    void testAnnounceToEmptyDirectorySendsNothing()
    {
        Directory empty;
        RecordingSink sink;
        Broadcaster(empty, sink).announceLogout(*_directory.find("alice"));
        CPPUNIT_ASSERT(sink.sent.empty());
    }

    void testAnnounceSkipsSubjectEndpoint()
    {
        // bob left earlier; the user now at his endpoint is not told he left.
        peerchat::OnlineUser gone{"bob-before", endpoint("127.0.0.1:5002"), Dialect::Seed,
                                  Poco::Net::IPAddress("127.0.0.1")};
        RecordingSink sink;
        Broadcaster(_directory, sink).announceLogout(gone);
        CPPUNIT_ASSERT(sink.to(endpoint("127.0.0.1:5002")).empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), sink.sent.size());
    }

    void testAnnounceReachesManyUsersWithOneFormPerEncoding()
    {
        Directory big;
        constexpr int kUsers = 20000;
        std::size_t legacy = 0;
        for (int i = 0; i < kUsers; ++i) {
            const std::string name = "u" + std::to_string(i);
            std::optional<PeerSession> s;
            if (i % 3 == 0) s.emplace(session(name));
            const Dialect dialect = s ? Dialect::Peerchat : i % 3 == 1 ? Dialect::Seed : Dialect::DotNet;
            if (!s) ++legacy;
            big.login(name, endpoint("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":5000"),
                      dialect, Poco::Net::IPAddress("10.0.0.1"), Directory::TimePoint(), std::move(s));
        }
        RecordingSink sink;
        Broadcaster(big, sink).announceLogin(*big.find("u1"));
        CPPUNIT_ASSERT_EQUAL(legacy - 1, sink.sent.size());
        std::set<std::string> destinations;
        std::set<std::string> forms;
        for (const auto& d : sink.sent) {
            destinations.insert(d.to.toString());
            forms.insert(d.bytes);
        }
        CPPUNIT_ASSERT_EQUAL(legacy - 1, destinations.size());
        CPPUNIT_ASSERT(forms == std::set<std::string>({"login,u1,10.0.0.1:5000", toUtf16le("login,u1,10.0.0.1:5000")}));
    }

private:
    static std::vector<std::string> lines(std::initializer_list<std::string> items) { return items; }

    PeerSession session(const std::string& name)
    {
        return peerchat::test::TestPeer(name, "127.0.0.1:1").sessionAt(_identity);
    }

    IndexIdentity _identity;
    Directory _directory;
};

CPPUNIT_TEST_SUITE_REGISTRATION(BroadcasterTest);
