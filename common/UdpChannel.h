#pragma once

#include "DatagramSink.h"
#include "Endpoint.h"
#include "EventLoop.h"
#include "FaultSettings.h"

#include <Poco/Net/DatagramSocket.h>

#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <string_view>

namespace peerchat {

/// One non-blocking UDP socket on an EventLoop: hands every datagram that
/// arrives to a handler (on the loop's thread) and sends datagrams.
/// A datagram larger than Protocol::kMaxDatagramBytes reaches the handler
/// cut to kMaxDatagramBytes + 1 bytes, for it to drop.
class UdpChannel : public DatagramSink
{
public:
    using Handler = std::function<void(std::string_view bytes, const Endpoint& from)>;

    /// Binds to bindAddress (port 0: ephemeral); throws Poco::Net::NetException
    /// when the address cannot be bound.
    UdpChannel(EventLoop& loop, const Poco::Net::SocketAddress& bindAddress, Handler handler);
    ~UdpChannel() override;
    UdpChannel(const UdpChannel&) = delete;
    UdpChannel& operator=(const UdpChannel&) = delete;

    /// The bound address (with the real port when bound to 0).
    Endpoint localEndpoint() const;

    void sendTo(std::string_view bytes, const Endpoint& to) override;

    /// Makes sendTo() drop, duplicate, delay and reorder datagrams as faults
    /// says (for tests; off unless called).
    void setFaults(const FaultSettings& faults);

    /// Datagrams that could not be sent (full buffer, unreachable).
    std::uint64_t sendFailures() const { return _sendFailures; }

private:
    void onReadable();
    void sendNow(std::string_view bytes, const Endpoint& to);
    void sendLater(std::chrono::milliseconds delay, std::string bytes, const Endpoint& to);

    EventLoop& _loop;
    Poco::Net::DatagramSocket _socket;
    Handler _handler;
    std::uint64_t _sendFailures = 0;
    FaultSettings _faults;
    std::mt19937_64 _random;
    std::set<EventLoop::TimerId> _delayed;
};

} // namespace peerchat
