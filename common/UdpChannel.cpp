#include "UdpChannel.h"

#include "Protocol.h"

#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>

#include <algorithm>
#include <memory>

namespace peerchat {

namespace {
// Datagrams read per wake-up before other sockets get their turn.
constexpr int kReadBurst = 256;
}

UdpChannel::UdpChannel(EventLoop& loop, const Poco::Net::SocketAddress& bindAddress, Handler handler)
    : _loop(loop), _socket(bindAddress.family()), _handler(std::move(handler))
{
    _socket.bind(bindAddress, false);
    _socket.setBlocking(false);
    // Presence fan-out to many users sends bursts; a larger buffer drops fewer.
    _socket.setSendBufferSize(4 * 1024 * 1024);
    _socket.setReceiveBufferSize(4 * 1024 * 1024);
    _loop.watch(_socket.impl()->sockfd(), EventLoop::Readable, [this](short) { onReadable(); });
}

UdpChannel::~UdpChannel()
{
    for (const auto id : _delayed) _loop.cancel(id);
    _loop.unwatch(_socket.impl()->sockfd());
}

void UdpChannel::setFaults(const FaultSettings& faults)
{
    _faults = faults;
    _random.seed(faults.seed);
}

Endpoint UdpChannel::localEndpoint() const
{
    return Endpoint(_socket.address());
}

void UdpChannel::sendTo(std::string_view bytes, const Endpoint& to)
{
    if (!_faults.enabled()) {
        sendNow(bytes, to);
        return;
    }
    std::uniform_real_distribution<double> chance(0.0, 1.0);
    if (chance(_random) < _faults.drop) return;
    const int copies = chance(_random) < _faults.duplicate ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
        auto delay = std::chrono::milliseconds(
            std::uniform_int_distribution<long long>(0, _faults.delay.count())(_random));
        // Held back long enough for datagrams sent after it to overtake it.
        if (chance(_random) < _faults.reorder) delay += std::max(_faults.delay, std::chrono::milliseconds(10)) * 2;
        if (delay.count() == 0) sendNow(bytes, to);
        else sendLater(delay, std::string(bytes), to);
    }
}

void UdpChannel::sendLater(std::chrono::milliseconds delay, std::string bytes, const Endpoint& to)
{
    auto id = std::make_shared<EventLoop::TimerId>(0);
    *id = _loop.runAfter(delay, [this, id, bytes = std::move(bytes), to] {
        _delayed.erase(*id);
        sendNow(bytes, to);
    });
    _delayed.insert(*id);
}

void UdpChannel::sendNow(std::string_view bytes, const Endpoint& to)
{
    try {
        const int sent = _socket.sendTo(bytes.data(), static_cast<int>(bytes.size()), to.address());
        if (sent != static_cast<int>(bytes.size())) ++_sendFailures;
    } catch (const Poco::Exception& e) {
        ++_sendFailures;
        Poco::Logger::get("UdpChannel").debug("cannot send to %s: %s", to.toString(), e.displayText());
    }
}

void UdpChannel::onReadable()
{
    char buffer[Protocol::kMaxDatagramBytes + 1];
    for (int i = 0; i < kReadBurst; ++i) {
        Poco::Net::SocketAddress from;
        int received;
        try {
            received = _socket.receiveFrom(buffer, sizeof buffer, from);
        } catch (const Poco::TimeoutException&) {
            return;
        } catch (const Poco::Net::NetException& e) {
            // ICMP errors from earlier sends surface here (ECONNREFUSED); keep reading.
            Poco::Logger::get("UdpChannel").debug("receive: %s", e.displayText());
            continue;
        }
        if (received < 0) return;
        // An oversize datagram arrives cut to kMaxDatagramBytes + 1 bytes: the
        // handler counts it, after its cheaper checks, rather than a log line here.
        _handler(std::string_view(buffer, static_cast<std::size_t>(received)), Endpoint(from));
    }
}

} // namespace peerchat
