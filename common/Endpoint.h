#pragma once

#include "Parsed.h"

#include <Poco/Net/SocketAddress.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace peerchat {

/// A UDP/TCP endpoint as the wire prints it: "127.0.0.1:5001", "[::1]:5001".
/// Only numeric addresses; port 1..65535.
class Endpoint
{
public:
    Endpoint() = default;
    explicit Endpoint(const Poco::Net::SocketAddress& address);

    /// Parses the wire form; refuses host names, port 0, junk.
    static Parsed<Endpoint> parse(std::string_view text);

    /// The wire form ("[::1]:5001" for IPv6).
    std::string toString() const;

    const Poco::Net::SocketAddress& address() const { return _address; }
    Poco::Net::IPAddress host() const { return _address.host(); }
    std::uint16_t port() const { return _address.port(); }

    bool operator==(const Endpoint& other) const { return _address == other._address; }
    bool operator!=(const Endpoint& other) const { return !(*this == other); }
    bool operator<(const Endpoint& other) const { return _address < other._address; }

private:
    Poco::Net::SocketAddress _address;
};

} // namespace peerchat

template <>
struct std::hash<peerchat::Endpoint>
{
    std::size_t operator()(const peerchat::Endpoint& e) const noexcept;
};
