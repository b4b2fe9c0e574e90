#pragma once

#include "Directory.h"
#include "DropCounter.h"
#include "Endpoint.h"
#include "EventLoop.h"
#include "RosterCodec.h"
#include "RosterSlots.h"

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace peerchat {

/// One TCP roster port of the seed's (legacy mode): every connection is sent
/// the seed and .NET users online in the Directory, in one RosterFormat,
/// written as fast as the client reads, then closed. peerchat/3 users are
/// never listed: their presence goes to their contacts only. The stream is
/// encoded once per change of the directory.
/// Runs on the EventLoop and never blocks it.
///
/// Clients that connect and never read must not keep readers out (RosterSlots):
/// at most Limits::connections are served at once, at most Limits::perAddress
/// of them from one source address (more from that address are refused:
/// closed at once, unread). When every slot is held, a new connection takes
/// the slot of the one that has taken nothing for longest, once that is
/// Limits::stallAfter; otherwise new connections wait in the listen backlog.
/// Each connection gets Limits::deadline to take its whole roster. Refused
/// and cut connections are logged at debug level each, and as one summary
/// line (a warning) per Limits::reportEvery.
class RosterListener
{
public:
    struct Limits
    {
        std::size_t connections;                    ///< served at once
        std::size_t perAddress;                     ///< served at once from one source address
        std::chrono::milliseconds deadline;         ///< to take the whole roster
        std::chrono::milliseconds reportEvery;      ///< between summaries of refused and cut connections
        /// A connection that has taken nothing for this long has stalled:
        /// long enough for a reader far away, or one that lost a packet, to
        /// take more (a few round trips, a retransmission or two).
        std::chrono::milliseconds stallAfter{500};
    };

    /// Told the source address of each connection accepted.
    using ConnectionObserver = std::function<void(const Poco::Net::IPAddress&)>;

    /// Binds and listens on bindAddress (port 0: ephemeral); throws
    /// Poco::Net::NetException when the address cannot be bound. onConnection,
    /// unless empty, is called with the source address of every connection
    /// accepted (refused ones too), before anything is written to it: the
    /// roster that connection reads already shows what onConnection changed
    /// in the directory.
    RosterListener(EventLoop& loop, const Directory& directory, RosterFormat format,
                   const Poco::Net::SocketAddress& bindAddress, const Limits& limits, ConnectionObserver onConnection);
    ~RosterListener();
    RosterListener(const RosterListener&) = delete;
    RosterListener& operator=(const RosterListener&) = delete;

    /// The bound port (the real one when bound to 0).
    std::uint16_t port() const;

    /// Connections being served now.
    std::size_t openConnections() const { return _connections.size(); }

    /// The connections refused (DropReason::Refused: over the per-address
    /// limit) and cut (DropReason::Slow) so far.
    const DropCounter& drops() const { return _drops; }

private:
    using Clock = std::chrono::steady_clock;

    struct Connection
    {
        Poco::Net::StreamSocket socket;
        Endpoint peer;
        std::shared_ptr<const std::string> roster;  ///< the stream as of the directory when it connected
        std::size_t sent = 0;                       ///< of roster
        EventLoop::TimerId deadline = 0;
    };

    void onAcceptable();
    /// Refuses or serves a connection just accepted.
    void admit(Poco::Net::StreamSocket socket, const Poco::Net::SocketAddress& peer);
    void refuse(Poco::Net::StreamSocket& socket, const Endpoint& peer, const std::string& why);
    /// Writes what the socket takes; true when the connection is finished with.
    bool writeSome(Connection& connection);
    void onReady(std::uint64_t id);
    /// Closes connection id with a reset, counted as too slow for why.
    void cut(std::uint64_t id, const std::string& why);
    void finish(std::uint64_t id);
    void pauseAccepting();
    void resumeAccepting();
    /// Stops accepting until the slot held longest without progress stalls.
    void waitForStall();
    void scheduleReport();
    /// The stream of the directory's legacySnapshot() now.
    std::shared_ptr<const std::string> currentRoster();
    int listenFd() const;

    EventLoop& _loop;
    const Directory& _directory;
    RosterFormat _format;
    Limits _limits;
    ConnectionObserver _onConnection;
    Poco::Net::ServerSocket _socket;
    bool _accepting = false;
    EventLoop::TimerId _retryTimer = 0;
    EventLoop::TimerId _stallTimer = 0;
    EventLoop::TimerId _reportTimer = 0;
    RosterSlots _slots;
    DropCounter _drops{"connection"};
    std::unordered_map<std::uint64_t, Connection> _connections;
    std::uint64_t _nextId = 1;
    std::shared_ptr<const std::string> _roster;
    std::uint64_t _rosterVersion = 0;
};

} // namespace peerchat
