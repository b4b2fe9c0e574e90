#include "Endpoint.h"

#include <Poco/Net/IPAddress.h>

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <netinet/in.h>

namespace peerchat {

namespace {

void putBigEndian(Endpoint::Key& key, std::size_t at, std::uint32_t value, std::size_t bytes)
{
    for (std::size_t i = 0; i < bytes; ++i) key[at + i] = static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - i)));
}

} // namespace

Endpoint::Endpoint() : Endpoint(Poco::Net::SocketAddress()) {}

Endpoint::Endpoint(const Poco::Net::SocketAddress& address) : _address(address)
{
    const sockaddr* raw = _address.addr();
    _key[0] = static_cast<std::uint8_t>(raw->sa_family);
    if (raw->sa_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(raw);
        std::memcpy(_key.data() + 1, &v6->sin6_addr, 16);
        putBigEndian(_key, 17, v6->sin6_scope_id, 4);
    } else {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(raw);
        std::memcpy(_key.data() + 1, &v4->sin_addr, 4);
    }
    putBigEndian(_key, 21, _address.port(), 2);
}

Parsed<Endpoint> Endpoint::parse(std::string_view text)
{
    if (text.empty()) return Parsed<Endpoint>::refuse("endpoint is empty");
    if (text.size() > 64) return Parsed<Endpoint>::refuse("endpoint is too long");

    std::string_view host;
    std::string_view port;
    bool v6 = false;
    if (text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return Parsed<Endpoint>::refuse("endpoint '[host]:port' is malformed");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        v6 = true;
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return Parsed<Endpoint>::refuse("endpoint has no port");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return Parsed<Endpoint>::refuse("IPv6 endpoint must be written [addr]:port");
    }

    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
        return Parsed<Endpoint>::refuse("endpoint port must be 1..65535");

    // inet_pton, not Poco's IPAddress::parse: that reads "010.0.0.1" as octal and "1.2.3" as 1.2.0.3
    // (inet_aton), and refuses "::"; inet_pton takes exactly the forms inet_ntop prints in toString().
    in6_addr bytes{};
    if (host.empty() || host.find('\0') != std::string_view::npos
        || ::inet_pton(v6 ? AF_INET6 : AF_INET, std::string(host).c_str(), &bytes) != 1)
        return Parsed<Endpoint>::refuse(v6 ? "endpoint host is not a numeric IPv6 address"
                                           : "endpoint host is not a dotted quad");
    const Poco::Net::IPAddress address(&bytes, v6 ? sizeof(in6_addr) : sizeof(in_addr));
    return Endpoint(Poco::Net::SocketAddress(address, static_cast<Poco::UInt16>(value)));
}

std::string Endpoint::toString() const
{
    // Poco 1.11 prints some IPv6 addresses wrongly (::9 as "::"), so print with inet_ntop, which parse() reads back.
    const auto host = _address.host();
    const bool v6 = host.family() == Poco::Net::IPAddress::IPv6;
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v6 ? AF_INET6 : AF_INET, host.addr(), text, sizeof text);
    const std::string port = std::to_string(_address.port());
    return v6 ? "[" + std::string(text) + "]:" + port : std::string(text) + ":" + port;
}

} // namespace peerchat

std::size_t std::hash<peerchat::Endpoint>::operator()(const peerchat::Endpoint& e) const noexcept
{
    std::size_t h = 1469598103934665603ull;
    for (const std::uint8_t byte : e.key()) h = (h ^ byte) * 1099511628211ull;
    return h;
}
