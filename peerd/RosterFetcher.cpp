#include "RosterFetcher.h"

#include <Poco/Exception.h>

#include <sodium.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <utility>

namespace peerchat {

RosterFetcher::RosterFetcher(EventLoop& loop, std::chrono::milliseconds deadline) : _loop(loop), _deadline(deadline)
{
}

RosterFetcher::~RosterFetcher()
{
    cancel();
}

void RosterFetcher::fetch(const Endpoint& server, Callback done)
{
    cancel();
    _server = server;
    _done = std::move(done);
    randombytes_buf(_nonce.data(), _nonce.size());
    _request = RosterCodec::encodeRequest(RosterRequest{_nonce});
    try {
        _socket.emplace(server.address().family());
        _socket->connectNB(server.address());
    } catch (const Poco::Exception& e) {
        fail("cannot connect: " + e.displayText());
        return;
    }
    _fd = _socket->impl()->sockfd();
    _loop.watch(_fd, EventLoop::Writable, [this](short events) { onReady(events); });
    _timer = _loop.runAfter(_deadline, [this] {
        _timer = 0;
        fail("no complete roster within " + std::to_string(_deadline.count()) + " ms");
    });
}

void RosterFetcher::cancel()
{
    if (_timer != 0) _loop.cancel(_timer);
    _timer = 0;
    if (_fd >= 0) _loop.unwatch(_fd);
    _fd = -1;
    _socket.reset();
    _connected = false;
    _request.clear();
    _received.clear();
    _done = nullptr;
}

void RosterFetcher::onReady(short)
{
    if (!_connected) {
        if (!finishConnect()) return;
        _connected = true;
    }
    if (!_request.empty()) {
        if (writeRequest()) _loop.modify(_fd, EventLoop::Readable);
        return;
    }
    readAvailable();
}

// True when the non-blocking connect succeeded; fails the fetch otherwise.
bool RosterFetcher::finishConnect()
{
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(_fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) {
        fail(std::string("cannot connect: ") + std::strerror(error));
        return false;
    }
    return true;
}

bool RosterFetcher::writeRequest()
{
    const ssize_t n = ::send(_fd, _request.data(), _request.size(), MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
        fail(std::string("cannot send the request: ") + std::strerror(errno));
        return false;
    }
    _request.erase(0, static_cast<std::size_t>(n));
    return _request.empty();
}

void RosterFetcher::readAvailable()
{
    std::array<char, 64 * 1024> chunk;
    const ssize_t n = ::recv(_fd, chunk.data(), chunk.size(), 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        fail(std::string("read failed: ") + std::strerror(errno));
        return;
    }
    if (n == 0) {
        Snapshot snapshot;
        snapshot.nonce = _nonce;
        Parsed<std::vector<RosterEntry>> roster =
            RosterCodec::decode(_received, RosterFormat::Peerchat, &snapshot.trailer);
        if (roster) {
            snapshot.users = std::move(roster.value());
            finish(std::move(snapshot));
        } else {
            fail("malformed roster: " + roster.error());
        }
        return;
    }
    _received.append(chunk.data(), static_cast<std::size_t>(n));
    if (_received.size() > RosterCodec::kMaxStreamBytes) {
        fail("roster is larger than " + std::to_string(RosterCodec::kMaxStreamBytes) + " bytes");
    }
}

void RosterFetcher::fail(const std::string& reason)
{
    finish(Parsed<Snapshot>::refuse("roster from " + _server.toString() + ": " + reason));
}

// Clears the fetch before calling back, so the callback may start another.
void RosterFetcher::finish(Parsed<Snapshot> result)
{
    Callback done = std::move(_done);
    cancel();
    if (done) done(std::move(result));
}

} // namespace peerchat
