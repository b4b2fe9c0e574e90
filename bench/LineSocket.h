#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace peerchat::bench {

/// A raw stream socket (Unix) that writes lines and waits for a line holding
/// a given text: the minimal client both paths of a benchmark share.
class LineSocket
{
public:
    /// Connects to the Unix socket at path; throws on failure.
    static LineSocket connectUnix(const std::string& path);
    explicit LineSocket(int fd) : _fd(fd) {}
    LineSocket(LineSocket&& other) noexcept : _fd(other._fd), _buffer(std::move(other._buffer)) { other._fd = -1; }
    LineSocket(const LineSocket&) = delete;
    LineSocket& operator=(const LineSocket&) = delete;
    ~LineSocket();

    int fd() const { return _fd; }
    void writeLine(const std::string& line);
    using LineTest = std::function<bool(std::string_view line)>;
    /// Reads until a line containing needle (or one that passes test)
    /// arrives (true) or timeout (false).
    bool waitLine(const std::string& needle, std::chrono::milliseconds timeout);
    bool waitLine(const LineTest& test, std::chrono::milliseconds timeout);
    /// Writes request, and again every 200 ms, until a line that passes test
    /// arrives (true) or timeout (false): how a client waits for a state it
    /// can only ask about.
    bool askUntil(const std::string& request, const LineTest& test, std::chrono::milliseconds timeout);
    /// Reads until peerd says it is logged in to indexd (a welcome or a state
    /// event saying online; true) or timeout (false). A contact request to
    /// a name indexd does not know yet is dropped, so two users who add each
    /// other wait for this first.
    bool waitLoggedIn(std::chrono::milliseconds timeout);
    /// Asks for the roster until it lists name among the users online (true)
    /// or timeout (false). The contacts and requests a roster also names do
    /// not count: a contact added is not yet seen online, and a line sent to
    /// it before it is goes through indexd.
    bool waitOnline(const std::string& name, std::chrono::milliseconds timeout);
    /// Discards whatever has arrived so far without blocking.
    void drain();
    /// Hands each complete line that has arrived (without its newline) to
    /// onLine, without blocking; false once the other end has closed.
    bool readAvailable(const std::function<void(std::string_view)>& onLine);
    /// Writes as much of pending as the socket takes without blocking and
    /// removes what was written from its front.
    void writeAvailable(std::string& pending);

private:
    int _fd = -1;
    std::string _buffer;
};

} // namespace peerchat::bench
