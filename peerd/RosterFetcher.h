#pragma once

#include "Endpoint.h"
#include "EventLoop.h"
#include "Parsed.h"
#include "RosterCodec.h"

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace peerchat {

/// Reads indexd's peerchat roster over TCP without blocking the EventLoop:
/// connect, write the request with a nonce drawn for this fetch, read until
/// indexd closes, decode. One fetch at a time. The caller checks the
/// signature the trailer carries, made over the nonce (SignedStatement::roster).
class RosterFetcher
{
public:
    /// The roster as indexd wrote it: every online user, and the trailer with
    /// the number of the latest presence announcement it includes (0: none
    /// yet) and indexd's signature.
    struct Snapshot
    {
        std::vector<RosterEntry> users;
        RosterTrailer trailer;
        RosterNonce nonce{};  ///< the nonce this fetch sent: the signature must cover it
    };
    using Callback = std::function<void(Parsed<Snapshot> roster)>;

    /// A fetch that has not finished within deadline fails.
    RosterFetcher(EventLoop& loop, std::chrono::milliseconds deadline);
    ~RosterFetcher();
    RosterFetcher(const RosterFetcher&) = delete;
    RosterFetcher& operator=(const RosterFetcher&) = delete;

    /// Starts reading the roster from server; done is called once, on the
    /// loop's thread, with the roster or why it could not be read (before
    /// fetch returns when the connect fails at once). Abandons a fetch in
    /// progress without calling its callback.
    void fetch(const Endpoint& server, Callback done);

    /// Abandons the fetch in progress, if any, without calling its callback.
    void cancel();

    bool busy() const { return _socket.has_value(); }

private:
    void onReady(short events);
    bool finishConnect();
    /// Writes what the socket takes of the request; true once all of it is written.
    bool writeRequest();
    void readAvailable();
    void finish(Parsed<Snapshot> result);
    void fail(const std::string& reason);

    EventLoop& _loop;
    std::chrono::milliseconds _deadline;
    std::optional<Poco::Net::StreamSocket> _socket;
    int _fd = -1;
    bool _connected = false;
    Endpoint _server;
    RosterNonce _nonce{};
    std::string _request;     ///< what is left to write of the request

    std::string _received;
    EventLoop::TimerId _timer = 0;
    Callback _done;
};

} // namespace peerchat
