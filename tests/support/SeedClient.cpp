#include "SeedClient.h"
#include "Wait.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>
#include <Poco/UnicodeConverter.h>

#include <stdexcept>

namespace peerchat::test {

namespace {

Poco::Timespan toTimespan(std::chrono::milliseconds ms)
{
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

} // namespace

std::string toUtf16le(const std::string& utf8)
{
    Poco::UTF16String units;
    Poco::UnicodeConverter::convert(utf8, units);
    std::string bytes;
    for (auto u : units) {
        bytes.push_back(static_cast<char>(u & 0xFF));
        bytes.push_back(static_cast<char>(u >> 8));
    }
    return bytes;
}

std::string fromUtf16le(const std::string& bytes)
{
    Poco::UTF16String units;
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
        units.push_back(static_cast<Poco::UInt16>(static_cast<unsigned char>(bytes[i])
                                                  | (static_cast<unsigned char>(bytes[i + 1]) << 8)));
    }
    std::string utf8;
    Poco::UnicodeConverter::convert(units, utf8);
    return utf8;
}

SeedClient::SeedClient(Mode mode, const std::string& bindHost)
    : _mode(mode), _socket(Poco::Net::SocketAddress(bindHost, 0), false)
{
}

std::string SeedClient::endpoint() const
{
    return _socket.address().toString();
}

void SeedClient::send(const std::string& text, const std::string& to)
{
    if (_mode == Mode::Utf8) {
        _socket.sendTo(text.data(), static_cast<int>(text.size()), Poco::Net::SocketAddress(to));
        return;
    }
    // The seed's .NET program sends each datagram from a new UdpClient.
    Poco::Net::DatagramSocket throwaway(Poco::Net::SocketAddress(_socket.address().host(), 0), false);
    const std::string bytes = toUtf16le(text);
    throwaway.sendTo(bytes.data(), static_cast<int>(bytes.size()), Poco::Net::SocketAddress(to));
}

void SeedClient::sendRaw(const std::string& bytes, const std::string& to)
{
    _socket.sendTo(bytes.data(), static_cast<int>(bytes.size()), Poco::Net::SocketAddress(to));
}

std::optional<std::string> SeedClient::receive(std::chrono::milliseconds timeout, Poco::Net::SocketAddress* from)
{
    if (!_socket.poll(toTimespan(timeout), Poco::Net::Socket::SELECT_READ)) return std::nullopt;
    char buffer[65536];
    Poco::Net::SocketAddress sender;
    const int n = _socket.receiveFrom(buffer, sizeof buffer, sender);
    if (from) *from = sender;
    const std::string bytes(buffer, static_cast<std::size_t>(n < 0 ? 0 : n));
    return _mode == Mode::DotNet ? fromUtf16le(bytes) : bytes;
}

std::optional<std::string> SeedClient::receiveStartingWith(const std::string& prefix, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const auto left = timeLeft(deadline);
        if (left.count() <= 0) return std::nullopt;
        auto text = receive(left);
        if (!text) return std::nullopt;
        if (text->compare(0, prefix.size(), prefix) == 0) return text;
    }
}

bool SeedClient::quietFor(std::chrono::milliseconds window)
{
    return !_socket.poll(toTimespan(window), Poco::Net::Socket::SELECT_READ);
}

std::optional<int> SeedClient::login(const std::string& name, const std::string& index)
{
    send("login," + name + "," + endpoint(), index);
    auto reply = receiveStartingWith("Accept,");
    if (!reply) return std::nullopt;
    const int port = std::stoi(reply->substr(7));
    _roster = fetchRoster(Poco::Net::SocketAddress(index).host().toString(), port);
    return port;
}

std::string SeedClient::fetchRoster(const std::string& host, int port)
{
    Poco::Net::StreamSocket tcp(_socket.address().family());
    tcp.impl()->bind(Poco::Net::SocketAddress(_socket.address().host(), 0));
    tcp.connect(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)), Poco::Timespan(5, 0));
    tcp.setReceiveTimeout(Poco::Timespan(5, 0));
    std::string bytes;
    char buffer[8192];
    while (true) {
        const int n = tcp.receiveBytes(buffer, sizeof buffer);
        if (n <= 0) break;
        bytes.append(buffer, static_cast<std::size_t>(n));
    }
    if (_mode == Mode::Utf8) return bytes;

    // BinaryReader.ReadString: a 7-bit encoded length, then that many UTF-8 bytes.
    std::size_t length = 0;
    std::size_t i = 0;
    for (int shift = 0; i < bytes.size() && shift < 35; shift += 7) {
        const auto byte = static_cast<unsigned char>(bytes[i++]);
        length |= static_cast<std::size_t>(byte & 0x7F) << shift;
        if (!(byte & 0x80)) break;
    }
    if (bytes.size() - i < length) throw std::runtime_error("roster string is shorter than its length prefix");
    return bytes.substr(i, length);
}

} // namespace peerchat::test
