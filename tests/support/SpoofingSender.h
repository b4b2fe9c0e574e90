#pragma once

#include <netinet/in.h>
#include <string>
#include <vector>

namespace peerchat::test {

/// Sends UDP datagrams over IPv4 with any source address and port, as an
/// off-path attacker who forges them would: through a raw socket
/// (IPPROTO_RAW), so it needs root or CAP_NET_RAW. On loopback the kernel
/// delivers them like any other datagram.
class SpoofingSender
{
public:
    /// Opens the raw socket; fails the test, saying what it needs, when it cannot.
    SpoofingSender();
    ~SpoofingSender();
    SpoofingSender(const SpoofingSender&) = delete;
    SpoofingSender& operator=(const SpoofingSender&) = delete;

    /// Sends payload to "a.b.c.d:port" as if it came from "a.b.c.d:port" from.
    void send(const std::string& from, const std::string& to, const std::string& payload);

    /// The bytes of the IPv4 datagram carrying payload from source to target
    /// that send() writes to the raw socket; throws std::invalid_argument
    /// when no datagram can hold payload.
    static std::vector<unsigned char> datagram(const sockaddr_in& source, const sockaddr_in& target,
                                               const std::string& payload);

private:
    int _fd = -1;
};

} // namespace peerchat::test
