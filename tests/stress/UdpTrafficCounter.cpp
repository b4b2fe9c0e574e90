#include "UdpTrafficCounter.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace peerchat::stress {

namespace {

// Bytes of each packet the filter hands over: IP and UDP headers and the start of the payload.
constexpr std::uint32_t kSnapBytes = 128;
constexpr std::size_t kMaxPrefixBytes = 64;

std::uint16_t big16(const unsigned char* at)
{
    return static_cast<std::uint16_t>(at[0] << 8 | at[1]);
}

// Classic BPF over the IP packet (SOCK_DGRAM packet socket): IPv4 UDP,
// unfragmented, from or to port; loopback's outgoing copy of each packet is
// skipped, as libpcap does, so each datagram counts once.
std::vector<sock_filter> filterFor(int port)
{
    const auto p = static_cast<std::uint32_t>(port);
    return {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)),  // 0
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 10, 0),                                  // 1 -> drop
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),                                                        // 2 protocol
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 8),                                       // 3 else drop
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),                                                        // 4 fragment
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 6, 0),                                           // 5 -> drop
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                                                       // 6 x = IP header
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),                                                        // 7 source port
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, p, 2, 0),                                                 // 8 -> accept
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                                                        // 9 dest port
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, p, 0, 1),                                                 // 10
        BPF_STMT(BPF_RET | BPF_K, kSnapBytes),                                                        // 11 accept
        BPF_STMT(BPF_RET | BPF_K, 0),                                                                 // 12 drop
    };
}

} // namespace

UdpTrafficCounter::UdpTrafficCounter(int port, std::vector<std::string> outPrefixes) : _port(port)
{
    for (const std::string& prefix : outPrefixes) {
        if (prefix.size() > kMaxPrefixBytes) throw std::invalid_argument("prefix too long: " + prefix);
        _totals.outByPrefix[prefix] = 0;
    }
    _fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
    if (_fd < 0)
        throw std::runtime_error("cannot capture on lo (" + std::string(std::strerror(errno)) + "): run as root");
    auto program = filterFor(port);
    const sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    const unsigned int lo = ::if_nametoindex("lo");
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_IP);
    address.sll_ifindex = static_cast<int>(lo);
    // A large buffer, past the system's maximum when allowed: a flood's replies come in bursts.
    const int buffer = 64 << 20;
    if (::setsockopt(_fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0)
        ::setsockopt(_fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    if (::setsockopt(_fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0 || lo == 0 ||
        ::bind(_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        const std::string why = std::strerror(errno);
        ::close(_fd);
        throw std::runtime_error("cannot capture on lo: " + why);
    }
    // Whatever arrived before the filter was attached is not ours to count.
    tpacket_stats stats{};
    socklen_t length = sizeof stats;
    ::getsockopt(_fd, SOL_PACKET, PACKET_STATISTICS, &stats, &length);
    unsigned char scratch[kSnapBytes];
    while (::recv(_fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0) {
    }
    _thread = std::thread([this] { run(); });
}

UdpTrafficCounter::~UdpTrafficCounter()
{
    _stop = true;
    if (_thread.joinable()) _thread.join();
    ::close(_fd);
}

UdpTrafficCounter::Totals UdpTrafficCounter::stop()
{
    _stop = true;
    if (_thread.joinable()) _thread.join();
    return _totals;
}

void UdpTrafficCounter::run()
{
    unsigned char packet[kSnapBytes];
    while (true) {
        pollfd ready{_fd, POLLIN, 0};
        const bool stopping = _stop;
        ::poll(&ready, 1, stopping ? 0 : 100);
        ssize_t n;
        while ((n = ::recv(_fd, packet, sizeof packet, MSG_DONTWAIT)) > 0) count(packet, static_cast<std::size_t>(n));
        // Read once more after the stop: what was queued when it came counts.
        if (stopping) break;
    }
    tpacket_stats stats{};
    socklen_t length = sizeof stats;
    if (::getsockopt(_fd, SOL_PACKET, PACKET_STATISTICS, &stats, &length) == 0) _totals.missed = stats.tp_drops;
}

void UdpTrafficCounter::count(const unsigned char* packet, std::size_t length)
{
    if (length < 20) return;
    const std::size_t ipHeader = (packet[0] & 0x0fu) * 4u;
    if (length < ipHeader + 8) return;
    const unsigned char* udp = packet + ipHeader;
    const std::uint16_t udpLength = big16(udp + 4);
    const std::uint64_t payload = udpLength >= 8 ? udpLength - 8u : 0;
    if (big16(udp + 2) == _port) {
        ++_totals.datagramsIn;
        _totals.bytesIn += payload;
    }
    if (big16(udp) == _port) {
        ++_totals.datagramsOut;
        _totals.bytesOut += payload;
        const char* text = reinterpret_cast<const char*>(udp + 8);
        const std::size_t captured = length - ipHeader - 8;
        for (auto& [prefix, n] : _totals.outByPrefix) {
            if (prefix.size() <= captured && std::memcmp(text, prefix.data(), prefix.size()) == 0) ++n;
        }
    }
}

} // namespace peerchat::stress
