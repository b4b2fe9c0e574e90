#include "RelayLink.h"

#include "ChannelData.h"
#include "ManualTimers.h"
#include "PeerTestData.h"
#include "TurnServerScript.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using namespace peerchat;
using namespace std::chrono_literals;
using test::endpoint;
using test::ManualTimers;
using test::TurnServerScript;
using Method = StunMessage::Method;

namespace {

const Endpoint kServer = endpoint("198.51.100.1:3478");
const Endpoint kRelayed = endpoint("198.51.100.1:50000");
const Endpoint kMapped = endpoint("203.0.113.5:41000");
const Endpoint kBob = endpoint("192.0.2.20:6000");
const std::uint64_t kExpiry = 1765000000;
const TurnKey kKey = TurnCredentials::key("s3cret", "alice", kExpiry);

struct RecordingSink : DatagramSink
{
    void sendTo(std::string_view bytes, const Endpoint& to) override
    {
        sent.emplace_back(std::string(bytes), to);
    }
    std::vector<std::pair<std::string, Endpoint>> sent;
};

} // namespace

/// alice's relay on a hand-turned clock, with the test playing coturn: when
/// it allocates, what it sends where, when it tells that its candidate came
/// or went, and how it waits after a failure.
class RelayLinkTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RelayLinkTest);
    CPPUNIT_TEST(testNothingWithoutOffer);
    CPPUNIT_TEST(testAllocatesWithCredentialFromOffer);
    CPPUNIT_TEST(testWantWhileAllocatedDoesNothing);
    CPPUNIT_TEST(testRelaysBothWays);
    CPPUNIT_TEST(testMeetPermitsPeersHosts);
    CPPUNIT_TEST(testIdleRelayReleased);
    CPPUNIT_TEST(testFailedAllocationWaitsBeforeRetry);
    CPPUNIT_TEST(testLogoutReleasesWithoutTelling);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _timers = std::make_unique<ManualTimers>();
        _socket = RecordingSink();
        _changes = 0;
        _relay = std::make_unique<RelayLink>(*_timers, _socket, "alice", RelayLink::Hooks{[this] { ++_changes; }});
    }

    void tearDown() override { _relay.reset(); }

    void testNothingWithoutOffer()
    {
        _relay->want();
        CPPUNIT_ASSERT(_socket.sent.empty());
        CPPUNIT_ASSERT(!_relay->candidate());
        CPPUNIT_ASSERT(!_relay->isServer(kServer));
    }

    void testAllocatesWithCredentialFromOffer()
    {
        _relay->offer(Turn{kServer, kExpiry, kKey});
        CPPUNIT_ASSERT(_socket.sent.empty());
        _relay->want();
        CPPUNIT_ASSERT(_relay->isServer(kServer));
        CPPUNIT_ASSERT(!_relay->isServer(kBob));
        const StunMessage first = next();
        CPPUNIT_ASSERT(first.method() == Method::Allocate);
        CPPUNIT_ASSERT(!_relay->receive(_script.unauthorized(first, "n1")));
        const StunMessage second = next();
        CPPUNIT_ASSERT_EQUAL(std::string("1765000000:alice"),
                             second.attribute(StunMessage::Attribute::Username).value_or(""));
        CPPUNIT_ASSERT(second.hasValidIntegrity(_script.key()));
        CPPUNIT_ASSERT_EQUAL(0, _changes);
        _relay->receive(_script.allocated(second, 600));
        CPPUNIT_ASSERT_EQUAL(1, _changes);
        CPPUNIT_ASSERT(_relay->candidate() == kRelayed);
    }

    void testWantWhileAllocatedDoesNothing()
    {
        allocate();
        _relay->want();
        CPPUNIT_ASSERT(_socket.sent.empty());
        CPPUNIT_ASSERT_EQUAL(1, _changes);
    }

    void testRelaysBothWays()
    {
        allocate();
        _relay->sendTo("seal,1", kBob);
        const StunMessage bind = next();
        CPPUNIT_ASSERT(bind.method() == Method::ChannelBind);
        _relay->receive(_script.success(bind));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _socket.sent.size());
        CPPUNIT_ASSERT((ChannelData{ChannelData::kFirstChannel, "seal,1"}.encode()) == _socket.sent[0].first);
        CPPUNIT_ASSERT(_socket.sent[0].second == kServer);
        const auto relayed = _relay->receive(ChannelData{ChannelData::kFirstChannel, "seal,2"}.encode());
        CPPUNIT_ASSERT(relayed && relayed->peer == kBob && relayed->payload == "seal,2");
    }

    void testMeetPermitsPeersHosts()
    {
        allocate();
        _relay->permit(Meet{"bob", {{CandidateKind::Host, endpoint("10.0.2.2:6000")},
                                    {CandidateKind::Reflexive, kBob}}});
        std::vector<Method> methods;
        for (const auto& [bytes, to] : _socket.sent) methods.push_back(TurnServerScript::request(bytes).method());
        CPPUNIT_ASSERT(methods == (std::vector<Method>{Method::CreatePermission, Method::CreatePermission}));
    }

    void testIdleRelayReleased()
    {
        allocate();
        // Refreshes keep coming; they are no use of the relay.
        for (auto waited = 0min; waited < RelayLink::kIdleFor - 1min; waited += 1min) {
            _timers->advance(1min);
            answerAll();
        }
        CPPUNIT_ASSERT(_relay->candidate());
        _timers->advance(1min);
        const StunMessage release = next();
        CPPUNIT_ASSERT(release.method() == Method::Refresh);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), release.uint32(StunMessage::Attribute::Lifetime).value_or(1));
        CPPUNIT_ASSERT(!_relay->candidate());
        CPPUNIT_ASSERT_EQUAL(2, _changes);
    }

    void testFailedAllocationWaitsBeforeRetry()
    {
        _relay->offer(Turn{kServer, kExpiry, kKey});
        _relay->want();
        // The server never answers: retransmissions, then the client gives up.
        _timers->advance(TurnClient::kGiveUpAfter + 1s);
        _socket.sent.clear();
        _relay->want();
        CPPUNIT_ASSERT(_socket.sent.empty());
        _timers->advance(RelayLink::kRetryAfter);
        _relay->want();
        CPPUNIT_ASSERT(next().method() == Method::Allocate);
        CPPUNIT_ASSERT_EQUAL(0, _changes);
    }

    void testLogoutReleasesWithoutTelling()
    {
        allocate();
        _relay->release();
        CPPUNIT_ASSERT(next().method() == Method::Refresh);
        CPPUNIT_ASSERT(!_relay->candidate());
        CPPUNIT_ASSERT_EQUAL(1, _changes);
    }

