#include "Directory.h"
#include "EventLoop.h"
#include "IndexIdentity.h"
#include "RosterListener.h"

#include "RecordingSink.h"
#include "SmallWindowSocket.h"
#include "TestPeer.h"
#include "Wait.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <fstream>
#include <future>
#include <memory>
#include <set>
#include <thread>

using peerchat::Dialect;
using peerchat::Directory;
using peerchat::DropReason;
using peerchat::EventLoop;
using peerchat::RosterFormat;
using peerchat::IndexIdentity;
using peerchat::RosterListener;
using peerchat::SigningKey;
using peerchat::test::endpoint;
using peerchat::test::smallWindowSocket;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// Logins whose seed roster (about 5.4 MB) is more than the kernel lets
// indexd's side of one connection hold, so that a client that never reads
// cannot be sent all of it: with 20,000 (537 KB), the send buffer's
// autotuning sometimes took the whole roster under load and the client
// that stalled was never cut.
constexpr int kLoginsPastKernelBuffers = 200000;

// The most a TCP send buffer grows to (the third field of tcp_wmem).
std::size_t largestSendBuffer()
{
    std::ifstream file("/proc/sys/net/ipv4/tcp_wmem");
    std::size_t least = 0, initial = 0, most = 0;
    file >> least >> initial >> most;
    CPPUNIT_ASSERT_MESSAGE("cannot read /proc/sys/net/ipv4/tcp_wmem", file && most > 0);
    return most;
}

// Reads a stream to its end (or to a reset), as a roster client does.
std::string readToEnd(Poco::Net::StreamSocket& socket)
{
    socket.setReceiveTimeout(Poco::Timespan(20, 0));
    std::string bytes;
    char buffer[65536];
    try {
        while (true) {
            const int n = socket.receiveBytes(buffer, sizeof buffer);
            if (n <= 0) break;
            bytes.append(buffer, static_cast<std::size_t>(n));
        }
    } catch (const Poco::Net::ConnectionResetException&) {
    }
    return bytes;
}

} // namespace

class RosterListenerTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RosterListenerTest);
    CPPUNIT_TEST(testServesEmptyRosterAsEnd);
    CPPUNIT_TEST(testServesSeedTextRoster);
    CPPUNIT_TEST(testServesDotNetRosterWithLengthPrefix);
    CPPUNIT_TEST(testListsNoPeerchatUser);
    CPPUNIT_TEST(testServesDirectoryAsItChanges);
    CPPUNIT_TEST(testCallsObserverBeforeWriting);
    CPPUNIT_TEST(testNotBlockedByReaderThatStalls);
    CPPUNIT_TEST(testRefusesConnectionsOverPerAddressLimit);
    CPPUNIT_TEST(testCutsStalledConnectionWhenItsSlotIsNeeded);
    CPPUNIT_TEST(testNewConnectionsWaitWhileNoneHasStalled);
    CPPUNIT_TEST(testCutsConnectionPastDeadline);
    CPPUNIT_TEST_SUITE_END();

