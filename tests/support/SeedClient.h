#pragma once

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <optional>
#include <string>

namespace peerchat::test {

/// A client that knows only the seed's protocol, written with raw POCO sockets
/// and none of peerchat's code, as a third party would.
///
/// Utf8 mode behaves like a plain seed client: one UDP socket for everything.
/// DotNet mode behaves like the seed's published C# program: datagrams are
/// UTF-16LE, every datagram goes out from a fresh throwaway socket, it listens
/// on its own endpoint (the one it writes in its login), and it reads the
/// roster as one BinaryReader.ReadString.
class SeedClient
{
public:
    enum class Mode { Utf8, DotNet };

    explicit SeedClient(Mode mode = Mode::Utf8, const std::string& bindHost = "127.0.0.1");

    /// The endpoint it listens on, as the wire prints it ("127.0.0.1:40001").
    std::string endpoint() const;
    Poco::Net::SocketAddress address() const { return _socket.address(); }

    /// Sends text as one datagram to "host:port" (encoded for the mode).
    void send(const std::string& text, const std::string& to);
    /// Sends raw bytes as they are, from the listening socket.
    void sendRaw(const std::string& bytes, const std::string& to);

    /// The next datagram that arrives within timeout, decoded for the mode,
    /// and where it came from; nullopt on timeout.
    std::optional<std::string> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                       Poco::Net::SocketAddress* from = nullptr);
    /// Receives until a datagram starting with prefix arrives; drops others.
    std::optional<std::string> receiveStartingWith(const std::string& prefix,
                                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// True when no datagram arrives within window.
    bool quietFor(std::chrono::milliseconds window);

    /// Logs in to indexd at "host:port" as the seed does: the login, the
    /// Accept, then the roster from the Accept's TCP port (a roster
    /// connection from the client's address is what puts its login online).
    /// Returns the Accept's port; nullopt when no Accept came.
    std::optional<int> login(const std::string& name, const std::string& index);
    /// The roster read by the last login().
    const std::string& roster() const { return _roster; }
    /// Connects to host:port from the client's own address and reads the
    /// roster to the close, unframed (DotNet mode reads one BinaryReader
    /// string).
    std::string fetchRoster(const std::string& host, int port);

private:
    Mode _mode;
    Poco::Net::DatagramSocket _socket;
    std::string _roster;
};

/// UTF-8 <-> UTF-16LE as .NET's Encoding.Unicode writes it, via POCO.
std::string toUtf16le(const std::string& utf8);
std::string fromUtf16le(const std::string& bytes);

} // namespace peerchat::test
