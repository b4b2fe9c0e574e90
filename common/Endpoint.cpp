#include "Endpoint.h"

#include <Poco/Net/IPAddress.h>

#include <charconv>

namespace peerchat {

Endpoint::Endpoint(const Poco::Net::SocketAddress& address) : _address(address) {}

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

    Poco::Net::IPAddress address;
    if (host.empty() || !Poco::Net::IPAddress::tryParse(std::string(host), address))
        return Parsed<Endpoint>::refuse("endpoint host is not a numeric IP address");
    if ((address.family() == Poco::Net::IPAddress::IPv6) != v6)
        return Parsed<Endpoint>::refuse("endpoint host is not a numeric IP address");
    if (v6 && host.find('%') != std::string_view::npos)
        return Parsed<Endpoint>::refuse("endpoint has a scope id");
    if (!v6) {
        // IPAddress::tryParse accepts forms like "1.2.3" (inet_aton); the wire wants a dotted quad.
        int dots = 0;
        for (char c : host) {
            if (c == '.') ++dots;
            else if (c < '0' || c > '9') return Parsed<Endpoint>::refuse("endpoint host is not a dotted quad");
        }
        if (dots != 3) return Parsed<Endpoint>::refuse("endpoint host is not a dotted quad");
    }
    return Endpoint(Poco::Net::SocketAddress(address, static_cast<Poco::UInt16>(value)));
}

std::string Endpoint::toString() const
{
    return _address.toString();
}

} // namespace peerchat

std::size_t std::hash<peerchat::Endpoint>::operator()(const peerchat::Endpoint& e) const noexcept
{
    const auto& host = e.host();
    const auto* bytes = static_cast<const unsigned char*>(host.addr());
    std::size_t h = 1469598103934665603ull;
    for (unsigned i = 0; i < static_cast<unsigned>(host.length()); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
    return (h ^ e.port()) * 1099511628211ull;
}
