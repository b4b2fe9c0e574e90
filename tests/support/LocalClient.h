#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace peerchat::test {

/// A client of peerd's local socket that writes JSON lines and reads events as
/// plain Poco JSON objects, the way a script driving `socat` would.
class LocalClient
{
public:
    using Object = Poco::JSON::Object::Ptr;
    using Predicate = std::function<bool(const Object&)>;

    /// Connects to the Unix socket at path; throws on failure, also when the
    /// listener's backlog has no room for 10 s.
    explicit LocalClient(const std::string& path);

    /// Sends one line (a newline is added).
    void sendLine(const std::string& json);

    /// The first event not yet taken that satisfies predicate, reading more
    /// until timeout; nullptr on timeout. Events it passes over stay available
    /// to later calls.
    Object waitFor(const Predicate& predicate, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// waitFor an event whose "event" field is name.
    Object waitEvent(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// True when the connection reads end-of-file within timeout.
    bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(10));

private:
    bool readMore(std::chrono::milliseconds timeout);

    Poco::Net::StreamSocket _socket;
    std::string _buffer;
    std::vector<Object> _pending;
    bool _closed = false;
};

} // namespace peerchat::test
