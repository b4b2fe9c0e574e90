#pragma once

#include "Directory.h"
#include "EventLoop.h"
#include "IndexIdentity.h"
#include "RosterCodec.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace peerchat {

/// One TCP roster port: every connection is sent the Directory's current
/// roster in one RosterFormat (the peerchat one with keys, signed by indexd
/// for this run's epoch), written as fast as the client reads, then closed. Runs on the EventLoop and never blocks it; at most maxConnections
/// are served at once (the rest wait in the listen backlog) and each gets
/// `deadline` to take its roster before it is cut off.
class RosterListener
{
public:
    /// Told the address of each connection accepted, before anything is
    /// written to it (so what it does shows in the roster the connection reads).
    using ConnectionObserver = std::function<void(const Poco::Net::IPAddress&)>;

    /// Binds and listens on bindAddress (port 0: ephemeral); throws
    /// Poco::Net::NetException when the address cannot be bound. identity
    /// signs the peerchat roster; it must outlive the listener. observer,
    /// when not empty, is called once for every connection accepted.
    RosterListener(EventLoop& loop, const Directory& directory, const IndexIdentity& identity, RosterFormat format,
                   const Poco::Net::SocketAddress& bindAddress, std::size_t maxConnections,
                   std::chrono::milliseconds deadline, ConnectionObserver observer = {});
    ~RosterListener();
    RosterListener(const RosterListener&) = delete;
    RosterListener& operator=(const RosterListener&) = delete;

    /// The bound port (the real one when bound to 0).
    std::uint16_t port() const;

    /// Connections being served now.
    std::size_t openConnections() const { return _connections.size(); }

private:
    struct Connection
    {
        Poco::Net::StreamSocket socket;
        std::string peer;
        std::shared_ptr<const std::string> roster;
        std::size_t sent = 0;
        EventLoop::TimerId deadline = 0;
    };

    void onAcceptable();
    void serve(int fd, const std::string& peer);
    /// Writes what the socket takes; true when the connection is finished with.
    bool writeSome(Connection& connection);
    void onWritable(std::uint64_t id);
    void finish(std::uint64_t id);
    void pauseAccepting();
    void resumeAccepting();
    std::shared_ptr<const std::string> currentRoster();
    int listenFd() const;

    EventLoop& _loop;
    const Directory& _directory;
    const IndexIdentity& _identity;
    RosterFormat _format;
    std::size_t _maxConnections;
    std::chrono::milliseconds _deadline;
    ConnectionObserver _observer;
    Poco::Net::ServerSocket _socket;
    bool _accepting = false;
    EventLoop::TimerId _retryTimer = 0;
    std::unordered_map<std::uint64_t, Connection> _connections;
    std::uint64_t _nextId = 1;
    std::shared_ptr<const std::string> _roster;
    std::uint64_t _rosterVersion = 0;
};

} // namespace peerchat
