#include "PeerClient.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace peerchat::chatui {

namespace {

/// errno in the words a person reading a status line needs.
std::string describeErrno(int error)
{
    switch (error) {
    case ENOENT: return "no such file";
    case ECONNREFUSED: return "nobody is listening";
    case EACCES:
    case EPERM: return "permission denied";
    case ENOTSOCK: return "not a socket";
    case ENOTDIR: return "a part of the path is not a directory";
    default: return std::strerror(error);
    }
}

} // namespace

PeerClient::PeerClient(std::string socketPath) : _socketPath(std::move(socketPath)) {}

PeerClient::~PeerClient() { disconnect(); }

bool PeerClient::connect()
{
    disconnect();
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (_socketPath.empty() || _socketPath.size() >= sizeof(address.sun_path)) {
        _lastError = "the socket path is empty or longer than " + std::to_string(sizeof(address.sun_path) - 1)
                     + " bytes";
        return false;
    }
    std::memcpy(address.sun_path, _socketPath.data(), _socketPath.size());

    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        _lastError = describeErrno(errno);
        return false;
    }
    // A local connect completes or fails at once; only then go non-blocking.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0
        || ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        _lastError = describeErrno(errno);
        ::close(fd);
        return false;
    }
    _fd = fd;
    _lastError.clear();
    _retryPause = kFirstRetry;
    return true;
}

void PeerClient::disconnect()
{
    if (_fd >= 0) ::close(_fd);
    _fd = -1;
    _reader = LineReader(local::kMaxLineBytes);
    _outbox.clear();
}

void PeerClient::closeWith(std::string reason)
{
    disconnect();
    _lastError = std::move(reason);
    _nextAttempt = Clock::now() + _retryPause;
}

bool PeerClient::send(const local::Request& request)
{
    if (!connected()) return false;
    _outbox += local::LocalProtocol::encodeRequest(request);
    flush();
    return true;
}

void PeerClient::flush()
{
    while (connected() && !_outbox.empty()) {
        const ssize_t n = ::send(_fd, _outbox.data(), _outbox.size(), MSG_NOSIGNAL);
        if (n > 0) {
            _outbox.erase(0, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            closeWith("peerd closed the connection (" + describeErrno(errno) + ")");
        }
    }
}

std::vector<local::Event> PeerClient::readEvents()
{
    std::vector<local::Event> events;
    char buffer[16 * 1024];
    while (connected()) {
        const ssize_t n = ::recv(_fd, buffer, sizeof(buffer), 0);
        if (n > 0) {
            _reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
            while (auto line = _reader.next()) {
                auto event = local::LocalProtocol::decodeEvent(*line);
                const auto* welcome = event ? std::get_if<local::WelcomeEvent>(&*event) : nullptr;
                if (welcome && welcome->protocol != local::kProtocolVersion) {
                    closeWith("peerd speaks version " + std::to_string(welcome->protocol)
                              + " of the local protocol and this chatui version "
                              + std::to_string(local::kProtocolVersion)
                              + "; run the chatui that came with this peerd");
                    return events;
                }
                if (event) {
                    events.push_back(std::move(event.value()));
                } else {
                    ++_malformedLines;
                    _lastMalformed = event.error();
                }
            }
            if (_reader.overflowed()) closeWith("peerd sent a line longer than 64 KiB");
        } else if (n == 0) {
            closeWith("peerd closed the connection");
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            closeWith("peerd closed the connection (" + describeErrno(errno) + ")");
        }
    }
    return events;
}

bool PeerClient::reconnectIfDue(Clock::time_point now)
{
    if (connected() || now < _nextAttempt) return false;
    if (connect()) return true;
    _nextAttempt = now + _retryPause;
    _retryPause = std::min(_retryPause * 2, kLongestRetry);
    return false;
}

std::chrono::milliseconds PeerClient::untilReconnect(Clock::time_point now) const
{
    if (connected() || now >= _nextAttempt) return std::chrono::milliseconds(0);
    return std::chrono::ceil<std::chrono::milliseconds>(_nextAttempt - now);
}

} // namespace peerchat::chatui
