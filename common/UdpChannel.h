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
///
/// Sending queues the datagram; the queue goes out in as few system calls
/// as it takes (sendmmsg, kSendBatch at a time) when it is full and at the
/// end of the loop's turn (EventLoop::onTurnEnd), so the replies and
/// presence a turn makes share calls: on this project's machine a call
/// costs more than the datagram it carries (docs/PERFORMANCE.md).
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

    /// Sends what is queued now (the loop does at the end of each turn).
    void flush();

    /// Datagrams that could not be sent (full buffer, unreachable).
    std::uint64_t sendFailures() const { return _sendFailures; }

    /// Datagrams queued before a flush goes out on its own.
    static constexpr unsigned kSendBatch = 64;

private:
    struct ReadBuffers;
    struct SendQueue;

    void onReadable();

    EventLoop& _loop;
    Poco::Net::DatagramSocket _socket;
    Handler _handler;
    std::unique_ptr<ReadBuffers> _in;
    std::unique_ptr<SendQueue> _out;
    std::uint64_t _turnEnd = 0;
    std::uint64_t _sendFailures = 0;
};

} // namespace peerchat
