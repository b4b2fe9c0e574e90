#include "PeerStore.h"
#include "EventLoop.h"
#include "Fingerprint.h"
#include "KeyPins.h"
#include "LocalProtocol.h"
#include "LocalClient.h"
#include "PeerTestData.h"
#include "Roster.h"
#include "ServedUi.h"
#include "TempDir.h"
#include "UiServer.h"
#include "Wait.h"

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using peerchat::ConversationId;
using namespace peerchat;
using test::key;
using test::LocalClient;
using test::peer;

namespace {

const ConversationId kBob = ConversationId::direct("bob");

bool exists(const std::string& path)
{
    struct stat status {};
    return ::lstat(path.c_str(), &status) == 0;
}

// The error event a refused client gets; nullptr when none came.
LocalClient::Object waitRefusal(LocalClient& client)
{
    return client.waitFor([](const LocalClient::Object& event) {
        const std::string name = event->optValue<std::string>("event", "");
        return name == "error" || name == "welcome";
    });
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

/// Uses up this process's file descriptors, all but leave of them, by
/// lowering its soft limit and filling the table; gives everything back
/// when it goes. Between, nothing in the process can open a file, so the
/// test must not either.
class DescriptorsUsedUp
{
public:
    explicit DescriptorsUsedUp(int leave)
    {
        int highest = 0;
        for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
            highest = std::max(highest, std::stoi(entry.path().filename().string()));
        }
        CPPUNIT_ASSERT_EQUAL(0, ::getrlimit(RLIMIT_NOFILE, &_saved));
        rlimit lowered = _saved;
        lowered.rlim_cur = static_cast<rlim_t>(highest) + 32;
        CPPUNIT_ASSERT_EQUAL(0, ::setrlimit(RLIMIT_NOFILE, &lowered));
        const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        CPPUNIT_ASSERT(null >= 0);
        _taken.push_back(null);
        for (int fd = ::dup(null); fd >= 0; fd = ::dup(null)) _taken.push_back(fd);
        for (int i = 0; i < leave; ++i) {
            ::close(_taken.back());
            _taken.pop_back();
        }
    }

    ~DescriptorsUsedUp()
    {
        for (const int fd : _taken) ::close(fd);
        ::setrlimit(RLIMIT_NOFILE, &_saved);
    }

    DescriptorsUsedUp(const DescriptorsUsedUp&) = delete;
    DescriptorsUsedUp& operator=(const DescriptorsUsedUp&) = delete;

private:
    rlimit _saved{};
    std::vector<int> _taken;
};

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
    CPPUNIT_TEST(testDefaultLimitsLeaveDescriptorsForPeerd);
    CPPUNIT_TEST(testClientCapFollowsLimitLoweredWhileRunning);
    CPPUNIT_TEST(testClientPastLimitIsToldWhyAndDisconnected);
    CPPUNIT_TEST(testClientTakenAgainOnceAnotherDetaches);
    CPPUNIT_TEST(testClientOutOfDescriptorsIsToldWhy);
    CPPUNIT_TEST(testLargestBacklogDroppedFirstOverBudget);
    CPPUNIT_TEST(testBurstOfLinesIsOneUnreadEvent);
    CPPUNIT_TEST_SUITE_END();

public:
    void testListenMakesPrivateSocket()
    {
        test::TempDir dir;
        const std::string path = dir.file("alice.sock");
        UiServer server(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", path);
        struct stat status {};
        CPPUNIT_ASSERT_EQUAL(0, ::lstat(path.c_str(), &status));
        CPPUNIT_ASSERT(S_ISSOCK(status.st_mode));
        CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(status.st_mode & 0777));
    }

