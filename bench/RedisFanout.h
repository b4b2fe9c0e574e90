#pragma once

#include "ContactGraph.h"
#include "DaemonProcess.h"
#include "RespParser.h"
#include "TempDir.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat::bench {

/// The Redis pub/sub reference of IndexScaleBench: presence fan-out over a
/// ContactGraph done by a private redis-server, as a plain pub/sub system
/// would do indexd's job. Each online user is subscribed to its contacts'
/// channels ("p:<user>"); a login, a state change or a logout is one
/// PUBLISH on the user's own channel, written pipelined through a few
/// publisher connections; deliveries are counted where the subscribers read
/// them, against the receivers Redis answers each PUBLISH with.
///
/// Users share subscriber connections, up to Options::usersPerConnection on
/// one, because a connection per user cannot run at scale where the
/// open-file limit is capped: 100,000 users would be 100,000 descriptors in
/// this process and as many in redis-server, and the machine this was
/// written on allows 20,000 to a process. Users share a connection only
/// when no two of them subscribe to the same channel, so Redis still holds
/// a subscription per user and answers a PUBLISH with one message per
/// subscribed user, each a message of its own on the wire; a message on a
/// connection belongs to the one user there subscribed to its channel, and
/// is counted for it. What sharing spares is Redis's own work: fewer
/// clients to keep and poll, and several messages in one socket write. The
/// reference gets, if anything, faster than with a connection per user:
/// a conservative reference to measure indexd against.
///
/// Every connection speaks RESP over a non-blocking socket, all of them in
/// one epoll loop: 14,000 connections are too many for a thread or a
/// blocking socket each.
class RedisFanout
{
public:
    struct Options
    {
        /// The most users on one subscriber connection: 100,000 users take
        /// about 14,300 connections, well within 20,000 descriptors.
        std::size_t usersPerConnection = 7;
        /// Subscriber connections not yet full that a user is tried against,
        /// oldest first, before it gets a connection of its own; when that
        /// makes one too many, the oldest stays as full as it is.
        std::size_t candidateConnections = 32;
        /// Connections every PUBLISH goes through.
        std::size_t publishers = 4;
        /// PUBLISHes written and not yet answered, over all publishers.
        std::size_t publishesInFlight = 1024;
        /// Users between starting their login and being subscribed; 1 logs
        /// them in one after another, as the index bench does.
        std::size_t loginsInFlight = 1;
        /// Users between UNSUBSCRIBE and its last confirmation.
        std::size_t logoutsInFlight = 256;
        /// A phase that has not converged after this long fails.
        std::chrono::seconds phaseTimeout{300};
        /// A phase in which no socket becomes ready for this long fails.
        std::chrono::seconds stallTimeout{20};
        /// How long redis-server may take to answer its first PING.
        std::chrono::seconds startTimeout{10};
    };

    /// The figures of one phase.
    struct Phase
    {
        std::string name;
        std::size_t publishes = 0;
        /// The receivers Redis answered the PUBLISHes with, summed.
        std::size_t expectedDeliveries = 0;
        /// The messages the subscribers read.
        std::size_t deliveries = 0;
        /// From the phase's first step until every user of it is done
        /// (subscribed, or unsubscribed) and every PUBLISH is answered.
        std::chrono::duration<double> wall{0};
        /// From the phase's first step until the last expected delivery was read.
        std::chrono::duration<double> convergence{0};
        /// CPU time redis-server used in the phase, user and system.
        std::chrono::milliseconds serverCpu{0};

        /// Deliveries per second until convergence.
        double deliveriesPerSecond() const;
    };

    struct Result
    {
        /// Logins, state changes, logouts.
        std::vector<Phase> phases;
        /// redis-server's resident memory (VmRSS) once every user is online.
        std::size_t serverResidentKiBAfterLogins = 0;
        /// How much the kernel's slab memory (/proc/meminfo) grew from the
        /// first connection to then: mostly the two sockets of each
        /// connection, but whatever else the machine does counts too.
        std::size_t kernelSlabGrowthKiBAfterLogins = 0;
    };

    /// A reference for the users of graph, which must outlive it: puts them
    /// on subscriber connections (first fit, see Options); start() starts
    /// its server. Throws std::invalid_argument when an option is zero, or
    /// publishesInFlight is below publishers.
    RedisFanout(const ContactGraph& graph, Options options);
    explicit RedisFanout(const ContactGraph& graph) : RedisFanout(graph, Options{}) {}
    /// Closes every connection and stops redis-server (SIGTERM, then SIGKILL
    /// when it has not exited within 10 s).
    ~RedisFanout();
    RedisFanout(const RedisFanout&) = delete;
    RedisFanout& operator=(const RedisFanout&) = delete;

    /// The subscriber connections the users were put on.
    std::size_t subscriberConnections() const { return _subscriberConnections; }
    /// How many subscriber connections hold each number of users: [n] is
    /// the number with n users on them, for n up to usersPerConnection.
    std::vector<std::size_t> connectionSizes() const;

    /// Raises this process's open-file limit to what the connections need,
    /// starts redis-server on 127.0.0.1 and a free port in a private
    /// directory, without persistence, and waits until it answers PING and
    /// admits that many clients. Throws std::runtime_error saying what to
    /// do when any of it fails.
    void start();

    /// Runs the three phases, each to convergence before the next: (1)
    /// logins: user 0, 1, ... subscribes to its contacts' channels on its
    /// connection (opened by the first of its users), waits for the
    /// confirmations and PUBLISHes "login"; (2) every user of stateChangers
    /// PUBLISHes "away"; (3) every user of leavers PUBLISHes "logout" and
    /// unsubscribes from its channels, and the last user of a connection to
    /// leave closes it. Once. Throws std::runtime_error, with the end of
    /// redis-server's log, when Redis refuses or drops a connection, sends a
    /// user what it did not subscribe to, a phase stalls or outlasts its
    /// timeout.
    Result run(const std::vector<std::uint32_t>& stateChangers, const std::vector<std::uint32_t>& leavers);

