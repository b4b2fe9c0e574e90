#include "IndexSession.h"

#include "PeerStore.h"
#include "KeyPins.h"
#include "ManualTimers.h"
#include "SilentListener.h"
#include "PeerTestData.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>
#include <vector>

using namespace peerchat;
using namespace std::chrono_literals;
using test::SilentListener;
using test::ManualTimers;

namespace {

const Endpoint kIndex = test::endpoint("127.0.0.1:9400");

struct RecordingSink : DatagramSink
{
    void sendTo(std::string_view bytes, const Endpoint& to) override
    {
        CPPUNIT_ASSERT(to == kIndex);
        sent.emplace_back(bytes);
    }
    std::vector<std::string> sent;
};

struct RecordingListener : SilentListener
{
    void linkStateChanged(local::LinkState state, const std::string& detail) override
    {
        states.emplace_back(state, detail);
    }

    std::vector<std::pair<local::LinkState, std::string>> states;
};

} // namespace

/// The login schedule and the refusals of the session with indexd, on a
/// hand-turned clock (WireLinkTest drives the whole login against a fake
/// indexd in real time).
class IndexSessionTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IndexSessionTest);
    CPPUNIT_TEST(testHelloResentEveryLoginRetry);
    CPPUNIT_TEST(testSilenceReportedOnce);
    CPPUNIT_TEST(testNoHelloWhilePresencePending);
    CPPUNIT_TEST(testPresenceLoadedGoesOnlineAndEndsHellos);
    CPPUNIT_TEST(testPresenceFailedIsReported);
    CPPUNIT_TEST(testRefusalEchoingNoHelloDropped);
    CPPUNIT_TEST(testTakenRefusalEchoingHelloIsFinal);
    CPPUNIT_TEST(testBusyRefusalKeepsLoggingIn);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _timers = std::make_unique<ManualTimers>();
        _sink = RecordingSink();
        _listener = RecordingListener();
        _refused.clear();
        _presencePending = false;
        _store = std::make_unique<PeerStore>(10);
        _pins = std::make_unique<KeyPins>(_store->keys, _store->outbox);
        _sessions = std::make_unique<PeerSessions>(_alice);
        _drops = std::make_unique<DropLog>(*_timers, 10s);
        _session = std::make_unique<IndexSession>(
            *_timers, _sink, *_sessions, _alice, *_pins, _listener, *_drops,
            IndexSession::Settings{"alice", kIndex, std::nullopt, 2000ms, 10000ms, {}},
            IndexSession::Hooks{
                [](const LoginState::Welcomed&) {},
                [this] { return _presencePending; },
                [] {},
                [] {},
                [] { return std::uint64_t(0); },
                [this](const std::string& why) { _refused = why; },
            });
    }

    void tearDown() override
    {
        _session.reset();
        _drops.reset();
    }

    void testHelloResentEveryLoginRetry()
    {
        _session->start();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        _timers->advance(1999ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        _timers->advance(1ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
        _timers->advance(4000ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), _sink.sent.size());
        for (const std::string& datagram : _sink.sent) CPPUNIT_ASSERT(hello(datagram).name == "alice");
        // Each hello of a round carries its own HNONCE.
        CPPUNIT_ASSERT(*hello(_sink.sent[0]).nonce != *hello(_sink.sent[1]).nonce);
        CPPUNIT_ASSERT(_session->phase() == IndexSession::Phase::LoggingIn);
    }

    void testSilenceReportedOnce()
    {
        _session->start();
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.states.size());
        CPPUNIT_ASSERT(_listener.states[0].first == local::LinkState::Connecting);
        CPPUNIT_ASSERT(_listener.states[0].second.find("no answer from indexd") != std::string::npos);
    }

    void testNoHelloWhilePresencePending()
    {
        _presencePending = true;
        _session->start();
        _timers->advance(6s);
        CPPUNIT_ASSERT(_sink.sent.empty());
        _presencePending = false;
        _timers->advance(2s);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
    }

    void testPresenceLoadedGoesOnlineAndEndsHellos()
    {
        _session->start();
        _session->presenceLoaded(2);
        CPPUNIT_ASSERT(_session->online());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.states.size());
        CPPUNIT_ASSERT(_listener.states[0].first == local::LinkState::Online);
        CPPUNIT_ASSERT(_listener.states[0].second.find("2 other users online") != std::string::npos);
        _timers->advance(6s);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        // Later snapshots change nothing of the session.
        _session->presenceLoaded(3);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.states.size());
    }

    void testPresenceFailedIsReported()
    {
        _session->start();
        _session->presenceFailed("indexd sent no presence since its welcome; logging in again");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.states.size());
        CPPUNIT_ASSERT(_listener.states[0].first == local::LinkState::Connecting);
        CPPUNIT_ASSERT_EQUAL(std::string("indexd sent no presence since its welcome; logging in again"),
                             _listener.states[0].second);
    }

    void testRefusalEchoingNoHelloDropped()
    {
        _session->start();
        _session->refuse(Refuse{"alice", "taken", std::nullopt});
        Nonce other{};
        other.fill(7);
        _session->refuse(Refuse{"alice", "taken", other});
        CPPUNIT_ASSERT(_refused.empty());
        CPPUNIT_ASSERT(_listener.states.empty());
        CPPUNIT_ASSERT(_session->phase() == IndexSession::Phase::LoggingIn);
    }

    void testTakenRefusalEchoingHelloIsFinal()
    {
        _session->start();
        _session->refuse(Refuse{"alice", "taken", hello(_sink.sent[0]).nonce});
        CPPUNIT_ASSERT(_refused.find("choose another --user") != std::string::npos);
        CPPUNIT_ASSERT(_session->linkState() == local::LinkState::Refused);
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
    }

    void testBusyRefusalKeepsLoggingIn()
    {
        _session->start();
        _session->refuse(Refuse{"alice", "busy", hello(_sink.sent[0]).nonce});
        CPPUNIT_ASSERT(_refused.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.states.size());
        CPPUNIT_ASSERT(_listener.states[0].second.find("keeps trying") != std::string::npos);
        _timers->advance(2s);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
    }

private:
    static Hello hello(const std::string& datagram)
    {
        const Parsed<Inbound> inbound = Protocol::decodeDatagram(datagram);
        CPPUNIT_ASSERT_MESSAGE(datagram, inbound.ok());
        const Hello* hello = std::get_if<Hello>(&inbound->message);
        CPPUNIT_ASSERT_MESSAGE(datagram, hello != nullptr && hello->nonce.has_value());
        return *hello;
    }

    SigningKey _alice = SigningKey::generate();
    std::unique_ptr<ManualTimers> _timers;
    RecordingSink _sink;
    RecordingListener _listener;
    std::string _refused;
    bool _presencePending = false;
    std::unique_ptr<PeerStore> _store;
    std::unique_ptr<KeyPins> _pins;
    std::unique_ptr<PeerSessions> _sessions;
    std::unique_ptr<DropLog> _drops;
    std::unique_ptr<IndexSession> _session;
};

CPPUNIT_TEST_SUITE_REGISTRATION(IndexSessionTest);
