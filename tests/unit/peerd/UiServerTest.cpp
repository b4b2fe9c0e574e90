#include "ConversationStore.h"
#include "EventLoop.h"
#include "Fingerprint.h"
#include "KeyPins.h"
#include "LocalProtocol.h"
#include "PeerTestData.h"
#include "Roster.h"
#include "TempDir.h"
#include "UiServer.h"

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <map>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace peerchat;
using test::key;
using test::peer;

namespace {

bool exists(const std::string& path)
{
    struct stat status {};
    return ::lstat(path.c_str(), &status) == 0;
}

} // namespace

class UiServerTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(UiServerTest);
    CPPUNIT_TEST(testListenMakesPrivateSocket);
    CPPUNIT_TEST(testSecondServerRefusedNamingPid);
    CPPUNIT_TEST(testStaleSocketReplaced);
    CPPUNIT_TEST(testNonSocketFileRefused);
    CPPUNIT_TEST(testStopRemovesSocketFile);
    CPPUNIT_TEST(testHistoryOfNewPeerIsOneEmptyEvent);
    CPPUNIT_TEST(testHistorySplitsIntoLinesUnder64KiB);
    CPPUNIT_TEST(testHistoryKeepsNewestLinesWithinBound);
    CPPUNIT_TEST(testRosterCarriesTrustOfEachUser);
    CPPUNIT_TEST(testKeysGiveFingerprintsToCompare);
    CPPUNIT_TEST_SUITE_END();

