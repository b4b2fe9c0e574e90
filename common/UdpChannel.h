#pragma once

#include "DatagramSink.h"
#include "Endpoint.h"
#include "EventLoop.h"

#include <Poco/Net/DatagramSocket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace peerchat {

/// One non-blocking UDP socket on an EventLoop: hands every datagram that
/// arrives to a handler (on the loop's thread), reading many per system call
/// (recvmmsg) into buffers made once, and sends datagrams. A datagram larger
/// than Protocol::kMaxDatagramBytes is handed on cut to one byte more than
/// that, so the handler can tell it is too large and count it after its own
/// checks (rate limits) rather than have it logged here, before them.
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

    /// Datagrams that could not be sent (full buffer, unreachable).
    std::uint64_t sendFailures() const { return _sendFailures; }

private:
    struct ReadBuffers;

    void onReadable();

    EventLoop& _loop;
    Poco::Net::DatagramSocket _socket;
    Handler _handler;
    std::unique_ptr<ReadBuffers> _in;
    std::uint64_t _sendFailures = 0;
};

} // namespace peerchat
