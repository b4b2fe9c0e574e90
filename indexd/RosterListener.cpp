#include "RosterListener.h"

#include <Poco/Logger.h>
#include <Poco/Net/StreamSocketImpl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <utility>

namespace peerchat {

namespace {

Poco::Logger& logger() { return Poco::Logger::get("RosterListener"); }

constexpr int kBacklog = 128;
// After accept(2) fails for lack of descriptors or memory, wait this long
// instead of spinning on a listening socket that stays readable.
constexpr std::chrono::milliseconds kAcceptRetry{200};
// Connections taken per wake-up, so that a stream of them cannot keep the
// loop from the UDP socket; the listening socket stays readable for the rest.
constexpr int kAcceptsPerWake = 64;

std::string formatName(RosterFormat format)
{
    switch (format) {
    case RosterFormat::SeedText: return "seed";
    case RosterFormat::DotNet: return "dotnet";
    }
    return "seed";
}

// Makes the close of socket a reset rather than a FIN, so the kernel drops
// what it still holds for the client instead of keeping it for a reader that
// is not there, and indexd keeps no TIME_WAIT for it.
void resetOnClose(Poco::Net::StreamSocket& socket)
{
    socket.setLinger(true, 0);
}

} // namespace

RosterListener::RosterListener(EventLoop& loop, const Directory& directory, RosterFormat format,
                               const Poco::Net::SocketAddress& bindAddress, const Limits& limits,
                               ConnectionObserver onConnection)
    : _loop(loop),
      _directory(directory),
      _format(format),
      _limits(limits),
      _onConnection(std::move(onConnection)),
      _slots(limits.connections, limits.perAddress, limits.stallAfter)
{
    // SO_REUSEADDR lets a restarted indexd take its port back from TIME_WAIT;
    // no SO_REUSEPORT, so a second indexd on the same port fails loudly.
    _socket.bind(bindAddress, true, false);
    _socket.listen(kBacklog);
    _socket.setBlocking(false);
    resumeAccepting();
    scheduleReport();
}

RosterListener::~RosterListener()
{
    if (_accepting) _loop.unwatch(listenFd());
    for (const EventLoop::TimerId timer : {_retryTimer, _stallTimer, _reportTimer}) {
        if (timer != 0) _loop.cancel(timer);
    }
    for (auto& [id, connection] : _connections) {
        _loop.unwatch(connection.socket.impl()->sockfd());
        _loop.cancel(connection.deadline);
    }
}

std::uint16_t RosterListener::port() const
{
    return _socket.address().port();
}

int RosterListener::listenFd() const
{
    return _socket.impl()->sockfd();
}

void RosterListener::onAcceptable()
{
    for (int accepted = 0; accepted < kAcceptsPerWake; ++accepted) {
        // Accept only when a slot is free or one can be freed: otherwise the
        // connection waits in the backlog, where it costs indexd nothing.
        if (_slots.full() && !_slots.longestStalled(Clock::now())) {
            waitForStall();
            return;
        }
        sockaddr_storage address{};
        socklen_t length = sizeof address;
        const int fd = ::accept4(listenFd(), reinterpret_cast<sockaddr*>(&address), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR || errno == ECONNABORTED) continue;
            logger().warning("cannot accept a %s roster connection: %s; retrying in %ld ms", formatName(_format),
                             std::string(std::strerror(errno)), static_cast<long>(kAcceptRetry.count()));
            pauseAccepting();
            _retryTimer = _loop.runAfter(kAcceptRetry, [this] {
                _retryTimer = 0;
                resumeAccepting();
            });
            return;
        }
        admit(Poco::Net::StreamSocket(new Poco::Net::StreamSocketImpl(fd)),
              Poco::Net::SocketAddress(reinterpret_cast<sockaddr*>(&address), length));
    }
}

void RosterListener::admit(Poco::Net::StreamSocket socket, const Poco::Net::SocketAddress& peer)
{
    if (_onConnection) _onConnection(peer.host());
    if (_slots.addressFull(peer.host())) {
        refuse(socket, Endpoint(peer),
               std::to_string(_limits.perAddress) + " roster connections from " + peer.host().toString() +
                   " are being served already");
        return;
    }
    Connection connection{std::move(socket), Endpoint(peer), currentRoster()};
    // Most rosters fit in the socket buffer, so the first write usually
    // finishes, and the connection never needs a slot.
    if (writeSome(connection)) return;

    const auto now = Clock::now();
    if (_slots.full()) {
        if (const auto stalled = _slots.longestStalled(now)) {
            cut(*stalled, "stalled, and its slot was needed");
        }
    }
    const std::uint64_t id = _nextId++;
    _slots.take(id, peer.host(), now);
    connection.deadline = _loop.runAfter(_limits.deadline, [this, id] {
        const auto it = _connections.find(id);
        if (it == _connections.end()) return;
        it->second.deadline = 0;
        cut(id, "not finished in " + std::to_string(_limits.deadline.count()) + " ms");
    });
    const int socketFd = connection.socket.impl()->sockfd();
    _connections.emplace(id, std::move(connection));
    _loop.watch(socketFd, EventLoop::Writable, [this, id](short) { onReady(id); });
}