    void testSecondServerRefusedNamingPid()
    {
        test::TempDir dir;
        const std::string path = dir.file("alice.sock");
        UiServer first(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", path);
        try {
            UiServer second(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", path);
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
        UiServer server(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", path);
        CPPUNIT_ASSERT(exists(path));
    }

    void testNonSocketFileRefused()
    {
        test::TempDir dir;
        const std::string path = dir.file("alice.sock");
        std::ofstream(path) << "not a socket";
        CPPUNIT_ASSERT_THROW(UiServer(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", path), Poco::IOException);
        CPPUNIT_ASSERT(exists(path));
    }

    void testStopRemovesSocketFile()
    {
        test::TempDir dir;
        const std::string path = dir.file("alice.sock");
        UiServer server(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", path);
        server.stop("test over");
        CPPUNIT_ASSERT(!exists(path));
    }

    void testHistoryOfNewPeerIsOneEmptyEvent()
    {
        test::TempDir dir;
        UiServer server(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", dir.file("alice.sock"));
        const auto events = server.history(kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), events.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), events[0].conversation.name());
        CPPUNIT_ASSERT(events[0].lines.empty());
    }

    void testHistorySplitsIntoLinesUnder64KiB()
    {
        for (int i = 0; i < 3000; ++i) _store.lines.addIncoming("bob", "12:00:00", 1, std::string(100, 'x'), true);
        test::TempDir dir;
        UiServer server(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", dir.file("alice.sock"));
        const auto events = server.history(kBob);
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
        for (int i = 0; i < 2000; ++i) _store.lines.addIncoming("bob", "12:00:00", 1, std::string(4000, 'x'), true);
        test::TempDir dir;
        UiServer server(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", dir.file("alice.sock"));
        const auto events = server.history(kBob);
        std::size_t bytes = 0;
        for (const auto& event : events) bytes += local::LocalProtocol::encodeEvent(event).size();
        CPPUNIT_ASSERT(bytes <= UiSession::kMaxPendingBytes / 2);
        CPPUNIT_ASSERT(events.front().lines.front().id > 1);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2000), events.back().lines.back().id);
    }

    void testRosterCarriesTrustOfEachUser()
    {
        _roster.here("bob", peer("127.0.0.1:5002", Dialect::Peerchat));
        _roster.here("carol", peer("127.0.0.1:5003", Dialect::Peerchat));
        _roster.here("dave", peer("127.0.0.1:5004", Dialect::Peerchat));
        _roster.here("seed", peer("127.0.0.1:5005", Dialect::Seed));
        _roster.here("dotnet", peer("127.0.0.1:5006", Dialect::DotNet));
        _pins.see("bob", key(1));
        _pins.see("carol", key(2));
        _pins.see("carol", key(3));
        // A name once pinned, now used by a seed client: a change, until the
        // user accepts it without a key (as for dotnet): then nothing proves its lines.
        _pins.see("seed", key(4));
        _pins.see("dotnet", key(5));
        _pins.seeKeyless("dotnet");
        _pins.trust("dotnet");
        test::TempDir dir;
        UiServer server(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", dir.file("alice.sock"));
        std::map<std::string, local::Trust> trust;
        for (const local::UserInfo& user : server.roster().users) trust[user.name] = user.trust;
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), trust.size());
        CPPUNIT_ASSERT(trust["bob"] == local::Trust::Pinned);
        CPPUNIT_ASSERT(trust["carol"] == local::Trust::Changed);
        CPPUNIT_ASSERT(trust["dave"] == local::Trust::Unverified);
        CPPUNIT_ASSERT(trust["seed"] == local::Trust::Changed);
        CPPUNIT_ASSERT(trust["dotnet"] == local::Trust::Unverified);
    }

    void testKeysGiveFingerprintsToCompare()
    {
        test::TempDir dir;
        UiServer server(_loop, _roster, _store.lines, _store.incoming, _pins, _identity, "alice", dir.file("alice.sock"));
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

    void testDefaultLimitsLeaveDescriptorsForPeerd()
    {
        rlimit limit{};
        CPPUNIT_ASSERT_EQUAL(0, ::getrlimit(RLIMIT_NOFILE, &limit));
        CPPUNIT_ASSERT(limit.rlim_cur >= 2 * UiServer::kReservedDescriptors);
        CPPUNIT_ASSERT_EQUAL(static_cast<std::size_t>(limit.rlim_cur) - UiServer::kReservedDescriptors,
                             UiServer::clientsTheLimitAllows());
        CPPUNIT_ASSERT_EQUAL(UiServer::kMaxBacklogBytes, UiServer::defaultLimits().backlogBytes);
    }

    void testClientCapFollowsLimitLoweredWhileRunning()
    {
        // prlimit may lower a running peerd's limit: the cap is read again, not kept from the start.
        rlimit before{};
        CPPUNIT_ASSERT_EQUAL(0, ::getrlimit(RLIMIT_NOFILE, &before));
        rlimit lowered = before;
        lowered.rlim_cur = 300;
        CPPUNIT_ASSERT_EQUAL(0, ::setrlimit(RLIMIT_NOFILE, &lowered));
        const std::size_t allowed = UiServer::clientsTheLimitAllows();
        CPPUNIT_ASSERT_EQUAL(0, ::setrlimit(RLIMIT_NOFILE, &before));
        CPPUNIT_ASSERT_EQUAL(std::size_t(300) - UiServer::kReservedDescriptors, allowed);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), UiServer::defaultLimits().clients);
    }

    void testClientPastLimitIsToldWhyAndDisconnected()
    {
        test::ServedUi ui(UiServer::Limits{2});
        LocalClient first = ui.attach();
        LocalClient second = ui.attach();
        LocalClient third(ui.socketPath());
        const auto refusal = waitRefusal(third);
        CPPUNIT_ASSERT_MESSAGE("no refusal", refusal);
        CPPUNIT_ASSERT_EQUAL(std::string("error"), refusal->getValue<std::string>("event"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), refusal->getValue<std::string>("op"));
        const std::string message = refusal->getValue<std::string>("message");
        CPPUNIT_ASSERT_MESSAGE(message, contains(message, "peerd for alice already serves 2 clients"));
        CPPUNIT_ASSERT_MESSAGE(message, contains(message, "close a window you do not use and attach again"));
        CPPUNIT_ASSERT(third.waitClosed());
        // Those attached are served as before.
        first.sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(first.waitEvent("roster"));
        ui.onLoop([&ui] { CPPUNIT_ASSERT_EQUAL(std::size_t(2), ui.server().attached()); });
    }

    void testClientTakenAgainOnceAnotherDetaches()
    {
        test::ServedUi ui(UiServer::Limits{1});
        auto first = std::make_unique<LocalClient>(ui.attach());
        LocalClient refused(ui.socketPath());
        CPPUNIT_ASSERT(refused.waitClosed());
        first.reset();
        std::size_t attached = 1;
        CPPUNIT_ASSERT(test::waitUntil([&] {
            ui.onLoop([&] { attached = ui.server().attached(); });
            return attached == 0;
        }));
        LocalClient next = ui.attach();
        next.sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(next.waitEvent("roster"));
    }

    void testClientOutOfDescriptorsIsToldWhy()
    {
        test::ServedUi ui;
        LocalClient attached = ui.attach();
        std::unique_ptr<LocalClient> shed;
        {
            // One descriptor left, for the client's own socket: peerd's accept finds none.
            DescriptorsUsedUp used(1);
            shed = std::make_unique<LocalClient>(ui.socketPath());
            // Two turns of the loop: the listener was ready in the first.
            ui.onLoop([] {});
            ui.onLoop([] {});
        }
        const auto refusal = waitRefusal(*shed);
        CPPUNIT_ASSERT_MESSAGE("no refusal", refusal);
        CPPUNIT_ASSERT_EQUAL(std::string("error"), refusal->getValue<std::string>("event"));
        const std::string message = refusal->getValue<std::string>("message");
        CPPUNIT_ASSERT_MESSAGE(message, contains(message, "no file descriptor left"));
        CPPUNIT_ASSERT_MESSAGE(message, contains(message, "close a window you do not use"));
        CPPUNIT_ASSERT(shed->waitClosed());
        // With descriptors back, the listener takes clients again after its pause.
        LocalClient next = ui.attach();
        attached.sendLine(R"({"op":"roster"})");
        CPPUNIT_ASSERT(attached.waitEvent("roster"));
    }

    void testLargestBacklogDroppedFirstOverBudget()
    {
        test::ServedUi ui(UiServer::Limits{10, 1024 * 1024});
        LocalClient subscribed = ui.attach();
        subscribed.sendLine(R"({"op":"subscribe","peer":"bob"})");
        CPPUNIT_ASSERT(subscribed.waitEvent("history"));
        LocalClient other = ui.attach();
        const local::ErrorEvent filler{"", std::string(16 * 1024, 'x')};
        // In one turn of the loop, so nothing reaches a socket meanwhile:
        // subscribed gets 384 KiB, then both get 16 KiB at a time until the
        // total passes 1 MiB, which drops subscribed (about 700 KiB then) and
        // leaves other, which ends up holding 384 KiB.
        ui.onLoop([&] {
            for (int i = 0; i < 24; ++i) ui.server().broadcastTo(kBob, filler);
            for (int i = 0; i < 24; ++i) ui.server().broadcast(filler);
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), ui.server().attached());
            CPPUNIT_ASSERT(ui.server().backlogBytes() <= 1024 * 1024);
        });
        CPPUNIT_ASSERT(subscribed.waitClosed());
        for (int i = 0; i < 24; ++i) {
            CPPUNIT_ASSERT(other.waitFor([&](const LocalClient::Object& event) {
                return event->optValue<std::string>("event", "") == "error" &&
                       event->getValue<std::string>("message") == filler.message;
            }));
        }
        std::size_t held = 1;
        CPPUNIT_ASSERT(test::waitUntil([&] {
            ui.onLoop([&] { held = ui.server().backlogBytes(); });
            return held == 0;
        }));
    }

    void testBurstOfLinesIsOneUnreadEvent()
    {
        test::ServedUi ui;
        LocalClient client = ui.attach();
        client.sendLine(R"({"op":"subscribe","peer":"bob"})");
        CPPUNIT_ASSERT(client.waitEvent("history"));
        const local::ErrorEvent marker{"", "end of turn"};
        ui.onLoop([&] {
            for (std::uint32_t unread = 1; unread <= 3; ++unread) {
                ui.server().lineReceived(local::ChatLine{unread, kBob, false, "bob", "12:00:00", 1, "hi"}, unread);
            }
        });
        ui.onLoop([&] { ui.server().broadcast(marker); });
        // Three messages, then the last count once, all before the marker of the next turn.
        std::string seen;
        for (LocalClient::Object event = client.waitFor([](const auto&) { return true; });
             event && event->optValue<std::string>("event", "") != "error";
             event = client.waitFor([](const auto&) { return true; })) {
            const std::string name = event->optValue<std::string>("event", "");
            if (name == "message") seen += "message " + event->getObject("line")->getValue<std::string>("id") + ";";
            if (name == "unread") seen += "unread " + event->getValue<std::string>("count") + ";";
        }
        CPPUNIT_ASSERT_EQUAL(std::string("message 1;message 2;message 3;unread 3;"), seen);
        // A read in the same turn as a line leaves the count the read set.
        client.sendLine(R"({"op":"read","peer":"bob"})");
        CPPUNIT_ASSERT(client.waitFor([](const LocalClient::Object& event) {
            return event->optValue<std::string>("event", "") == "unread" && event->getValue<std::string>("count") == "0";
        }));
    }

private:
    EventLoop _loop;
    Roster _roster{"alice"};
    PeerStore _store{10000};
    KeyPins _pins{_store.keys, _store.outbox};
    PublicKey _identity = key(42);
};

CPPUNIT_TEST_SUITE_REGISTRATION(UiServerTest);
