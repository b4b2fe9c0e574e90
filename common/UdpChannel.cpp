#include "UdpChannel.h"

#include "Protocol.h"

#include <Poco/Logger.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <sys/socket.h>
#include <vector>

namespace peerchat {

namespace {
// Datagrams read per wake-up before other sockets get their turn.
constexpr int kReadBurst = 256;
// Datagrams read per system call.
constexpr unsigned kBatch = 32;
// A datagram's room: one byte more than any the handlers take, so a larger
// one arrives cut to a size they see is too large.
constexpr std::size_t kSlotBytes = Protocol::kMaxDatagramBytes + 1;
} // namespace

/// recvmmsg's headers and room for kBatch datagrams and their sources, set up
/// once: a datagram costs no allocation to read.
struct UdpChannel::ReadBuffers
{
    ReadBuffers() : bytes(kBatch * kSlotBytes)
    {
        for (unsigned i = 0; i < kBatch; ++i) {
            vectors[i] = iovec{bytes.data() + i * kSlotBytes, kSlotBytes};
            headers[i] = mmsghdr{};
            headers[i].msg_hdr.msg_iov = &vectors[i];
            headers[i].msg_hdr.msg_iovlen = 1;
            headers[i].msg_hdr.msg_name = &sources[i];
        }
    }

    std::vector<char> bytes;
    std::array<iovec, kBatch> vectors{};
    std::array<sockaddr_storage, kBatch> sources{};
    std::array<mmsghdr, kBatch> headers{};
};

/// The datagrams sent since the last flush: their bytes end to end in one
/// buffer, and where each starts, ends and goes.
struct UdpChannel::SendQueue
{
    struct Entry
    {
        std::size_t offset;
        std::size_t size;
        sockaddr_storage to;
        socklen_t toLength;
    };

    std::vector<char> bytes;
    std::vector<Entry> entries;
    std::array<iovec, kSendBatch> vectors{};
    std::array<mmsghdr, kSendBatch> headers{};
};

UdpChannel::UdpChannel(EventLoop& loop, const Poco::Net::SocketAddress& bindAddress, Handler handler)
    : _loop(loop), _socket(bindAddress.family()), _handler(std::move(handler)), _in(std::make_unique<ReadBuffers>()),
      _out(std::make_unique<SendQueue>())
{
    _socket.bind(bindAddress, false);
    _socket.setBlocking(false);
    // Presence fan-out to many users sends bursts; a larger buffer drops fewer.
    _socket.setSendBufferSize(4 * 1024 * 1024);
    _socket.setReceiveBufferSize(4 * 1024 * 1024);
    _loop.watch(_socket.impl()->sockfd(), EventLoop::Readable, [this](short) { onReadable(); });
    _out->entries.reserve(kSendBatch);
    _turnEnd = _loop.onTurnEnd([this] { flush(); });
}

UdpChannel::~UdpChannel()
{
    flush();
    _loop.removeTurnEnd(_turnEnd);
    _loop.unwatch(_socket.impl()->sockfd());
}

Endpoint UdpChannel::localEndpoint() const
{
    return Endpoint(_socket.address());
}

void UdpChannel::sendTo(std::string_view bytes, const Endpoint& to)
{
    const Poco::Net::SocketAddress& address = to.address();
    SendQueue::Entry entry{_out->bytes.size(), bytes.size(), {}, static_cast<socklen_t>(address.length())};
    std::memcpy(&entry.to, address.addr(), address.length());
    _out->bytes.insert(_out->bytes.end(), bytes.begin(), bytes.end());
    _out->entries.push_back(entry);
    if (_out->entries.size() == kSendBatch) flush();
}

void UdpChannel::flush()
{
    const std::size_t queued = _out->entries.size();
    for (std::size_t i = 0; i < queued; ++i) {
        SendQueue::Entry& entry = _out->entries[i];
        _out->vectors[i] = iovec{_out->bytes.data() + entry.offset, entry.size};
        _out->headers[i] = mmsghdr{};
        _out->headers[i].msg_hdr.msg_iov = &_out->vectors[i];
        _out->headers[i].msg_hdr.msg_iovlen = 1;
        _out->headers[i].msg_hdr.msg_name = &entry.to;
        _out->headers[i].msg_hdr.msg_namelen = entry.toLength;
    }
    // sendmmsg stops at the first datagram it cannot send and reports the
    // ones before it; called again from there, it reports that one's error.
    const int fd = _socket.impl()->sockfd();
    for (std::size_t next = 0; next < queued;) {
        const int sent = ::sendmmsg(fd, &_out->headers[next], static_cast<unsigned>(queued - next), MSG_DONTWAIT);
        if (sent > 0) {
            for (const std::size_t end = next + static_cast<std::size_t>(sent); next < end; ++next)
                if (_out->headers[next].msg_len != _out->vectors[next].iov_len) ++_sendFailures;
            continue;
        }
        if (sent < 0 && errno == EINTR) continue;
        ++_sendFailures;
        const SendQueue::Entry& failed = _out->entries[next];
        Poco::Logger::get("UdpChannel")
            .debug("cannot send to %s: %s",
                   Poco::Net::SocketAddress(reinterpret_cast<const sockaddr*>(&failed.to), failed.toLength).toString(),
                   std::string(std::strerror(errno)));
        ++next;
    }
    _out->entries.clear();
    _out->bytes.clear();
}

void UdpChannel::onReadable()
{
    const int fd = _socket.impl()->sockfd();
    int read = 0;
    while (read < kReadBurst) {
        for (auto& header : _in->headers) header.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        const int n = ::recvmmsg(fd, _in->headers.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            // ICMP errors from earlier sends surface here (ECONNREFUSED); each
            // is reported once, so keep reading, but count it against the burst.
            if (errno != EINTR)
                Poco::Logger::get("UdpChannel").debug("receive: %s", std::string(std::strerror(errno)));
            ++read;
            continue;
        }
        for (int i = 0; i < n; ++i) {
            const msghdr& header = _in->headers[static_cast<std::size_t>(i)].msg_hdr;
            const Endpoint from(Poco::Net::SocketAddress(static_cast<const sockaddr*>(header.msg_name),
                                                         header.msg_namelen));
            _handler(std::string_view(static_cast<const char*>(header.msg_iov->iov_base),
                                      _in->headers[static_cast<std::size_t>(i)].msg_len),
                     from);
        }
        // Fewer than asked for: the socket is drained.
        if (n < static_cast<int>(kBatch)) return;
        read += n;
    }
}

} // namespace peerchat
