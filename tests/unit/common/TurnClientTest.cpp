#include "ChannelData.h"
#include "TurnClient.h"
#include "TurnServerScript.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using peerchat::ChannelData;
using peerchat::Endpoint;
using peerchat::StunMessage;
using peerchat::TurnClient;
using peerchat::TurnCredentials;
using peerchat::test::TurnServerScript;
using Attribute = StunMessage::Attribute;
using Method = StunMessage::Method;
using Kind = StunMessage::Kind;
using namespace std::chrono_literals;

namespace {

const Endpoint kServer = *Endpoint::parse("198.51.100.1:3479");
const Endpoint kRelayed = *Endpoint::parse("198.51.100.1:50000");
const Endpoint kMapped = *Endpoint::parse("203.0.113.5:41000");
const Endpoint kBob = *Endpoint::parse("192.0.2.20:6000");
const Endpoint kCarol = *Endpoint::parse("192.0.2.30:7000");
const TurnCredentials kCredentials{"1765000000:alice", "pw"};
const std::string kRealm = "peerchat";

} // namespace

/// Plays the TURN server against a TurnClient: reads what it sends, answers
/// with what each test chooses, signed with the key the real server would use.
class TurnClientTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(TurnClientTest);
    CPPUNIT_TEST(testClassifyByFirstByte);
    CPPUNIT_TEST(testAllocateLearnsRealmAndNonceFrom401);
    CPPUNIT_TEST(testStaleNonceRetriesWithTheNewNonce);
    CPPUNIT_TEST(testRefusedCredentialsFailWithAReason);
    CPPUNIT_TEST(testRetransmitScheduleThenGiveUp);
    CPPUNIT_TEST(testForgedAnswersAreDropped);
    CPPUNIT_TEST(testSendQueuesUntilChannelBound);
    CPPUNIT_TEST(testQueueIsBounded);
    CPPUNIT_TEST(testRefusedChannelDropsItsQueue);
    CPPUNIT_TEST(testReceiveChannelDataAndDataIndication);
    CPPUNIT_TEST(testRefreshesBeforeLifetimesEnd);
    CPPUNIT_TEST(testPermitSendsCreatePermission);
    CPPUNIT_TEST(testReleaseSendsLifetimeZero);
    CPPUNIT_TEST(testExpiredCredentialsOnRefreshFail);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _now = TurnClient::TimePoint(1000s);
    }

    void testClassifyByFirstByte()
    {
        for (int b : {0, 1, 2, 3}) CPPUNIT_ASSERT(TurnClient::classify(b) == TurnClient::DatagramKind::Stun);
        for (int b = 64; b <= 79; ++b) CPPUNIT_ASSERT(TurnClient::classify(b) == TurnClient::DatagramKind::ChannelData);
        for (char verb : {'s', 'h', 'l', 'm', 'a', '{'})
            CPPUNIT_ASSERT(TurnClient::classify(verb) == TurnClient::DatagramKind::Other);
        for (int b : {4, 19, 20, 63, 80, 128, 255}) CPPUNIT_ASSERT(TurnClient::classify(b) == TurnClient::DatagramKind::Other);
    }

    void testAllocateLearnsRealmAndNonceFrom401()
    {
        TurnClient client(kServer, kCredentials);
        client.allocate(_now);
        const StunMessage first = only(client);
        CPPUNIT_ASSERT(first.method() == Method::Allocate);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t{17} << 24, first.uint32(Attribute::RequestedTransport).value_or(0));
        CPPUNIT_ASSERT(!first.attribute(Attribute::Username));
        CPPUNIT_ASSERT(!first.hasIntegrity());

        client.receive(_server.unauthorized(first, "nonce-1"), _now);
        const StunMessage second = only(client);
        CPPUNIT_ASSERT(second.method() == Method::Allocate);
        CPPUNIT_ASSERT(second.transaction() != first.transaction());
        CPPUNIT_ASSERT_EQUAL(kCredentials.username, second.attribute(Attribute::Username).value_or(""));
        CPPUNIT_ASSERT_EQUAL(kRealm, second.attribute(Attribute::Realm).value_or(""));
        CPPUNIT_ASSERT_EQUAL(std::string("nonce-1"), second.attribute(Attribute::Nonce).value_or(""));
        CPPUNIT_ASSERT(second.hasValidIntegrity(_server.key()));
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Allocating);

        client.receive(_server.allocated(second, 600), _now);
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Allocated);
        CPPUNIT_ASSERT_EQUAL(kRelayed.toString(), client.relayedEndpoint()->toString());
        CPPUNIT_ASSERT_EQUAL(kMapped.toString(), client.mappedEndpoint()->toString());
        CPPUNIT_ASSERT(client.error().empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{0}, client.dropped());
    }

    void testStaleNonceRetriesWithTheNewNonce()
    {
        TurnClient client = allocatedClient();
        client.sendToPeer(kBob, "x", _now);
        const StunMessage bind = only(client);
        StunMessage stale = TurnServerScript::errorTo(bind, 438, "Stale Nonce");
        stale.addString(Attribute::Nonce, "nonce-2");
        client.receive(stale.encode(), _now);

        const StunMessage retry = only(client);
        CPPUNIT_ASSERT(retry.method() == Method::ChannelBind);
        CPPUNIT_ASSERT_EQUAL(std::string("nonce-2"), retry.attribute(Attribute::Nonce).value_or(""));
        CPPUNIT_ASSERT(retry.hasValidIntegrity(_server.key()));
        client.receive(_server.success(retry), _now);
        CPPUNIT_ASSERT(client.channelBound(kBob));
    }

    void testRefusedCredentialsFailWithAReason()
    {
        TurnClient client(kServer, kCredentials);
        client.allocate(_now);
        client.receive(_server.unauthorized(only(client), "nonce-1"), _now);
        client.receive(_server.unauthorized(only(client), "nonce-1"), _now);
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Failed);
        CPPUNIT_ASSERT_MESSAGE(client.error(), client.error().find("refused the credentials for 1765000000:alice")
                                                   != std::string::npos);
        CPPUNIT_ASSERT(client.error().find("static-auth-secret") != std::string::npos);
        CPPUNIT_ASSERT(client.takeDatagrams().empty());
        CPPUNIT_ASSERT(!client.nextWakeup());
    }

    void testRetransmitScheduleThenGiveUp()
    {
        TurnClient client(kServer, kCredentials);
        const auto start = _now;
        client.allocate(start);
        const std::string first = onlyBytes(client);
        for (const auto at : {250ms, 750ms, 1750ms, 3750ms}) {
            CPPUNIT_ASSERT(client.nextWakeup() == start + at);
            client.tick(start + at - 1ms);
            CPPUNIT_ASSERT(client.takeDatagrams().empty());
            client.tick(start + at);
            CPPUNIT_ASSERT_EQUAL(first, onlyBytes(client));
        }
        client.tick(start + 7750ms - 1ms);
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Allocating);
        client.tick(start + 7750ms);
        CPPUNIT_ASSERT(client.takeDatagrams().empty());
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Failed);
        CPPUNIT_ASSERT_MESSAGE(client.error(), client.error().find("no answer from the TURN server 198.51.100.1:3479 "
                                                                   "after 5 tries in 7.75 s") != std::string::npos);
        CPPUNIT_ASSERT(!client.sendToPeer(kBob, "x", _now));
    }

    void testForgedAnswersAreDropped()
    {
        TurnClient client(kServer, kCredentials);
        client.allocate(_now);
        client.receive(_server.unauthorized(only(client), "nonce-1"), _now);
        const StunMessage request = only(client);

        StunMessage otherId = StunMessage::make(Method::Allocate, Kind::Success);
        otherId.addXorAddress(Attribute::XorRelayedAddress, kBob);
        client.receive(otherId.encode(&_server.key(), true), _now);

        StunMessage unsigned_(Method::Allocate, Kind::Success, request.transaction());
        unsigned_.addXorAddress(Attribute::XorRelayedAddress, kBob);
        client.receive(unsigned_.encode(), _now);

        const std::string wrongKey = StunMessage::longTermKey(kCredentials.username, kRealm, "guess");
        client.receive(unsigned_.encode(&wrongKey, true), _now);

        std::string badFingerprint = _server.allocated(request, 600);
        badFingerprint.back() ^= 1;
        client.receive(badFingerprint, _now);

        StunMessage wrongMethod(Method::Refresh, Kind::Success, request.transaction());
        client.receive(wrongMethod.encode(&_server.key()), _now);

        client.receive(TurnServerScript::errorTo(request, 403, "Forbidden").encode(), _now);

        client.receive("\x01\x01garbage", _now);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{7}, client.dropped());
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Allocating);

        client.receive(_server.allocated(request, 600), _now);
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Allocated);
        CPPUNIT_ASSERT_EQUAL(kRelayed.toString(), client.relayedEndpoint()->toString());
    }

    void testSendQueuesUntilChannelBound()
    {
        TurnClient client = allocatedClient();
        CPPUNIT_ASSERT(client.sendToPeer(kBob, "hello", _now));
        CPPUNIT_ASSERT(client.sendToPeer(kBob, "again", _now));
        const StunMessage bind = only(client);
        CPPUNIT_ASSERT(bind.method() == Method::ChannelBind);
        CPPUNIT_ASSERT_EQUAL(std::string("\x40\x00\x00\x00", 4), bind.attribute(Attribute::ChannelNumber).value_or(""));
        CPPUNIT_ASSERT_EQUAL(kBob.toString(), bind.xorAddress(Attribute::XorPeerAddress)->toString());
        CPPUNIT_ASSERT(bind.hasValidIntegrity(_server.key()));
        CPPUNIT_ASSERT(!client.channelBound(kBob));

        client.receive(_server.success(bind), _now);
        CPPUNIT_ASSERT(client.channelBound(kBob));
        CPPUNIT_ASSERT(client.permitted(kBob.host()));
        const auto flushed = client.takeDatagrams();
        CPPUNIT_ASSERT_EQUAL(std::size_t{2}, flushed.size());
        CPPUNIT_ASSERT_EQUAL((ChannelData{0x4000, "hello"}.encode()), flushed[0]);
        CPPUNIT_ASSERT_EQUAL((ChannelData{0x4000, "again"}.encode()), flushed[1]);

        CPPUNIT_ASSERT(client.sendToPeer(kBob, "third", _now));
        CPPUNIT_ASSERT_EQUAL((ChannelData{0x4000, "third"}.encode()), onlyBytes(client));

        client.sendToPeer(kCarol, "hi", _now);
        CPPUNIT_ASSERT_EQUAL(std::string("\x40\x01\x00\x00", 4), only(client).attribute(Attribute::ChannelNumber).value_or(""));
    }

    void testQueueIsBounded()
    {
        TurnClient client = allocatedClient();
        for (std::size_t i = 0; i < TurnClient::kMaxQueuedPerPeer; ++i) CPPUNIT_ASSERT(client.sendToPeer(kBob, "x", _now));
        CPPUNIT_ASSERT(!client.sendToPeer(kBob, "one too many", _now));
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, client.takeDatagrams().size());
    }

    void testRefusedChannelDropsItsQueue()
    {
        TurnClient client = allocatedClient();
        client.sendToPeer(kBob, "lost", _now);
        const StunMessage bind = only(client);
        client.receive(TurnServerScript::errorTo(bind, 403, "Forbidden IP").encode(&_server.key()), _now);
        CPPUNIT_ASSERT(!client.channelBound(kBob));
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Allocated);
        CPPUNIT_ASSERT(client.takeDatagrams().empty());

        client.sendToPeer(kBob, "next", _now);
        const StunMessage again = only(client);
        CPPUNIT_ASSERT_EQUAL(std::string("\x40\x01\x00\x00", 4), again.attribute(Attribute::ChannelNumber).value_or(""));
        client.receive(_server.success(again), _now);
        CPPUNIT_ASSERT_EQUAL((ChannelData{0x4001, "next"}.encode()), onlyBytes(client));
    }

    void testReceiveChannelDataAndDataIndication()
    {
        TurnClient client = allocatedClient();
        client.sendToPeer(kBob, "x", _now);
        client.receive(_server.success(only(client)), _now);
        client.takeDatagrams();

        const auto viaChannel = client.receive(ChannelData{0x4000, "seal,1"}.encode(), _now);
        CPPUNIT_ASSERT(viaChannel);
        CPPUNIT_ASSERT_EQUAL(kBob.toString(), viaChannel->peer.toString());
        CPPUNIT_ASSERT_EQUAL(std::string("seal,1"), viaChannel->payload);

        StunMessage data = StunMessage::make(Method::Data, Kind::Indication);
        data.addXorAddress(Attribute::XorPeerAddress, kCarol);
        data.addAttribute(Attribute::Data, "hello,carol");
        const auto viaIndication = client.receive(data.encode(), _now);
        CPPUNIT_ASSERT(viaIndication);
        CPPUNIT_ASSERT_EQUAL(kCarol.toString(), viaIndication->peer.toString());
        CPPUNIT_ASSERT_EQUAL(std::string("hello,carol"), viaIndication->payload);

        CPPUNIT_ASSERT(!client.receive(ChannelData{0x4001, "unbound"}.encode(), _now));
        CPPUNIT_ASSERT(!client.receive(std::string("\x40\x00\x00\x09short", 9), _now));
        CPPUNIT_ASSERT(!client.receive("seal,not-turn", _now));
        CPPUNIT_ASSERT(!client.receive("", _now));
        StunMessage noData = StunMessage::make(Method::Data, Kind::Indication);
        noData.addXorAddress(Attribute::XorPeerAddress, kCarol);
        CPPUNIT_ASSERT(!client.receive(noData.encode(), _now));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{5}, client.dropped());
    }

    void testRefreshesBeforeLifetimesEnd()
    {
        TurnClient client = allocatedClient(120);
        const auto start = _now;
        client.sendToPeer(kBob, "x", start);
        client.receive(_server.success(only(client)), start);
        client.takeDatagrams();

        // A lifetime of 120 s is refreshed halfway, at 60 s.
        CPPUNIT_ASSERT(client.nextWakeup() == start + 60s);
        client.tick(start + 59s);
        CPPUNIT_ASSERT(client.takeDatagrams().empty());
        client.tick(start + 60s);
        const StunMessage refresh = only(client);
        CPPUNIT_ASSERT(refresh.method() == Method::Refresh);
        CPPUNIT_ASSERT_EQUAL(600u, refresh.uint32(Attribute::Lifetime).value_or(0));
        CPPUNIT_ASSERT(refresh.hasValidIntegrity(_server.key()));
        client.receive(_server.success(refresh, 600), start + 60s);
        // 600 s granted: refreshed a minute before the end.
        CPPUNIT_ASSERT(client.nextWakeup() == start + 240s);

        // The permission (300 s) at 240 s, the channel (600 s) at 540 s.
        client.tick(start + 240s);
        const StunMessage permission = only(client);
        CPPUNIT_ASSERT(permission.method() == Method::CreatePermission);
        CPPUNIT_ASSERT(permitsHost(permission, kBob));
        client.receive(_server.success(permission), start + 240s);
        CPPUNIT_ASSERT(client.nextWakeup() == start + 480s);
        client.tick(start + 540s);
        const auto due = client.takeDatagrams();
        CPPUNIT_ASSERT_EQUAL(std::size_t{2}, due.size());
        CPPUNIT_ASSERT(StunMessage::decode(due[0])->method() == Method::CreatePermission);
        CPPUNIT_ASSERT(StunMessage::decode(due[1])->method() == Method::ChannelBind);
        for (const std::string& request : due) client.receive(_server.success(*StunMessage::decode(request)), start + 540s);
        client.tick(start + 600s);
        CPPUNIT_ASSERT(only(client).method() == Method::Refresh);
    }

    void testPermitSendsCreatePermission()
    {
        TurnClient client = allocatedClient();
        client.permit(kCarol.host(), _now);
        const StunMessage request = only(client);
        CPPUNIT_ASSERT(request.method() == Method::CreatePermission);
        CPPUNIT_ASSERT(permitsHost(request, kCarol));
        client.permit(kCarol.host(), _now);
        CPPUNIT_ASSERT(client.takeDatagrams().empty());
        CPPUNIT_ASSERT(!client.permitted(kCarol.host()));
        client.receive(_server.success(request), _now);
        CPPUNIT_ASSERT(client.permitted(kCarol.host()));
    }

    void testReleaseSendsLifetimeZero()
    {
        TurnClient client = allocatedClient();
        client.release(_now);
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Releasing);
        const StunMessage request = only(client);
        CPPUNIT_ASSERT(request.method() == Method::Refresh);
        CPPUNIT_ASSERT_EQUAL(0u, request.uint32(Attribute::Lifetime).value_or(1));
        CPPUNIT_ASSERT(!client.sendToPeer(kBob, "x", _now));
        client.receive(_server.success(request, 0), _now);
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Released);
        CPPUNIT_ASSERT(!client.nextWakeup());
    }

    void testExpiredCredentialsOnRefreshFail()
    {
        TurnClient client = allocatedClient();
        client.tick(_now + 540s);
        const StunMessage refresh = only(client);
        client.receive(_server.unauthorized(refresh, "nonce-9"), _now + 540s);
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Failed);
        CPPUNIT_ASSERT_MESSAGE(client.error(), client.error().find("when refreshing") != std::string::npos);
        CPPUNIT_ASSERT(!client.relayedEndpoint());
    }

