#include "Directory.h"
#include "EventLoop.h"
#include "IndexIdentity.h"
#include "RosterListener.h"
#include "SignedStatement.h"

#include "RecordingSink.h"
#include "Wait.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <future>
#include <memory>
#include <thread>

using peerchat::Dialect;
using peerchat::Directory;
using peerchat::EventLoop;
using peerchat::RosterFormat;
using peerchat::IndexIdentity;
using peerchat::RosterListener;
using peerchat::RosterTrailer;
using peerchat::SigningKey;
using peerchat::test::endpoint;

namespace {

using Clock = std::chrono::steady_clock;

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
    CPPUNIT_TEST(testServesPeerchatRosterWithDialects);
    CPPUNIT_TEST(testPeerchatRosterCarriesKeysAndSignature);
    CPPUNIT_TEST(testPeerchatRosterEndsWithLatestPresenceSeq);
    CPPUNIT_TEST(testServesDirectoryAsItChanges);
    CPPUNIT_TEST(testLimitsConnectionsAndCutsOffSlowReaders);
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
        login("天涯", "127.0.0.1:5001", Dialect::Peerchat);
        start(RosterFormat::SeedText);
        CPPUNIT_ASSERT_EQUAL(std::string("天涯,127.0.0.1:5001;end"), fetch());
    }

    void testServesDotNetRosterWithLengthPrefix()
    {
        login("carol", "127.0.0.1:6000", Dialect::DotNet);
        start(RosterFormat::DotNet);
        CPPUNIT_ASSERT_EQUAL(std::string("\x18") + "carol,127.0.0.1:6000;end", fetch());
    }

    void testServesPeerchatRosterWithDialects()
    {
        login("dave", "[::1]:5004", Dialect::Seed);
        start(RosterFormat::Peerchat);
        const auto entries = fetchPeerchat();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), entries.size());
        CPPUNIT_ASSERT_EQUAL(std::string("dave"), entries[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5004"), entries[0].endpoint.toString());
        CPPUNIT_ASSERT_EQUAL(std::string("seed"), entries[0].dialect);
        CPPUNIT_ASSERT(!entries[0].keys);
    }

    void testPeerchatRosterCarriesKeysAndSignature()
    {
        const auto identity = SigningKey::generate();
        const auto kx = peerchat::KxKeyPair::generate();
        const peerchat::PeerKeys keys{identity.publicKey(), kx.publicKey(),
                                      identity.sign(peerchat::SignedStatement::kx("erin", kx.publicKey()))};
        _directory.login("erin", endpoint("127.0.0.1:5005"), Dialect::Peerchat, endpoint("127.0.0.1:5005").host(),
                         Directory::TimePoint(),
                         peerchat::PeerSession{keys, *peerchat::SessionCipher::between(_identity.kx(), kx.publicKey())});
        start(RosterFormat::Peerchat);
        RosterTrailer trailer;
        const auto entries = fetchPeerchat(&trailer);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), entries.size());
        CPPUNIT_ASSERT_EQUAL(std::string("peerchat/2"), entries[0].dialect);
        CPPUNIT_ASSERT(entries[0].keys && entries[0].keys->identity == keys.identity);
        CPPUNIT_ASSERT(entries[0].keys->kx == keys.kx);
        CPPUNIT_ASSERT(entries[0].keys->kxSig == keys.kxSig);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), trailer.seq);
        // Signed for this run's epoch, and for no other.
        const IndexIdentity nextRun(_identity.key());
        CPPUNIT_ASSERT(!SigningKey::verify(_identity.publicKey(),
                                           peerchat::SignedStatement::roster(trailer.signedPart, nextRun.epoch()),
                                           *trailer.sig));
    }

    void testPeerchatRosterEndsWithLatestPresenceSeq()
    {
        start(RosterFormat::Peerchat);
        RosterTrailer trailer;
        CPPUNIT_ASSERT(fetchPeerchat(&trailer).empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), trailer.seq);
        onLoop([this] {
            login("alice", "127.0.0.1:5001", Dialect::Seed);
            login("bob", "127.0.0.1:5002", Dialect::Seed);
            _directory.logout("alice", endpoint("127.0.0.1:5001"), endpoint("127.0.0.1:5001"));
        });
        const auto entries = fetchPeerchat(&trailer);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), entries.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), entries[0].name);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), trailer.seq);
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

    void testLimitsConnectionsAndCutsOffSlowReaders()
    {
        // A roster far larger than any socket buffer, so a client that does not
        // read holds its connection until the deadline.
        for (int i = 0; i < 400000; ++i) {
            login("user" + std::to_string(i),
                  "10." + std::to_string(i / 62500) + "." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250)
                      + ":40000",
                  Dialect::Seed);
        }
        const std::size_t rosterBytes = peerchat::RosterCodec::encode(_directory.snapshot(), RosterFormat::SeedText).size();
        const auto deadline = std::chrono::milliseconds(800);
        start(RosterFormat::SeedText, 1, deadline);

        Poco::Net::StreamSocket stalled(Poco::Net::SocketAddress::IPv4);
        stalled.setReceiveBufferSize(4096);
        const auto stalledAt = Clock::now();
        stalled.connect(address());
        CPPUNIT_ASSERT(peerchat::test::waitUntil([&] { return onLoop([this] { return _listener->openConnections(); }) == 1; }));

        // The loop is not blocked by the stalled client.
        const auto postedAt = Clock::now();
        onLoop([] { return 0; });
        CPPUNIT_ASSERT(Clock::now() - postedAt < deadline / 2);

        // A second client waits for the only slot, which frees at the deadline.
        Poco::Net::StreamSocket patient(address());
        const std::string patientRoster = readToEnd(patient);
        CPPUNIT_ASSERT(Clock::now() - stalledAt >= deadline);
        CPPUNIT_ASSERT_EQUAL(rosterBytes, patientRoster.size());
        CPPUNIT_ASSERT(patientRoster.compare(patientRoster.size() - 4, 4, ";end") == 0);

        const std::string stalledRoster = readToEnd(stalled);
        CPPUNIT_ASSERT(stalledRoster.size() < rosterBytes);
        CPPUNIT_ASSERT(peerchat::test::waitUntil([&] { return onLoop([this] { return _listener->openConnections(); }) == 0; }));
    }

