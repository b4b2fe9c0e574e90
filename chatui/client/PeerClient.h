#pragma once

#include "LineReader.h"
#include "LocalProtocol.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace peerchat::chatui {

/// The client side of peerd's local socket: connects to the Unix socket,
/// queues requests, and turns the bytes peerd writes into decoded events.
/// It owns no loop: the caller polls fd() (readable, and writable while
/// wantsWrite()) and calls readEvents()/flush(). When peerd goes away the
/// client drops to disconnected and reconnectIfDue() tries again with a
/// growing pause, so a UI comes back by itself when peerd does.
class PeerClient
{
public:
    using Clock = std::chrono::steady_clock;

    /// First and longest pause between reconnection attempts.
    static constexpr std::chrono::milliseconds kFirstRetry{100};
    static constexpr std::chrono::milliseconds kLongestRetry{2000};

    explicit PeerClient(std::string socketPath);
    ~PeerClient();
    PeerClient(const PeerClient&) = delete;
    PeerClient& operator=(const PeerClient&) = delete;

    const std::string& socketPath() const { return _socketPath; }

    /// Tries to connect now; true when connected. On failure lastError() says
    /// why in a few words ("no such file", "nobody is listening").
    bool connect();
    /// Closes the connection and forgets unread and unsent bytes.
    void disconnect();

    bool connected() const { return _fd >= 0; }
    /// The socket to poll, or -1 while disconnected.
    int fd() const { return _fd; }
    /// True while requests are waiting for the socket to take them.
    bool wantsWrite() const { return !_outbox.empty(); }

    /// Queues a request and writes what the socket takes now; false (and the
    /// request dropped) while disconnected.
    bool send(const local::Request& request);
    /// Writes queued requests; disconnects on a write error.
    void flush();

    /// Reads everything the socket holds and returns the events it completed,
    /// in order. Lines that do not decode are skipped and counted. End of file,
    /// a read error, an oversize line or a welcome of another version of the
    /// local protocol (lastError() says which) disconnect the client.
    std::vector<local::Event> readEvents();

    /// While disconnected, connects when the pause since the last attempt has
    /// passed; true when this call connected.
    bool reconnectIfDue(Clock::time_point now = Clock::now());
    /// How long until reconnectIfDue() will try again (zero when connected or due).
    std::chrono::milliseconds untilReconnect(Clock::time_point now = Clock::now()) const;

    /// Why the last connect failed or the connection ended.
    const std::string& lastError() const { return _lastError; }
    /// Lines from peerd that did not decode, since construction.
    std::size_t malformedLines() const { return _malformedLines; }
    /// The reason the last malformed line was refused.
    const std::string& lastMalformed() const { return _lastMalformed; }

private:
    void closeWith(std::string reason);

    std::string _socketPath;
    int _fd = -1;
    LineReader _reader{local::kMaxLineBytes};
    std::string _outbox;
    std::string _lastError;
    std::size_t _malformedLines = 0;
    std::string _lastMalformed;
    Clock::time_point _nextAttempt{};
    std::chrono::milliseconds _retryPause{kFirstRetry};
};

} // namespace peerchat::chatui
