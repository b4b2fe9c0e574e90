#include "IdleConnections.h"

#include "StressContext.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace peerchat::stress {

namespace {

// The smallest the kernel allows, and the smallest segment size TCP has:
// the server's socket buffer is sized from the segment size (on loopback,
// 64 KiB segments give it megabytes), so with these a reply of more than a
// few tens of KiB stalls at the server, as it would from an attacker who
// advertises a small segment size.
constexpr int kReceiveBuffer = 1024;
constexpr int kSegmentBytes = 536;

sockaddr_in ipv4(const std::string& host, int port)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) throw std::invalid_argument(host + " is not IPv4");
    return address;
}

} // namespace

IdleConnections::~IdleConnections()
{
    closeAll();
}

bool IdleConnections::openTcp(const std::string& fromHost, const std::string& toHost, int toPort)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const sockaddr_in from = ipv4(fromHost, 0);
    const sockaddr_in to = ipv4(toHost, toPort);
    const bool started =
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer) == 0 &&
        ::setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &kSegmentBytes, sizeof kSegmentBytes) == 0 &&
        ::bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) == 0 &&
        (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0 || errno == EINPROGRESS);
    if (!started) {
        ::close(fd);
        return false;
    }
    _fds.push_back(fd);
    return true;
}

std::size_t IdleConnections::openUnix(const std::string& path, std::size_t count,
                                      std::chrono::steady_clock::time_point deadline)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) throw std::invalid_argument("socket path too long: " + path);
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    std::size_t connected = 0;
    while (connected < count && std::chrono::steady_clock::now() < deadline) {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
            _fds.push_back(fd);
            ++connected;
            continue;
        }
        const int error = errno;
        ::close(fd);
        // EAGAIN: the listener's backlog is full; it may accept more later.
        if (error != EAGAIN) throw std::runtime_error("cannot connect to " + path + ": " + std::strerror(error));
        if (!StressContext::sleep(std::chrono::milliseconds(10))) break;
    }
    return connected;
}

void IdleConnections::sendToAll(const std::string& line)
{
    const std::string bytes = line + "\n";
    for (const int fd : _fds) ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

std::size_t IdleConnections::closedByPeer() const
{
    std::size_t closed = 0;
    for (const int fd : _fds) {
        pollfd ready{fd, POLLRDHUP, 0};
        closed += ::poll(&ready, 1, 0) == 1 && (ready.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
    }
    return closed;
}

void IdleConnections::closeAll()
{
    for (const int fd : _fds) ::close(fd);
    _fds.clear();
}

} // namespace peerchat::stress
