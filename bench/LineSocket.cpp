#include "LineSocket.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <string_view>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace peerchat::bench {

LineSocket LineSocket::connectUnix(const std::string& path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) throw std::runtime_error("socket path too long: " + path);
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot connect to " + path + ": " + std::strerror(errno));
    }
    return LineSocket(fd);
}

LineSocket::~LineSocket()
{
    if (_fd >= 0) ::close(_fd);
}

void LineSocket::writeLine(const std::string& line)
{
    const std::string bytes = line + "\n";
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(_fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
}

bool LineSocket::waitLine(const std::string& needle, std::chrono::milliseconds timeout)
{
    return waitLine([&](std::string_view line) { return line.find(needle) != std::string_view::npos; }, timeout);
}

bool LineSocket::waitLine(const LineTest& test, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        for (auto nl = _buffer.find('\n'); nl != std::string::npos; nl = _buffer.find('\n')) {
            const bool found = test(std::string_view(_buffer).substr(0, nl));
            _buffer.erase(0, nl + 1);
            if (found) return true;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) return false;
        pollfd p{_fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char chunk[65536];
        const ssize_t n = ::recv(_fd, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        _buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

bool LineSocket::askUntil(const std::string& request, const LineTest& test, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        writeLine(request);
        if (waitLine(test, std::chrono::milliseconds(200))) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
    }
}

bool LineSocket::waitLoggedIn(std::chrono::milliseconds timeout)
{
    return waitLine(
        [](std::string_view line) {
            return (line.find("\"event\":\"welcome\"") != std::string_view::npos
                    || line.find("\"event\":\"state\"") != std::string_view::npos)
                   && line.find("\"state\":\"online\"") != std::string_view::npos;
        },
        timeout);
}

bool LineSocket::waitOnline(const std::string& name, std::chrono::milliseconds timeout)
{
    const std::string user = "{\"name\":\"" + name + "\"";
    return askUntil(
        R"({"op":"roster"})",
        [&](std::string_view line) {
            // {"event":"roster","users":[...],"unread":{...},"contacts":[...],...}
            const std::size_t users = line.find("\"event\":\"roster\",\"users\":[");
            const std::size_t unread = line.find("],\"unread\":");
            return users != std::string_view::npos && unread != std::string_view::npos
                   && line.substr(users, unread - users).find(user) != std::string_view::npos;
        },
        timeout);
}

bool LineSocket::readAvailable(const std::function<void(std::string_view)>& onLine)
{
    // A bounded number of reads per call, so one busy socket cannot starve
    // the others a caller polls.
    constexpr int kReadsPerCall = 16;
    bool open = true;
    for (int reads = 0; reads < kReadsPerCall; ++reads) {
        char chunk[65536];
        const ssize_t n = ::recv(_fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) open = false;
        if (n <= 0) break;
        _buffer.append(chunk, static_cast<std::size_t>(n));
    }
    // Lines are taken from an offset and the buffer shortened once: erasing
    // line by line would move the rest of a 1 MiB buffer for every line.
    std::size_t start = 0;
    for (auto nl = _buffer.find('\n'); nl != std::string::npos; nl = _buffer.find('\n', start)) {
        onLine(std::string_view(_buffer).substr(start, nl - start));
        start = nl + 1;
    }
    _buffer.erase(0, start);
    return open;
}

void LineSocket::writeAvailable(std::string& pending)
{
    std::size_t done = 0;
    while (done < pending.size()) {
        const ssize_t n = ::send(_fd, pending.data() + done, pending.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        if (n <= 0) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
        done += static_cast<std::size_t>(n);
    }
    pending.erase(0, done);
}

void LineSocket::drain()
{
    char chunk[65536];
    while (::recv(_fd, chunk, sizeof chunk, MSG_DONTWAIT) > 0) {
    }
    _buffer.clear();
}

} // namespace peerchat::bench