    /// The version of the installed redis-server ("7.0.15"), from its --version.
    static std::string serverVersion();

private:
    enum class Stage : std::uint8_t { Closed, Connecting, Subscriber, Publishing };
    enum class UserStage : std::uint8_t { Offline, Subscribing, Online, Leaving };
    enum class PhaseKind : std::uint8_t { Logins, StateChanges, Logouts };

    /// A simulated user: where it listens and how far its login or logout is.
    struct User
    {
        std::uint32_t connection = 0;
        UserStage stage = UserStage::Offline;
        /// Confirmations of its SUBSCRIBE or UNSUBSCRIBE still to come.
        std::uint32_t awaited = 0;
    };

    /// A channel subscribed on a connection, and the one user there it is for.
    struct Subscription
    {
        std::uint32_t channel;  ///< the user whose channel it is
        std::uint32_t subscriber;
    };

    /// A socket of the event loop: the subscriber connections first, then
    /// the publishers.
    struct Connection
    {
        int fd = -1;
        Stage stage = Stage::Closed;
        bool watchingWrites = false;
        /// PUBLISH answers still to come (a publisher's).
        std::uint32_t awaited = 0;
        /// Users logging in, online or logging out on it; the last to leave closes it.
        std::uint32_t members = 0;
        /// Users whose login waits for the connection to be made.
        std::vector<std::uint32_t> waiting;
        /// Ordered by channel; no channel twice, since no two users on a
        /// connection share one.
        std::vector<Subscription> subscriptions;
        RespParser parser;
        std::string output;  ///< what the socket has not taken yet
    };

    /// Puts each user on a subscriber connection, no two on one with a channel in common.
    void groupUsers();
    /// Raises RLIMIT_NOFILE (soft, and hard when allowed) to descriptors;
    /// throws saying what to do when it may not.
    void raiseOpenFileLimit(std::size_t descriptors) const;
    /// Connects to the server until it answers PING and returns its maxclients.
    std::size_t waitUntilServing();
    /// Sends command on a new connection and returns the answer's strings;
    /// throws on an error answer or when none comes before deadline.
    std::vector<std::string> ask(const std::vector<std::string>& command,
                                 std::chrono::steady_clock::time_point deadline) const;

    /// Runs one phase to convergence and returns its figures.
    Phase runPhase(PhaseKind kind, const char* payload, const std::vector<std::uint32_t>& users);
    /// Starts as many of the phase's users as the in-flight bounds allow.
    void startUsers();
    /// Starts user's login: on its connection, opened first when it is not.
    void logIn(std::uint32_t user);
    /// Writes user's SUBSCRIBE to its connection's output, which is made;
    /// a user without contacts is online at once.
    void subscribe(std::uint32_t user);
    /// Queues user's PUBLISH of "logout" and writes its UNSUBSCRIBE.
    void logOut(std::uint32_t user);
    /// Opens connection id.
    void open(std::size_t id);
    /// Connection id finished connecting: its waiting users subscribe, a publisher writes.
    void connected(std::size_t id);
    /// Reads what connection id has and hands each complete frame to its handler.
    void readFrom(std::size_t id);
    /// The subscription of connection id to channel (as Redis names it); fails when there is none.
    std::vector<Subscription>::iterator subscriptionOf(std::size_t id, std::string_view channel);
    /// Connection id's subscription to channel is confirmed; a user's last puts it online.
    void handleSubscribed(std::size_t id, std::string_view channel);
    /// Connection id's subscription to channel is gone; a user's last logs it out.
    void handleUnsubscribed(std::size_t id, std::string_view channel);
    /// A publisher's PUBLISH reached receivers subscribers.
    void handlePublished(std::size_t id, long long receivers);
    /// User is online: its PUBLISH of "login" goes into the queue.
    void loggedIn(std::uint32_t user);
    /// User has left: its connection closes when it was the last there.
    void loggedOut(std::uint32_t user);
    /// Writes queued PUBLISHes to publishers with room, then flushes them.
    void publishQueued();
    /// Writes what the socket takes of connection id's output; watches for
    /// writability while some is left.
    void flush(std::size_t id);
    void watch(std::size_t id, bool writes);
    void close(std::size_t id);
    /// "subscriber connection 12" or "publisher connection 2", for an error message.
    std::string describeConnection(std::size_t id) const;
    /// Throws std::runtime_error with what and the end of redis-server's log.
    [[noreturn]] void fail(const std::string& what) const;
    /// Where the phase stands, for an error message.
    std::string progress() const;

    const ContactGraph& _graph;
    Options _options;
    std::vector<User> _users;
    std::size_t _subscriberConnections = 0;
    test::TempDir _dir;
    std::unique_ptr<test::DaemonProcess> _server;
    std::uint16_t _port = 0;
    bool _ran = false;

    int _epoll = -1;
    std::vector<Connection> _connections;

    PhaseKind _kind = PhaseKind::Logins;
    std::string _payload;
    const std::vector<std::uint32_t>* _phaseUsers = nullptr;
    std::size_t _nextUser = 0;   ///< the next of the phase's users to start
    std::size_t _underWay = 0;   ///< users started and not yet done
    std::size_t _done = 0;       ///< users done
    std::deque<std::uint32_t> _queued;  ///< users whose PUBLISH is not written yet
    std::size_t _inFlight = 0;
    std::size_t _nextPublisher = 0;
    Phase _phase;
};

} // namespace peerchat::bench
