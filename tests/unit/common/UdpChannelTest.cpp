#include "UdpChannel.h"

#include "Protocol.h"
#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using peerchat::EventLoop;
using peerchat::FaultSettings;
using peerchat::UdpChannel;
using peerchat::test::waitUntil;

namespace {

const std::string kMarker = "marker";

FaultSettings faults(const std::string& spec)
{
    const auto parsed = FaultSettings::parse(spec);
    CPPUNIT_ASSERT_MESSAGE(parsed.error(), parsed.ok());
    return *parsed;
}

std::vector<std::string> numbered(int count)
{
    std::vector<std::string> texts;
    for (int i = 0; i < count; ++i) texts.push_back("datagram " + std::to_string(i));
    return texts;
}

} // namespace

/// Fault injection on real loopback sockets: a sender and a receiver
/// UdpChannel on one EventLoop thread. What faults lost is shown by a marker
/// sent afterwards with faults off: loopback keeps order, so anything sent
/// before the marker that was not lost arrives before it.
class UdpChannelTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(UdpChannelTest);
    CPPUNIT_TEST(testNoFaultsDeliversInOrder);
    CPPUNIT_TEST(testDropAllDeliversNothing);
    CPPUNIT_TEST(testDuplicateAllDeliversTwo);
    CPPUNIT_TEST(testReorderHoldsDatagramBehindLaterOne);
    CPPUNIT_TEST(testDelayChangesOrderSameWayForSameSeed);
    CPPUNIT_TEST(testReorderChangesOrderSameWayForSameSeed);
    CPPUNIT_TEST(testOversizeDatagramReachesHandlerCut);
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
        CPPUNIT_ASSERT(sendThenMarker(FaultSettings{}, texts, 21) == expected);
    }

    void testDropAllDeliversNothing()
    {
        CPPUNIT_ASSERT(sendThenMarker(faults("drop=1"), numbered(20), 1) == std::vector<std::string>{kMarker});
    }

    void testDuplicateAllDeliversTwo()
    {
        CPPUNIT_ASSERT(sendThenMarker(faults("dup=1"), {"a", "b"}, 5)
                       == (std::vector<std::string>{"a", "a", "b", "b", kMarker}));
    }

    void testReorderHoldsDatagramBehindLaterOne()
    {
        CPPUNIT_ASSERT(sendThenMarker(faults("reorder=1"), {"held"}, 2) == (std::vector<std::string>{kMarker, "held"}));
    }

    void testDelayChangesOrderSameWayForSameSeed()
    {
        assertSameShuffleForSameSeed("delay=40,seed=7");
    }

    void testReorderChangesOrderSameWayForSameSeed()
    {
        assertSameShuffleForSameSeed("reorder=0.5,seed=3");
    }

    // The handler, not the channel, drops an oversize datagram (and counts
    // it after its own cheaper checks): it gets one byte more than the largest allowed.
    void testOversizeDatagramReachesHandlerCut()
    {
        const std::string oversize(60000, 'x');
        const auto received = sendThenMarker(FaultSettings{}, {oversize}, 2);
        CPPUNIT_ASSERT(received == (std::vector<std::string>{
                                       oversize.substr(0, peerchat::Protocol::kMaxDatagramBytes + 1), kMarker}));
    }

private:
    // Sends texts with faults on, then the marker with faults off, and
    // returns what arrived once count datagrams, the marker among them, have.
    std::vector<std::string> sendThenMarker(const FaultSettings& settings, const std::vector<std::string>& texts,
                                            std::size_t count)
    {
        {
            const std::lock_guard<std::mutex> lock(_mutex);
            _received.clear();
        }
        const auto to = _receiver->localEndpoint();
        _loop.post([this, settings, texts, to] {
            _sender->setFaults(settings);
            for (const auto& text : texts) _sender->sendTo(text, to);
            _sender->setFaults(FaultSettings{});
            _sender->sendTo(kMarker, to);
        });
        const bool arrived = waitUntil([&] {
            const std::lock_guard<std::mutex> lock(_mutex);
            return _received.size() >= count
                   && std::find(_received.begin(), _received.end(), kMarker) != _received.end();
        });
        const std::lock_guard<std::mutex> lock(_mutex);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(_received.size()) + " of " + std::to_string(count) + " arrived", arrived);
        return _received;
    }

    // Sending the same datagrams twice under spec (which fixes the seed)
    // delivers all of them, in an order other than the sending order, and in
    // the same order both times.
    void assertSameShuffleForSameSeed(const std::string& spec)
    {
        const auto texts = numbered(12);
        const auto first = sendThenMarker(faults(spec), texts, texts.size() + 1);
        const auto second = sendThenMarker(faults(spec), texts, texts.size() + 1);
        CPPUNIT_ASSERT(first == second);

        auto order = first;
        order.erase(std::find(order.begin(), order.end(), kMarker));
        CPPUNIT_ASSERT(order != texts);
        std::sort(order.begin(), order.end());
        auto sortedTexts = texts;
        std::sort(sortedTexts.begin(), sortedTexts.end());
        CPPUNIT_ASSERT(order == sortedTexts);
    }

    EventLoop _loop;
    std::unique_ptr<UdpChannel> _receiver;
    std::unique_ptr<UdpChannel> _sender;
    std::thread _thread;
    std::mutex _mutex;
    std::vector<std::string> _received;
};

CPPUNIT_TEST_SUITE_REGISTRATION(UdpChannelTest);
