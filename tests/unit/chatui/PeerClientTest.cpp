#include "PeerClient.h"
#include "TempDir.h"
#include "Wait.h"

#include <Poco/File.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>
#include <vector>

using peerchat::ConversationId;
using peerchat::chatui::PeerClient;
using peerchat::test::TempDir;
using peerchat::test::waitUntil;
namespace local = peerchat::local;

namespace {

const ConversationId kBob = ConversationId::direct("bob");

/// A stand-in for peerd's local socket that the test drives by hand: it
/// listens on a Unix path, accepts one client and writes whatever bytes the
/// test wants, split however the test wants.
struct FakePeerd
{
    explicit FakePeerd(const std::string& path)
    {
        listener.bind(Poco::Net::SocketAddress(Poco::Net::SocketAddress::UNIX_LOCAL, path), false);
        listener.listen();
    }

    void accept()
    {
        CPPUNIT_ASSERT_MESSAGE("no client connected", listener.poll(Poco::Timespan(5, 0), Poco::Net::Socket::SELECT_READ));
        connection = listener.acceptConnection();
    }

    void write(const std::string& bytes) { connection.sendBytes(bytes.data(), static_cast<int>(bytes.size())); }

    /// The next line the client wrote, within a deadline.
    std::string readLine()
    {
        std::string line;
        char c = 0;
        while (connection.poll(Poco::Timespan(5, 0), Poco::Net::Socket::SELECT_READ)
               && connection.receiveBytes(&c, 1) == 1) {
            if (c == '\n') return line;
            line.push_back(c);
        }
        CPPUNIT_FAIL("the client wrote no complete line");
        return line;
    }

    Poco::Net::ServerSocket listener;
    Poco::Net::StreamSocket connection;
};

/// Reads from client until at least count events came or the deadline passed.
std::vector<local::Event> readUntil(PeerClient& client, std::size_t count)
{
    std::vector<local::Event> events;
    waitUntil([&] {
        for (auto& event : client.readEvents()) events.push_back(std::move(event));
        return events.size() >= count;
    });
    return events;
}

std::string welcomeLine(const std::string& self)
{
    return local::LocalProtocol::encodeEvent(local::WelcomeEvent{1, self, local::LinkState::Online, "127.0.0.1:4000",
                                                                           "3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3"});
}

} // namespace

class PeerClientTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PeerClientTest);
    CPPUNIT_TEST(testConnectFailsWithReasonWithoutSocket);
    CPPUNIT_TEST(testReadEventsJoinsPartialLines);
    CPPUNIT_TEST(testReadEventsSkipsMalformedLines);
    CPPUNIT_TEST(testSendWritesEncodedRequest);
    CPPUNIT_TEST(testSearchAsksAndFoundAndStatusArrive);
    CPPUNIT_TEST(testVerifyAndTrustAskAndKeysAndTrustArrive);
    CPPUNIT_TEST(testSendWhileDisconnectedIsRefused);
    CPPUNIT_TEST(testPeerdClosingDisconnects);
    CPPUNIT_TEST(testPeerdOfAnotherProtocolVersionDisconnectsSayingSo);
    CPPUNIT_TEST(testOversizeLineDisconnects);
    CPPUNIT_TEST(testReconnectWhenPeerdComesBack);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _dir = std::make_unique<TempDir>();
        _path = _dir->file("peerd.sock");
    }

    void tearDown() override { _dir.reset(); }

    void testConnectFailsWithReasonWithoutSocket()
    {
        PeerClient client(_path);
        CPPUNIT_ASSERT(!client.connect());
        CPPUNIT_ASSERT(!client.connected());
        CPPUNIT_ASSERT_EQUAL(-1, client.fd());
        CPPUNIT_ASSERT_EQUAL(std::string("no such file"), client.lastError());
    }

    void testReadEventsJoinsPartialLines()
    {
        FakePeerd peerd(_path);
        PeerClient client(_path);
        CPPUNIT_ASSERT(client.connect());
        peerd.accept();
        const std::string welcome = welcomeLine("\u5929\u6DAF");
        // Split inside the multi-byte name.
        const std::size_t cut = welcome.find("\xE5\xA4\xA9") + 1;
        peerd.write(welcome.substr(0, cut));
        CPPUNIT_ASSERT(!waitUntil([&] { return !client.readEvents().empty(); }, std::chrono::milliseconds(100)));
        peerd.write(welcome.substr(cut));
        const auto events = readUntil(client, 1);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), events.size());
        const auto* got = std::get_if<local::WelcomeEvent>(&events[0]);
        CPPUNIT_ASSERT(got);
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), got->self);
        CPPUNIT_ASSERT(client.connected());
    }

    void testReadEventsSkipsMalformedLines()
    {
        FakePeerd peerd(_path);
        PeerClient client(_path);
        CPPUNIT_ASSERT(client.connect());
        peerd.accept();
        peerd.write("not json\n{\"event\":\"unread\",\"peer\":\"bob\"}\n"
                    + local::LocalProtocol::encodeEvent(local::UnreadEvent{kBob, 3}));
        const auto events = readUntil(client, 1);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), events.size());
        const auto* unread = std::get_if<local::UnreadEvent>(&events[0]);
        CPPUNIT_ASSERT(unread);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(3), unread->count);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), client.malformedLines());
        CPPUNIT_ASSERT(client.connected());
    }

    void testSendWritesEncodedRequest()
    {
        FakePeerd peerd(_path);
        PeerClient client(_path);
        CPPUNIT_ASSERT(client.connect());
        peerd.accept();
        CPPUNIT_ASSERT(client.send(local::SendRequest{ConversationId::direct("\u5929\u6DAF"), "\u4F60\u597D, world"}));
        CPPUNIT_ASSERT(client.send(local::SubscribeRequest{kBob}));
        auto request = local::LocalProtocol::decodeRequest(peerd.readLine());
        CPPUNIT_ASSERT_MESSAGE(request.error(), request.ok());
        const auto* send = std::get_if<local::SendRequest>(&request.value());
        CPPUNIT_ASSERT(send);
        CPPUNIT_ASSERT(send->to == ConversationId::direct("\u5929\u6DAF"));
        CPPUNIT_ASSERT_EQUAL(std::string("\u4F60\u597D, world"), send->text);
        request = local::LocalProtocol::decodeRequest(peerd.readLine());
        CPPUNIT_ASSERT(request.ok() && std::holds_alternative<local::SubscribeRequest>(request.value()));
    }

    void testSearchAsksAndFoundAndStatusArrive()
    {
        FakePeerd peerd(_path);
        PeerClient client(_path);
        CPPUNIT_ASSERT(client.connect());
        peerd.accept();
        CPPUNIT_ASSERT(client.send(local::SearchRequest{kBob, "\u5348\u996D"}));
        const auto request = local::LocalProtocol::decodeRequest(peerd.readLine());
        CPPUNIT_ASSERT_MESSAGE(request.error(), request.ok());
        const auto* search = std::get_if<local::SearchRequest>(&request.value());
        CPPUNIT_ASSERT(search);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), search->conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::string("\u5348\u996D"), search->text);

        local::ChatLine found;
        found.id = 3;
        found.conversation = kBob;
        found.outgoing = true;
        found.from = "alice";
        found.text = "\u5348\u996D?";
        found.state = local::LineState::Pending;
        peerd.write(local::LocalProtocol::encodeEvent(local::FoundEvent{kBob, "\u5348\u996D", {found}})
                    + local::LocalProtocol::encodeEvent(local::StatusEvent{kBob, 3, local::LineState::Delivered}));
        const auto events = readUntil(client, 2);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), events.size());
        const auto* reply = std::get_if<local::FoundEvent>(&events[0]);
        CPPUNIT_ASSERT(reply);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), reply->lines.size());
        CPPUNIT_ASSERT(reply->lines[0].state == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::string("\u5348\u996D?"), reply->lines[0].text);
        const auto* status = std::get_if<local::StatusEvent>(&events[1]);
        CPPUNIT_ASSERT(status);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), status->id);
        CPPUNIT_ASSERT(status->state == local::LineState::Delivered);
    }

    void testVerifyAndTrustAskAndKeysAndTrustArrive()
    {
        FakePeerd peerd(_path);
        PeerClient client(_path);
        CPPUNIT_ASSERT(client.connect());
        peerd.accept();
        CPPUNIT_ASSERT(client.send(local::VerifyRequest{"\u5929\u6DAF"}));
        CPPUNIT_ASSERT(client.send(local::TrustRequest{"\u5929\u6DAF"}));
        auto request = local::LocalProtocol::decodeRequest(peerd.readLine());
        CPPUNIT_ASSERT_MESSAGE(request.error(), request.ok());
        const auto* verify = std::get_if<local::VerifyRequest>(&request.value());
        CPPUNIT_ASSERT(verify);
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), verify->peer);
        request = local::LocalProtocol::decodeRequest(peerd.readLine());
        CPPUNIT_ASSERT_MESSAGE(request.error(), request.ok());
        const auto* trust = std::get_if<local::TrustRequest>(&request.value());
        CPPUNIT_ASSERT(trust);
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), trust->peer);

        const std::string mine = "3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3";
        const std::string pinned = "0000 1111 2222 3333 4444 5555 6666 7777";
        const std::string offered = "8888 9999 aaaa bbbb cccc dddd eeee ffff";
        peerd.write(local::LocalProtocol::encodeEvent(
                        local::KeysEvent{"\u5929\u6DAF", mine, pinned, offered, local::Trust::Changed})
                    + local::LocalProtocol::encodeEvent(local::TrustEvent{"\u5929\u6DAF", local::Trust::Pinned}));
        const auto events = readUntil(client, 2);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), events.size());
        const auto* keys = std::get_if<local::KeysEvent>(&events[0]);
        CPPUNIT_ASSERT(keys);
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), keys->peer);
        CPPUNIT_ASSERT_EQUAL(mine, keys->self);
        CPPUNIT_ASSERT_EQUAL(pinned, keys->pinned);
        CPPUNIT_ASSERT_EQUAL(offered, keys->offered);
        CPPUNIT_ASSERT(keys->trust == local::Trust::Changed);
        const auto* trusted = std::get_if<local::TrustEvent>(&events[1]);
        CPPUNIT_ASSERT(trusted);
        CPPUNIT_ASSERT(trusted->trust == local::Trust::Pinned);
    }

    void testSendWhileDisconnectedIsRefused()
    {
        PeerClient client(_path);
        CPPUNIT_ASSERT(!client.send(local::RosterRequest{}));
        CPPUNIT_ASSERT(!client.wantsWrite());
    }

    void testPeerdClosingDisconnects()
    {
        FakePeerd peerd(_path);
        PeerClient client(_path);
        CPPUNIT_ASSERT(client.connect());
        peerd.accept();
        peerd.write(welcomeLine("alice"));
        peerd.connection.close();
        const auto events = readUntil(client, 1);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), events.size());
        CPPUNIT_ASSERT(waitUntil([&] {
            client.readEvents();
            return !client.connected();
        }));
        CPPUNIT_ASSERT_EQUAL(std::string("peerd closed the connection"), client.lastError());
        CPPUNIT_ASSERT_EQUAL(-1, client.fd());
    }

    void testPeerdOfAnotherProtocolVersionDisconnectsSayingSo()
    {
        FakePeerd peerd(_path);
        PeerClient client(_path);
        CPPUNIT_ASSERT(client.connect());
        peerd.accept();
        peerd.write(local::LocalProtocol::encodeEvent(
                        local::WelcomeEvent{local::kProtocolVersion + 1, "alice", local::LinkState::Online, "127.0.0.1:4000", ""})
                    + local::LocalProtocol::encodeEvent(local::StateEvent{local::LinkState::Online, "logged in"}));
        std::vector<local::Event> events;
        CPPUNIT_ASSERT(waitUntil([&] {
            for (auto& event : client.readEvents()) events.push_back(std::move(event));
            return !client.connected();
        }));
        CPPUNIT_ASSERT(events.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("peerd speaks version 2 of the local protocol and this chatui version 1; "
                                         "run the chatui that came with this peerd"),
                             client.lastError());
    }

    void testOversizeLineDisconnects()
    {
        FakePeerd peerd(_path);
        PeerClient client(_path);
        CPPUNIT_ASSERT(client.connect());
        peerd.accept();
        peerd.write(std::string(local::kMaxLineBytes + 10, 'x'));
        CPPUNIT_ASSERT(waitUntil([&] {
            client.readEvents();
            return !client.connected();
        }));
        CPPUNIT_ASSERT(client.lastError().find("64 KiB") != std::string::npos);
    }

    void testReconnectWhenPeerdComesBack()
    {
        auto peerd = std::make_unique<FakePeerd>(_path);
        PeerClient client(_path);
        CPPUNIT_ASSERT(client.connect());
        peerd->accept();
        peerd.reset();
        Poco::File(_path).remove();
        CPPUNIT_ASSERT(waitUntil([&] {
            client.readEvents();
            return !client.connected();
        }));

        // While nobody listens, attempts fail and the pause between them grows.
        const auto start = PeerClient::Clock::now();
        const auto later = start + PeerClient::kLongestRetry;
        CPPUNIT_ASSERT(!client.reconnectIfDue(later));
        CPPUNIT_ASSERT_EQUAL(std::string("no such file"), client.lastError());
        CPPUNIT_ASSERT(client.untilReconnect(later) > std::chrono::milliseconds(0));
        CPPUNIT_ASSERT(!client.reconnectIfDue(later));

        peerd = std::make_unique<FakePeerd>(_path);
        CPPUNIT_ASSERT(waitUntil([&] { return client.reconnectIfDue(); }, std::chrono::seconds(10)));
        peerd->accept();
        peerd->write(welcomeLine("alice"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), readUntil(client, 1).size());
    }

private:
    std::unique_ptr<TempDir> _dir;
    std::string _path;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PeerClientTest);
