#include "RawFlooder.h"

#include "SpoofingSender.h"
#include "StressContext.h"

#include <Poco/Net/SocketAddress.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace peerchat::stress {

namespace {

constexpr std::size_t kHeaderBytes = sizeof(iphdr) + sizeof(udphdr);
// Datagrams per sendmmsg: enough that the system call is not the cost.
constexpr std::size_t kBatch = 64;

sockaddr_in ipv4(const std::string& endpoint)
{
    const Poco::Net::SocketAddress address(endpoint);
    if (address.family() != Poco::Net::SocketAddress::IPv4) throw std::invalid_argument(endpoint + " is not IPv4");
    sockaddr_in in{};
    std::memcpy(&in, address.addr(), sizeof in);
    return in;
}

/// xorshift64*: random enough for addresses, and costs nothing beside a system call.
class FastRandom
{
public:
    FastRandom() : _state((std::uint64_t(std::random_device()()) << 32) | std::random_device()() | 1) {}
    std::uint64_t next()
    {
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return _state * 0x2545F4914F6CDD1Dull;
    }

private:
    std::uint64_t _state;
};

std::string text(const sockaddr_in& source)
{
    char host[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &source.sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(source.sin_port));
}

void setSource(std::vector<unsigned char>& packet, const sockaddr_in& source)
{
    reinterpret_cast<iphdr*>(packet.data())->saddr = source.sin_addr.s_addr;
    reinterpret_cast<udphdr*>(packet.data() + sizeof(iphdr))->source = source.sin_port;
}

// The fixed source, or a random one.
sockaddr_in nextSource(const std::optional<sockaddr_in>& fixed, FastRandom& random)
{
    if (fixed) return *fixed;
    // 127.1.0.0 to 127.254.255.255: on lo, and never 127.0.0.x.
    const std::uint64_t r = random.next();
    const std::uint32_t address = 0x7f000000u | static_cast<std::uint32_t>(1 + r % 254) << 16 |
                                  static_cast<std::uint32_t>((r >> 8) & 0xffff);
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(address);
    source.sin_port = htons(static_cast<std::uint16_t>(1024 + (r >> 32) % 64512));
    return source;
}

} // namespace

std::vector<std::string> RawFlooder::garbage(std::size_t count, std::size_t size)
{
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> byte(0, 255);
    std::vector<std::string> payloads(count);
    for (std::string& payload : payloads) {
        for (std::size_t i = 0; i < size; ++i) payload.push_back(static_cast<char>(byte(random)));
    }
    return payloads;
}

RawFlooder::RawFlooder(Plan plan) : _plan(std::move(plan))
{
    if (_plan.payloads.empty() && !_plan.makePayload) throw std::invalid_argument("a flood needs a payload");
    _target = ipv4(_plan.target);
    if (!_plan.source.empty()) _fixedSource = ipv4(_plan.source);
    _fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (_fd < 0) {
        throw std::runtime_error(std::string("cannot open a raw socket to forge source addresses (") +
                                 std::strerror(errno) + "): run as root");
    }
    _start = std::chrono::steady_clock::now();
    _thread = std::thread([this] { run(); });
}

RawFlooder::~RawFlooder()
{
    _stop = true;
    if (_thread.joinable()) _thread.join();
    ::close(_fd);
}

void RawFlooder::wait()
{
    if (_thread.joinable()) _thread.join();
}

double RawFlooder::seconds() const
{
    return static_cast<double>(_elapsedUs) / 1e6;
}

double RawFlooder::rate() const
{
    return seconds() > 0 ? static_cast<double>(_sent) / seconds() : 0;
}

void RawFlooder::run()
{
    try {
        if (_plan.perSecond > 0) floodPaced();
        else floodFast();
    } catch (const std::exception& e) {
        _error = e.what();
    }
    _elapsedUs = elapsedUs();
}

void RawFlooder::floodFast()
{
    if (_plan.payloads.empty()) throw std::invalid_argument("a flood at full rate takes its payloads ready-made");
    FastRandom random;
    std::vector<std::vector<unsigned char>> packets;
    for (std::size_t i = 0; i < kBatch; ++i) {
        const std::string& payload = _plan.payloads[i % _plan.payloads.size()];
        packets.push_back(test::SpoofingSender::datagram(nextSource(_fixedSource, random), _target, payload));
    }
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> messages(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) {
        iov[i] = {packets[i].data(), packets[i].size()};
        messages[i].msg_hdr = {};
        messages[i].msg_hdr.msg_name = &_target;
        messages[i].msg_hdr.msg_namelen = sizeof _target;
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    const auto end = _start + _plan.duration;
    while (!_stop && !StressContext::stopping() && std::chrono::steady_clock::now() < end) {
        if (!_fixedSource) {
            for (auto& p : packets) setSource(p, nextSource(_fixedSource, random));
        }
        const int n = ::sendmmsg(_fd, messages.data(), kBatch, 0);
        if (n < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
            throw std::runtime_error(std::string("sendmmsg: ") + std::strerror(errno));
        }
        std::uint64_t bytes = 0;
        for (int i = 0; i < n; ++i) bytes += packets[static_cast<std::size_t>(i)].size() - kHeaderBytes;
        _sentBytes += bytes;
        _sent += static_cast<std::uint64_t>(n);
        _elapsedUs = elapsedUs();
    }
}

void RawFlooder::floodPaced()
{
    FastRandom random;
    const auto end = _start + _plan.duration;
    const std::chrono::duration<double> interval(1.0 / _plan.perSecond);
    for (std::uint64_t n = 0; !_stop; ++n) {
        const auto due = _start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval * double(n));
        if (due >= end || !StressContext::sleepUntil(due)) break;
        const sockaddr_in source = nextSource(_fixedSource, random);
        const std::string payload =
            _plan.makePayload ? _plan.makePayload(text(source), n) : _plan.payloads[n % _plan.payloads.size()];
        const std::vector<unsigned char> bytes = test::SpoofingSender::datagram(source, _target, payload);
        const auto* to = reinterpret_cast<const sockaddr*>(&_target);
        if (::sendto(_fd, bytes.data(), bytes.size(), 0, to, sizeof _target) < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
            throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
        }
        ++_sent;
        _sentBytes += payload.size();
        _elapsedUs = elapsedUs();
    }
}

std::int64_t RawFlooder::elapsedUs() const
{
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - _start).count();
}

} // namespace peerchat::stress
