#include "RosterListener.h"

#include "SignedStatement.h"

#include <Poco/Logger.h>
#include <Poco/Net/StreamSocketImpl.h>

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

std::string formatName(RosterFormat format)
{
    switch (format) {
    case RosterFormat::SeedText: return "seed";
    case RosterFormat::DotNet: return "dotnet";
    case RosterFormat::Peerchat: return "peerchat";
    }
    return "seed";
}

} // namespace

RosterListener::RosterListener(EventLoop& loop, const Directory& directory, const IndexIdentity& identity,
                               RosterFormat format, const Poco::Net::SocketAddress& bindAddress,
                               std::size_t maxConnections, std::chrono::milliseconds deadline,
                               ConnectionObserver observer)
    : _loop(loop),
      _directory(directory),
      _identity(identity),
      _format(format),
      _maxConnections(maxConnections),
      _deadline(deadline),
      _observer(std::move(observer))
{
    // SO_REUSEADDR lets a restarted indexd take its port back from TIME_WAIT;
    // no SO_REUSEPORT, so a second indexd on the same port fails loudly.
    _socket.bind(bindAddress, true, false);
    _socket.listen(kBacklog);
    _socket.setBlocking(false);
    resumeAccepting();
}

RosterListener::~RosterListener()
{
    if (_accepting) _loop.unwatch(listenFd());
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
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
    while (_connections.size() < _maxConnections) {
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
        const Poco::Net::SocketAddress peer(reinterpret_cast<sockaddr*>(&address), length);
        if (_observer) _observer(peer.host());
        serve(fd, peer.toString());
    }
    logger().warning("%z %s roster connections open, the most allowed; new ones wait", _connections.size(),
                     formatName(_format));
    pauseAccepting();
}

void RosterListener::serve(int fd, const std::string& peer)
{
    Connection connection{Poco::Net::StreamSocket(new Poco::Net::StreamSocketImpl(fd)), peer, currentRoster()};
    // Most rosters fit in the socket buffer, so the first write usually finishes.
    if (writeSome(connection)) return;

    const std::uint64_t id = _nextId++;
    connection.deadline = _loop.runAfter(_deadline, [this, id] {
        auto it = _connections.find(id);
        if (it == _connections.end()) return;
        logger().warning("closed %s roster connection from %s: it took %z of %z bytes in %ld ms",
                         formatName(_format), it->second.peer, it->second.sent, it->second.roster->size(),
                         static_cast<long>(_deadline.count()));
        it->second.deadline = 0;
        // Reset rather than close, so the kernel drops what it still holds
        // for this client instead of keeping it for a reader that is not there.
        it->second.socket.setLinger(true, 0);
        finish(id);
    });
    const int socketFd = connection.socket.impl()->sockfd();
    _connections.emplace(id, std::move(connection));
    _loop.watch(socketFd, EventLoop::Writable, [this, id](short) { onWritable(id); });
}

bool RosterListener::writeSome(Connection& connection)
{
    const std::string& roster = *connection.roster;
    const int fd = connection.socket.impl()->sockfd();
    while (connection.sent < roster.size()) {
        const ssize_t n = ::send(fd, roster.data() + connection.sent, roster.size() - connection.sent, MSG_NOSIGNAL);
        if (n > 0) {
            connection.sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
        logger().information("%s roster connection from %s closed early: %s", formatName(_format), connection.peer,
                             std::string(std::strerror(errno)));
        return true;
    }
    logger().debug("sent the %s roster (%z bytes) to %s", formatName(_format), roster.size(), connection.peer);
    return true;
}

void RosterListener::onWritable(std::uint64_t id)
{
    auto it = _connections.find(id);
    if (it == _connections.end()) return;
    if (writeSome(it->second)) finish(id);
}

void RosterListener::finish(std::uint64_t id)
{
    auto it = _connections.find(id);
    if (it == _connections.end()) return;
    _loop.unwatch(it->second.socket.impl()->sockfd());
    if (it->second.deadline != 0) _loop.cancel(it->second.deadline);
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
    if (_accepting) return;
    _accepting = true;
    _loop.watch(listenFd(), EventLoop::Readable, [this](short) { onAcceptable(); });
}

std::shared_ptr<const std::string> RosterListener::currentRoster()
{
    // Encoded and signed once per change of the directory (the presence
    // sequence number only moves with one), and shared by every connection
    // that reads it, however many fetch the same roster.
    if (!_roster || _rosterVersion != _directory.version()) {
        std::string stream = RosterCodec::encode(_directory.snapshot(), _format, _directory.presenceSeq());
        if (_format == RosterFormat::Peerchat) {
            const Signature sig = _identity.sign(SignedStatement::roster(stream, _identity.epoch()));
            stream = RosterCodec::withSignature(std::move(stream), sig);
        }
        _roster = std::make_shared<const std::string>(std::move(stream));
        _rosterVersion = _directory.version();
    }
    return _roster;
}

} // namespace peerchat
