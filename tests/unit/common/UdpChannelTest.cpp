#include "UdpChannel.h"

#include "Protocol.h"
#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <memory>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using peerchat::EventLoop;
using peerchat::UdpChannel;
using peerchat::test::waitUntil;

namespace {

const std::string kMarker = "marker";

std::vector<std::string> numbered(int count)
{
    std::vector<std::string> texts;
    for (int i = 0; i < count; ++i) texts.push_back("datagram " + std::to_string(i));
    return texts;
}

} // namespace

/// Real loopback sockets: a sender and a receiver UdpChannel on one
/// EventLoop thread. Loopback keeps order, so everything sent before a
/// marker arrives before it.
class UdpChannelTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(UdpChannelTest);
    CPPUNIT_TEST(testNoFaultsDeliversInOrder);
    CPPUNIT_TEST(testManyAtOnceDeliveredInOrder);
    CPPUNIT_TEST(testOversizeHandedOnCutOneBytePastLimit);
    CPPUNIT_TEST(testDatagramThatCannotGoCountedAndTheRestSent);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _receiver = std::make_unique<UdpChannel>(_loop, Poco::Net::SocketAddress("127.0.0.1", 0),
                                                 [this](std::string_view bytes, const peerchat::Endpoint&) {
                                                     const std::lock_guard<std::mutex> lock(_mutex);
                                                     _received.emplace_back(bytes);
                                                 });
        _sender = std::make_unique<UdpChannel>(_loop, Poco::Net::SocketAddress("127.0.0.1", 0),
                                               [](std::string_view, const peerchat::Endpoint&) {});
        _thread = std::thread([this] { _loop.run(); });
    }

    void tearDown() override
    {
        _loop.stop();
        _thread.join();
        _sender.reset();
        _receiver.reset();
    }

    void testNoFaultsDeliversInOrder()
    {
        const auto texts = numbered(20);
        auto expected = texts;
        expected.push_back(kMarker);
        CPPUNIT_ASSERT(sendThenMarker(texts, 21) == expected);
    }

    void testManyAtOnceDeliveredInOrder()
    {
        // More than one read takes, sent before the loop reads any.
        const auto texts = numbered(1000);
        auto expected = texts;
        expected.push_back(kMarker);
        CPPUNIT_ASSERT(sendThenMarker(texts, 1001) == expected);
    }

    void testOversizeHandedOnCutOneBytePastLimit()
    {
        const std::string largest(peerchat::Protocol::kMaxDatagramBytes, 'a');
        const auto received = sendThenMarker({std::string(60000, 'x'), largest}, 3);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), received.size());
        CPPUNIT_ASSERT(received[0] == std::string(peerchat::Protocol::kMaxDatagramBytes + 1, 'x'));
        CPPUNIT_ASSERT(received[1] == largest);
    }

    void testDatagramThatCannotGoCountedAndTheRestSent()
    {
        // Queued together, so they go in one sendmmsg: the kernel refuses the
        // broadcast (no SO_BROADCAST) in the middle of the batch.
        const auto texts = numbered(UdpChannel::kSendBatch - 2);
        const peerchat::Endpoint broadcast(Poco::Net::SocketAddress("255.255.255.255", 9));
        const auto to = _receiver->localEndpoint();
        std::promise<std::uint64_t> failures;
        _loop.post([&] {
            for (std::size_t i = 0; i < texts.size(); ++i) {
                if (i == texts.size() / 2) _sender->sendTo("nobody may hear this", broadcast);
                _sender->sendTo(texts[i], to);
            }
            _sender->sendTo(kMarker, to);
            _sender->flush();
            failures.set_value(_sender->sendFailures());
        });
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), failures.get_future().get());
        auto expected = texts;
        expected.push_back(kMarker);
        CPPUNIT_ASSERT(waitForReceived(expected.size()) == expected);
    }

private:
    // Sends texts, then the marker, and returns what arrived once count
    // datagrams, the marker among them, have.
    std::vector<std::string> sendThenMarker(const std::vector<std::string>& texts, std::size_t count)
    {
        const auto to = _receiver->localEndpoint();
        _loop.post([this, texts, to] {
            for (const auto& text : texts) _sender->sendTo(text, to);
            _sender->sendTo(kMarker, to);
        });
        return waitForReceived(count);
    }

    // What arrived once count datagrams, the marker among them, have.
    std::vector<std::string> waitForReceived(std::size_t count)
    {
        const bool arrived = waitUntil([&] {
            const std::lock_guard<std::mutex> lock(_mutex);
            return _received.size() >= count
                   && std::find(_received.begin(), _received.end(), kMarker) != _received.end();
        });
        const std::lock_guard<std::mutex> lock(_mutex);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(_received.size()) + " of " + std::to_string(count) + " arrived", arrived);
        return _received;
    }

    EventLoop _loop;
    std::unique_ptr<UdpChannel> _receiver;
    std::unique_ptr<UdpChannel> _sender;
    std::thread _thread;
    std::mutex _mutex;
    std::vector<std::string> _received;
};

CPPUNIT_TEST_SUITE_REGISTRATION(UdpChannelTest);