private:
    // The only datagram sent since the last call, to the server, as a request.
    StunMessage next()
    {
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _socket.sent.size());
        CPPUNIT_ASSERT(_socket.sent[0].second == kServer);
        const StunMessage request = TurnServerScript::request(_socket.sent[0].first);
        _socket.sent.clear();
        return request;
    }

    void allocate()
    {
        _relay->offer(Turn{kServer, kExpiry, kKey});
        _relay->want();
        _relay->receive(_script.unauthorized(next(), "n1"));
        _relay->receive(_script.allocated(next(), 600));
        CPPUNIT_ASSERT(_relay->candidate());
    }

    // Answers every request sent since the last call with success.
    void answerAll()
    {
        const auto sent = std::move(_socket.sent);
        _socket.sent.clear();
        for (const auto& [bytes, to] : sent) _relay->receive(_script.success(TurnServerScript::request(bytes), 600));
    }

    TurnServerScript _script{TurnCredentials::of("alice", kExpiry, kKey), "peerchat", kRelayed, kMapped};
    std::unique_ptr<ManualTimers> _timers;
    RecordingSink _socket;
    int _changes = 0;
    std::unique_ptr<RelayLink> _relay;
};

CPPUNIT_TEST_SUITE_REGISTRATION(RelayLinkTest);