public:
    RosterListenerTest() : _identity(SigningKey::generate()) {}

    void tearDown() override
    {
        stopLoop();
        _listener.reset();
    }

    void testServesEmptyRosterAsEnd()
    {
        start(RosterFormat::SeedText);
        CPPUNIT_ASSERT_EQUAL(std::string("end"), fetch());
    }

    void testServesSeedTextRoster()
    {
        login("天涯", "127.0.0.1:5001", Dialect::Seed);
        start(RosterFormat::SeedText);
        CPPUNIT_ASSERT_EQUAL(std::string("天涯,127.0.0.1:5001;end"), fetch());
    }

    void testServesDotNetRosterWithLengthPrefix()
    {
        login("carol", "127.0.0.1:6000", Dialect::DotNet);
        start(RosterFormat::DotNet);
        CPPUNIT_ASSERT_EQUAL(std::string("\x18") + "carol,127.0.0.1:6000;end", fetch());
    }

    void testListsNoPeerchatUser()
    {
        // A peerchat/3 user's presence goes to its contacts only; seed and .NET users see one another.
        login("alice", "127.0.0.1:5001", Dialect::Seed);
        login("carol", "127.0.0.1:6000", Dialect::DotNet);
        loginPeerchat("dave", "127.0.0.1:5004");
        start(RosterFormat::SeedText);
        CPPUNIT_ASSERT((std::set<std::string>{"alice", "carol"}) == names(fetch(), RosterFormat::SeedText));
        // Nor once the directory has changed and the roster is encoded again.
        onLoop([this] { loginPeerchat("erin", "127.0.0.1:5005"); });
        CPPUNIT_ASSERT((std::set<std::string>{"alice", "carol"}) == names(fetch(), RosterFormat::SeedText));
    }

    void testServesDirectoryAsItChanges()
    {
        login("alice", "127.0.0.1:5001", Dialect::Seed);
        start(RosterFormat::SeedText);
        CPPUNIT_ASSERT_EQUAL(std::string("alice,127.0.0.1:5001;end"), fetch());
        onLoop([this] {
            _directory.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.1:5001"));
            login("bob", "127.0.0.1:5002", Dialect::Seed);
        });
        CPPUNIT_ASSERT_EQUAL(std::string("bob,127.0.0.1:5002;end"), fetch());
    }

    void testCallsObserverBeforeWriting()
    {
        std::vector<std::string> seen;  // on the loop's thread only
        start(RosterFormat::SeedText, limits(), [this, &seen](const Poco::Net::IPAddress& address) {
            seen.push_back(address.toString());
            if (seen.size() == 1) login("carol", "127.0.0.1:6000", Dialect::Seed);
        });
        // What the observer did is in the roster the connection reads.
        CPPUNIT_ASSERT_EQUAL(std::string("carol,127.0.0.1:6000;end"), fetch());
        fetchFrom("127.0.0.2");
        CPPUNIT_ASSERT(onLoop([&] { return seen == std::vector<std::string>{"127.0.0.1", "127.0.0.2"}; }));
    }

    void testNotBlockedByReaderThatStalls()
    {
        auto stalled = startWithSlotHeld(limits());
        const auto postedAt = Clock::now();
        onLoop([] { return 0; });
        CPPUNIT_ASSERT(Clock::now() - postedAt < 1s);
        CPPUNIT_ASSERT_EQUAL(rosterBytes(), fetch().size());
    }

    void testRefusesConnectionsOverPerAddressLimit()
    {
        loginManyPastKernelBuffers();
        std::atomic<int> observed{0};
        auto few = limits();
        few.perAddress = 2;
        start(RosterFormat::SeedText, few, [&](const Poco::Net::IPAddress&) { ++observed; });
        auto first = connectStalled("127.0.0.2");
        auto second = connectStalled("127.0.0.2");
        CPPUNIT_ASSERT(peerchat::test::waitUntil([&] { return openConnections() == 2; }));

        // A third from that address is closed unread; another address is served.
        CPPUNIT_ASSERT_EQUAL(std::string(), fetchFrom("127.0.0.2"));
        CPPUNIT_ASSERT_EQUAL(rosterBytes(), fetchFrom("127.0.0.3").size());
        CPPUNIT_ASSERT_EQUAL(4, observed.load());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), onLoop([this] { return _listener->drops().total(DropReason::Refused); }));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), openConnections());
    }

    void testCutsStalledConnectionWhenItsSlotIsNeeded()
    {
        auto one = limits();
        one.connections = 1;
        one.stallAfter = 300ms;
        const auto stalledAt = Clock::now();
        auto stalled = startWithSlotHeld(one);

        // The next client takes the stalled one's slot once it has stalled,
        // long before the deadline.
        const std::string roster = fetchFrom("127.0.0.1");
        CPPUNIT_ASSERT(Clock::now() - stalledAt >= one.stallAfter);
        CPPUNIT_ASSERT(Clock::now() - stalledAt < one.deadline);
        CPPUNIT_ASSERT_EQUAL(rosterBytes(), roster.size());
        CPPUNIT_ASSERT(roster.compare(roster.size() - 4, 4, ";end") == 0);
        CPPUNIT_ASSERT(readToEnd(stalled).size() < rosterBytes());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), onLoop([this] { return _listener->drops().total(DropReason::Slow); }));
    }

    void testNewConnectionsWaitWhileNoneHasStalled()
    {
        auto one = limits();
        one.connections = 1;
        one.stallAfter = 1500ms;
        auto stalled = startWithSlotHeld(one);

        // The waiting client is accepted only once the slot's holder stalls.
        auto waiting = std::async(std::launch::async, [this] { return fetchFrom("127.0.0.1"); });
        CPPUNIT_ASSERT(waiting.wait_for(one.stallAfter / 2) == std::future_status::timeout);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), onLoop([this] { return _listener->drops().total(); }));
        CPPUNIT_ASSERT_EQUAL(rosterBytes(), waiting.get().size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), onLoop([this] { return _listener->drops().total(DropReason::Slow); }));
    }

    void testCutsConnectionPastDeadline()
    {
        auto quick = limits();
        quick.stallAfter = 100ms;
        quick.deadline = 800ms;
        const auto connectedAt = Clock::now();
        auto stalled = startWithSlotHeld(quick);

        // Stalled, but no one needs its slot: it keeps it until the deadline.
        CPPUNIT_ASSERT(peerchat::test::waitUntil([&] { return openConnections() == 0; }));
        CPPUNIT_ASSERT(Clock::now() - connectedAt >= quick.deadline);
        CPPUNIT_ASSERT(readToEnd(stalled).size() < rosterBytes());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), onLoop([this] { return _listener->drops().total(DropReason::Slow); }));
    }

