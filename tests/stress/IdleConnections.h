#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace peerchat::stress {

/// Stream connections that connect and never read: to a TCP endpoint from a
/// chosen local address with a small receive buffer and segment size (so a
/// reply larger than a few tens of KiB stays stuck at the server), or to a
/// Unix socket. Connects never
/// block, so a listener that stopped accepting cannot stall the caller. All
/// are closed when the object goes.
class IdleConnections
{
public:
    IdleConnections() = default;
    ~IdleConnections();
    IdleConnections(const IdleConnections&) = delete;
    IdleConnections& operator=(const IdleConnections&) = delete;

    /// Starts one TCP connection from host fromHost (any port) to toHost:toPort;
    /// false when the kernel refused it at once.
    bool openTcp(const std::string& fromHost, const std::string& toHost, int toPort);
    /// Connects count times to the Unix socket at path, trying again while the
    /// listener's backlog is full, until deadline; returns how many connected.
    std::size_t openUnix(const std::string& path, std::size_t count, std::chrono::steady_clock::time_point deadline);
    /// Writes line and a newline on every connection (what does not fit is dropped).
    void sendToAll(const std::string& line);
    /// Connections the other end has closed or reset (they stay counted in size()).
    std::size_t closedByPeer() const;
    std::size_t size() const { return _fds.size(); }
    void closeAll();

private:
    std::vector<int> _fds;
};

} // namespace peerchat::stress
