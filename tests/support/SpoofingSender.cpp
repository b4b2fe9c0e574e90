#include "SpoofingSender.h"

#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace peerchat::test {

namespace {

sockaddr_in ipv4(const std::string& endpoint)
{
    const Poco::Net::SocketAddress address(endpoint);
    CPPUNIT_ASSERT_MESSAGE(endpoint + " is not IPv4", address.family() == Poco::Net::SocketAddress::IPv4);
    sockaddr_in in{};
    std::memcpy(&in, address.addr(), sizeof in);
    return in;
}

} // namespace

SpoofingSender::SpoofingSender() : _fd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW))
{
    if (_fd < 0) {
        CPPUNIT_FAIL(std::string("cannot open a raw socket to forge source addresses (") + std::strerror(errno) +
                     "): this attack test needs root or CAP_NET_RAW; run it as root");
    }
}

SpoofingSender::~SpoofingSender()
{
    if (_fd >= 0) ::close(_fd);
}

std::vector<unsigned char> SpoofingSender::datagram(const sockaddr_in& source, const sockaddr_in& target,
                                                    const std::string& payload)
{
    const std::size_t size = sizeof(iphdr) + sizeof(udphdr) + payload.size();
    if (size > 65535)
        throw std::invalid_argument("no IPv4 datagram holds " + std::to_string(payload.size()) + " bytes");
    std::vector<unsigned char> packet(size, 0);

    // The kernel fills in the IP checksum, id and total length (raw(7));
    // a UDP checksum of 0 means none, which IPv4 allows.
    auto* ip = reinterpret_cast<iphdr*>(packet.data());
    ip->version = 4;
    ip->ihl = sizeof(iphdr) / 4;
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->tot_len = htons(static_cast<std::uint16_t>(size));
    ip->saddr = source.sin_addr.s_addr;
    ip->daddr = target.sin_addr.s_addr;
    auto* udp = reinterpret_cast<udphdr*>(packet.data() + sizeof(iphdr));
    udp->source = source.sin_port;
    udp->dest = target.sin_port;
    udp->len = htons(static_cast<std::uint16_t>(sizeof(udphdr) + payload.size()));
    std::memcpy(packet.data() + sizeof(iphdr) + sizeof(udphdr), payload.data(), payload.size());
    return packet;
}

void SpoofingSender::send(const std::string& from, const std::string& to, const std::string& payload)
{
    const sockaddr_in target = ipv4(to);
    const std::vector<unsigned char> packet = datagram(ipv4(from), target, payload);
    const auto sent = ::sendto(_fd, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&target),
                               sizeof target);
    CPPUNIT_ASSERT_MESSAGE(std::string("raw sendto: ") + std::strerror(errno),
                           sent == static_cast<ssize_t>(packet.size()));
}

} // namespace peerchat::test