private:
    // A permission's XOR-PEER-ADDRESS holds the host with port 0, which
    // StunMessage::xorAddress() refuses as a peer's address: compare the bytes.
    static bool permitsHost(const StunMessage& request, const Endpoint& peer)
    {
        StunMessage expected(request.method(), request.kind(), request.transaction());
        expected.addXorAddress(Attribute::XorPeerAddress, Endpoint(Poco::Net::SocketAddress(peer.host(), 0)));
        return request.attribute(Attribute::XorPeerAddress) == expected.attribute(Attribute::XorPeerAddress);
    }

    StunMessage only(TurnClient& client) { return TurnServerScript::request(onlyBytes(client)); }

    std::string onlyBytes(TurnClient& client)
    {
        const auto datagrams = client.takeDatagrams();
        CPPUNIT_ASSERT_EQUAL(std::size_t{1}, datagrams.size());
        return datagrams.front();
    }

    TurnClient allocatedClient(std::uint32_t lifetime = 600)
    {
        TurnClient client(kServer, kCredentials);
        client.allocate(_now);
        client.receive(_server.unauthorized(only(client), "nonce-1"), _now);
        client.receive(_server.allocated(only(client), lifetime), _now);
        CPPUNIT_ASSERT(client.state() == TurnClient::State::Allocated);
        return client;
    }

    TurnClient::TimePoint _now;
    TurnServerScript _server{kCredentials, kRealm, kRelayed, kMapped};
};

CPPUNIT_TEST_SUITE_REGISTRATION(TurnClientTest);