public:
    void testListenMakesPrivateSocket()
    {
        test::TempDir dir;
        const std::string path = dir.file("alice.sock");
        UiServer server(_loop, _roster, _store, _pins, _identity, "alice", path);
        struct stat status {};
        CPPUNIT_ASSERT_EQUAL(0, ::lstat(path.c_str(), &status));
        CPPUNIT_ASSERT(S_ISSOCK(status.st_mode));
        CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(status.st_mode & 0777));
    }

    void testSecondServerRefusedNamingPid()
    {
        test::TempDir dir;
        const std::string path = dir.file("alice.sock");
        UiServer first(_loop, _roster, _store, _pins, _identity, "alice", path);
        try {
            UiServer second(_loop, _roster, _store, _pins, _identity, "alice", path);
            CPPUNIT_FAIL("a second server claimed " + path);
        } catch (const Poco::ExistsException& e) {
            CPPUNIT_ASSERT_EQUAL("peerd for alice is already running (pid " + std::to_string(::getpid()) +
                                     "); attach with chatui --user alice --socket " + path,
                                 e.message());
        }
        CPPUNIT_ASSERT(exists(path));
    }

    void testStaleSocketReplaced()
    {
        test::TempDir dir;
        const std::string path = dir.file("alice.sock");
        {
            Poco::Net::ServerSocket dead(Poco::Net::SocketAddress(Poco::Net::SocketAddress::UNIX_LOCAL, path));
        }
        CPPUNIT_ASSERT(exists(path));
        UiServer server(_loop, _roster, _store, _pins, _identity, "alice", path);
        CPPUNIT_ASSERT(exists(path));
    }

    void testNonSocketFileRefused()
    {
        test::TempDir dir;
        const std::string path = dir.file("alice.sock");
        std::ofstream(path) << "not a socket";
        CPPUNIT_ASSERT_THROW(UiServer(_loop, _roster, _store, _pins, _identity, "alice", path), Poco::IOException);
        CPPUNIT_ASSERT(exists(path));
    }

    void testStopRemovesSocketFile()
    {
        test::TempDir dir;
        const std::string path = dir.file("alice.sock");
        UiServer server(_loop, _roster, _store, _pins, _identity, "alice", path);
        server.stop("test over");
        CPPUNIT_ASSERT(!exists(path));
    }

    void testHistoryOfNewPeerIsOneEmptyEvent()
    {
        test::TempDir dir;
        UiServer server(_loop, _roster, _store, _pins, _identity, "alice", dir.file("alice.sock"));
        const auto events = server.history("bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), events.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), events[0].peer);
        CPPUNIT_ASSERT(events[0].lines.empty());
    }

    void testHistorySplitsIntoLinesUnder64KiB()
    {
        for (int i = 0; i < 3000; ++i) _store.addIncoming("bob", "12:00:00", 1, std::string(100, 'x'), true);
        test::TempDir dir;
        UiServer server(_loop, _roster, _store, _pins, _identity, "alice", dir.file("alice.sock"));
        const auto events = server.history("bob");
        CPPUNIT_ASSERT(events.size() > 1);
        std::uint64_t expected = 1;
        for (const auto& event : events) {
            CPPUNIT_ASSERT(local::LocalProtocol::encodeEvent(event).size() <= local::kMaxLineBytes + 1);
            for (const auto& line : event.lines) CPPUNIT_ASSERT_EQUAL(expected++, line.id);
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3001), expected);
    }

    void testHistoryKeepsNewestLinesWithinBound()
    {
        for (int i = 0; i < 2000; ++i) _store.addIncoming("bob", "12:00:00", 1, std::string(4000, 'x'), true);
        test::TempDir dir;
        UiServer server(_loop, _roster, _store, _pins, _identity, "alice", dir.file("alice.sock"));
        const auto events = server.history("bob");
        std::size_t bytes = 0;
        for (const auto& event : events) bytes += local::LocalProtocol::encodeEvent(event).size();
        CPPUNIT_ASSERT(bytes <= UiSession::kMaxPendingBytes / 2);
        CPPUNIT_ASSERT(events.front().lines.front().id > 1);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2000), events.back().lines.back().id);
    }

    void testRosterCarriesTrustOfEachUser()
    {
        _roster.login("bob", peer("127.0.0.1:5002", Dialect::Peerchat));
        _roster.login("carol", peer("127.0.0.1:5003", Dialect::Peerchat));
        _roster.login("dave", peer("127.0.0.1:5004", Dialect::Peerchat));
        _roster.login("seed", peer("127.0.0.1:5005", Dialect::Seed));
        _roster.login("dotnet", peer("127.0.0.1:5006", Dialect::DotNet));
        _pins.see("bob", key(1));
        _pins.see("carol", key(2));
        _pins.see("carol", key(3));
        // A name once pinned, now used by a seed client: still nothing proves its lines.
        _pins.see("seed", key(4));
        test::TempDir dir;
        UiServer server(_loop, _roster, _store, _pins, _identity, "alice", dir.file("alice.sock"));
        std::map<std::string, local::Trust> trust;
        for (const local::UserInfo& user : server.roster().users) trust[user.name] = user.trust;
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), trust.size());
        CPPUNIT_ASSERT(trust["bob"] == local::Trust::Pinned);
        CPPUNIT_ASSERT(trust["carol"] == local::Trust::Changed);
        CPPUNIT_ASSERT(trust["dave"] == local::Trust::Unverified);
        CPPUNIT_ASSERT(trust["seed"] == local::Trust::Unverified);
        CPPUNIT_ASSERT(trust["dotnet"] == local::Trust::Unverified);
    }

    void testKeysGiveFingerprintsToCompare()
    {
        test::TempDir dir;
        UiServer server(_loop, _roster, _store, _pins, _identity, "alice", dir.file("alice.sock"));
        const std::string self = Fingerprint::of(_identity);

        local::KeysEvent keys = server.keys("bob");
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), keys.peer);
        CPPUNIT_ASSERT_EQUAL(self, keys.self);
        CPPUNIT_ASSERT_EQUAL(std::string(), keys.pinned);
        CPPUNIT_ASSERT_EQUAL(std::string(), keys.offered);
        CPPUNIT_ASSERT(keys.trust == local::Trust::Unverified);

        _pins.see("bob", key(1));
        keys = server.keys("bob");
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(key(1)), keys.pinned);
        CPPUNIT_ASSERT_EQUAL(std::string(), keys.offered);
        CPPUNIT_ASSERT(keys.trust == local::Trust::Pinned);

        _pins.see("bob", key(2));
        keys = server.keys("bob");
        CPPUNIT_ASSERT_EQUAL(self, keys.self);
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(key(1)), keys.pinned);
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(key(2)), keys.offered);
        CPPUNIT_ASSERT(keys.trust == local::Trust::Changed);
        CPPUNIT_ASSERT(keys.pinned != keys.offered);
    }

private:
    EventLoop _loop;
    Roster _roster{"alice"};
    ConversationStore _store{10000};
    KeyPins _pins{_store};
    PublicKey _identity = key(42);
};

CPPUNIT_TEST_SUITE_REGISTRATION(UiServerTest);