private:
    // The names a roster stream in format lists; the stream must decode.
    static std::set<std::string> names(const std::string& stream, RosterFormat format)
    {
        const auto entries = peerchat::RosterCodec::decode(stream, format);
        CPPUNIT_ASSERT_MESSAGE(stream + ": " + entries.error(), entries.ok());
        std::set<std::string> out;
        for (const auto& entry : *entries) out.insert(entry.name);
        return out;
    }

    void login(const std::string& name, const std::string& ep, Dialect dialect)
    {
        _directory.login(name, endpoint(ep), dialect, endpoint(ep).host(), Directory::TimePoint());
    }

    void loginPeerchat(const std::string& name, const std::string& ep)
    {
        const peerchat::test::TestPeer peer(name, ep);
        _directory.login(name, peer.endpoint(), Dialect::Peerchat, peer.endpoint().host(), Directory::TimePoint(),
                         peer.sessionAt(_identity));
    }

    // Users enough for a roster larger than the kernel holds for a client that never reads.
    void loginManyPastKernelBuffers()
    {
        for (int i = 0; i < kLoginsPastKernelBuffers; ++i) {
            login("user" + std::to_string(i),
                  "10." + std::to_string(i / 62500) + "." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250)
                      + ":40000",
                  Dialect::Seed);
        }
        CPPUNIT_ASSERT_MESSAGE("the roster must be larger than a send buffer grows, or a client that never reads "
                               "can be sent all of it",
                               rosterBytes() > largestSendBuffer());
    }

    std::size_t rosterBytes() const
    {
        return peerchat::RosterCodec::encode(_directory.legacySnapshot(), RosterFormat::SeedText).size();
    }

    static RosterListener::Limits limits()
    {
        return RosterListener::Limits{8, 8, 10s, 10s};
    }

    void start(RosterFormat format, const RosterListener::Limits& limits = RosterListenerTest::limits(),
               std::function<void(const Poco::Net::IPAddress&)> onConnection = nullptr)
    {
        _listener = std::make_unique<RosterListener>(_loop, _directory, format,
                                                     Poco::Net::SocketAddress("127.0.0.1", 0), limits,
                                                     std::move(onConnection));
        _thread = std::thread([this] { _loop.run(); });
    }

    std::size_t openConnections()
    {
        return onLoop([this] { return _listener->openConnections(); });
    }

    // A client from host that connects and never reads.
    Poco::Net::StreamSocket connectStalled(const std::string& host)
    {
        Poco::Net::StreamSocket socket = smallWindowSocket(host);
        socket.connect(address());
        return socket;
    }

    // Starts a seed roster port with limits and a roster far larger than a
    // small window takes in, one of whose slots is held by a client from
    // 127.0.0.2 that never reads; returns that client.
    Poco::Net::StreamSocket startWithSlotHeld(const RosterListener::Limits& limits)
    {
        loginManyPastKernelBuffers();
        start(RosterFormat::SeedText, limits);
        Poco::Net::StreamSocket stalled = connectStalled("127.0.0.2");
        CPPUNIT_ASSERT(peerchat::test::waitUntil([&] { return openConnections() == 1; }));
        return stalled;
    }

    void stopLoop()
    {
        if (!_thread.joinable()) return;
        _loop.stop();
        _thread.join();
    }

    // Runs f on the loop's thread and returns what it returned.
    template <typename F>
    auto onLoop(F f) -> decltype(f())
    {
        std::packaged_task<decltype(f())()> task(f);
        auto result = task.get_future();
        _loop.post([&task] { task(); });
        return result.get();
    }

    Poco::Net::SocketAddress address() const { return Poco::Net::SocketAddress("127.0.0.1", _listener->port()); }

    std::string fetch()
    {
        Poco::Net::StreamSocket socket(address());
        return readToEnd(socket);
    }

    // The roster as a client from host reads it through a small window, so
    // that it cannot take it all at once and needs a slot.
    std::string fetchFrom(const std::string& host)
    {
        Poco::Net::StreamSocket socket = smallWindowSocket(host);
        socket.connect(address());
        return readToEnd(socket);
    }

    IndexIdentity _identity;
    EventLoop _loop;
    Directory _directory;
    std::unique_ptr<RosterListener> _listener;
    std::thread _thread;
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterListenerTest);