private:
    void login(const std::string& name, const std::string& ep, Dialect dialect)
    {
        _directory.login(name, endpoint(ep), dialect, endpoint(ep).host(), Directory::TimePoint());
    }

    void start(RosterFormat format, std::size_t maxConnections = 8,
               std::chrono::milliseconds deadline = std::chrono::seconds(10))
    {
        _listener = std::make_unique<RosterListener>(_loop, _directory, _identity, format,
                                                     Poco::Net::SocketAddress("127.0.0.1", 0), maxConnections, deadline);
        _thread = std::thread([this] { _loop.run(); });
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

    // The peerchat roster, its signature by this run's identity checked.
    std::vector<peerchat::RosterEntry> fetchPeerchat(RosterTrailer* trailer = nullptr)
    {
        const std::string stream = fetch();
        RosterTrailer read;
        const auto entries = peerchat::RosterCodec::decode(stream, RosterFormat::Peerchat, &read);
        CPPUNIT_ASSERT_MESSAGE(stream + ": " + entries.error(), entries.ok());
        CPPUNIT_ASSERT_MESSAGE(stream, read.sig.has_value());
        CPPUNIT_ASSERT_MESSAGE(stream, SigningKey::verify(_identity.publicKey(),
                                                          peerchat::SignedStatement::roster(read.signedPart,
                                                                                            _identity.epoch()),
                                                          *read.sig));
        if (trailer) *trailer = read;
        return *entries;
    }

    IndexIdentity _identity;
    EventLoop _loop;
    Directory _directory;
    std::unique_ptr<RosterListener> _listener;
    std::thread _thread;
};

CPPUNIT_TEST_SUITE_REGISTRATION(RosterListenerTest);