void RosterListener::refuse(Poco::Net::StreamSocket& socket, const Endpoint& peer, const std::string& why)
{
    if (_drops.wantsDetail(DropReason::Refused) || logger().debug()) {
        logger().debug("refused %s roster connection from %s: %s", formatName(_format), peer.toString(), why);
        _drops.count(DropReason::Refused, peer, why);
    } else {
        _drops.count(DropReason::Refused, peer, {});
    }
    resetOnClose(socket);
}

bool RosterListener::writeSome(Connection& connection)
{
    const std::string& stream = *connection.roster;
    const int fd = connection.socket.impl()->sockfd();
    while (connection.sent < stream.size()) {
        const ssize_t n = ::send(fd, stream.data() + connection.sent, stream.size() - connection.sent, MSG_NOSIGNAL);
        if (n > 0) {
            connection.sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
        logger().debug("%s roster connection from %s closed early: %s", formatName(_format),
                       connection.peer.toString(), std::string(std::strerror(errno)));
        return true;
    }
    logger().debug("sent the %s roster (%z bytes) to %s", formatName(_format), stream.size(),
                   connection.peer.toString());
    return true;
}

void RosterListener::onReady(std::uint64_t id)
{
    const auto it = _connections.find(id);
    if (it == _connections.end()) return;
    Connection& connection = it->second;
    const std::size_t before = connection.sent;
    if (writeSome(connection)) {
        finish(id);
        return;
    }
    if (connection.sent > before) _slots.progressed(id, Clock::now());
}

void RosterListener::cut(std::uint64_t id, const std::string& why)
{
    const auto it = _connections.find(id);
    if (it == _connections.end()) return;
    Connection& connection = it->second;
    if (_drops.wantsDetail(DropReason::Slow) || logger().debug()) {
        const std::string detail = "took " + std::to_string(connection.sent) + " of " +
                                   std::to_string(connection.roster->size()) + " bytes, " + why;
        logger().debug("cut %s roster connection from %s: %s", formatName(_format), connection.peer.toString(),
                       detail);
        _drops.count(DropReason::Slow, connection.peer, detail);
    } else {
        _drops.count(DropReason::Slow, connection.peer, {});
    }
    resetOnClose(connection.socket);
    finish(id);
}

void RosterListener::finish(std::uint64_t id)
{
    const auto it = _connections.find(id);
    if (it == _connections.end()) return;
    _loop.unwatch(it->second.socket.impl()->sockfd());
    if (it->second.deadline != 0) _loop.cancel(it->second.deadline);
    _slots.release(id);
    _connections.erase(it);
    if (!_accepting && _retryTimer == 0) resumeAccepting();
}

void RosterListener::pauseAccepting()
{
    if (!_accepting) return;
    _loop.unwatch(listenFd());
    _accepting = false;
}

void RosterListener::resumeAccepting()
{
    if (_stallTimer != 0) _loop.cancel(_stallTimer);
    _stallTimer = 0;
    if (_accepting) return;
    _accepting = true;
    _loop.watch(listenFd(), EventLoop::Readable, [this](short) { onAcceptable(); });
}

void RosterListener::waitForStall()
{
    if (logger().debug())
        logger().debug("all %z %s roster slots are held and none has stalled; new connections wait",
                       _slots.size(), formatName(_format));
    pauseAccepting();
    if (_stallTimer != 0) _loop.cancel(_stallTimer);
    // A slot held is a connection that has not finished, so there is a next stall.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*_slots.nextStall() - Clock::now());
    _stallTimer = _loop.runAfter(std::max(wait, std::chrono::milliseconds(1)), [this] {
        _stallTimer = 0;
        if (_retryTimer == 0) resumeAccepting();
    });
}

void RosterListener::scheduleReport()
{
    _reportTimer = _loop.runAfter(_limits.reportEvery, [this] {
        const std::string summary = _drops.takeSummary(_limits.reportEvery);
        if (!summary.empty()) logger().warning("%s roster port %hu: %s", formatName(_format), port(), summary);
        scheduleReport();
    });
}

std::shared_ptr<const std::string> RosterListener::currentRoster()
{
    // Encoded once per change of the directory, and shared by every
    // connection that reads it, however many fetch the same roster.
    if (!_roster || _rosterVersion != _directory.version()) {
        _roster = std::make_shared<const std::string>(RosterCodec::encode(_directory.legacySnapshot(), _format));
        _rosterVersion = _directory.version();
    }
    return _roster;
}

} // namespace peerchat
