#include "RedisFanout.h"

#include "SystemProgram.h"
#include "Wait.h"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <numeric>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace peerchat::bench {

namespace {

using Clock = std::chrono::steady_clock;
using RespType = RespParser::Value::Type;

constexpr std::string_view channelPrefix = "p:";

void appendArrayHeader(std::string& out, std::size_t elements)
{
    out += '*';
    out += std::to_string(elements);
    out += "\r\n";
}

void appendBulk(std::string& out, std::string_view text)
{
    out += '$';
    out += std::to_string(text.size());
    out += "\r\n";
    out += text;
    out += "\r\n";
}

std::string channelOf(std::uint32_t user)
{
    return std::string(channelPrefix) + std::to_string(user);
}

// Writes command (SUBSCRIBE, UNSUBSCRIBE) with the channels of contacts to out.
void appendChannelCommand(std::string& out, std::string_view command, const ContactGraph::Contacts& contacts)
{
    appendArrayHeader(out, contacts.size() + 1);
    appendBulk(out, command);
    for (const std::uint32_t contact : contacts) appendBulk(out, channelOf(contact));
}

// The kernel's slab memory in KiB (Slab of /proc/meminfo), where it keeps
// sockets and their descriptors; 0 when unreadable.
std::size_t kernelSlabKiB()
{
    std::ifstream meminfo("/proc/meminfo");
    std::string word;
    while (meminfo >> word) {
        if (word == "Slab:") {
            std::size_t kib = 0;
            meminfo >> kib;
            return kib;
        }
    }
    return 0;
}

// How many ports the kernel picks connect()'s source port from.
std::size_t ephemeralPorts()
{
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    std::size_t low = 32768;
    std::size_t high = 60999;
    range >> low >> high;
    return high >= low ? high - low + 1 : 1;
}

std::string lastLines(const std::string& log)
{
    constexpr std::size_t shown = 3000;
    if (log.size() <= shown) return log;
    const std::size_t lineStart = log.find('\n', log.size() - shown);
    return "...\n" + log.substr(lineStart == std::string::npos ? log.size() - shown : lineStart + 1);
}

std::string errorText(int error)
{
    return std::strerror(error);
}

} // namespace

double RedisFanout::Phase::deliveriesPerSecond() const
{
    return convergence.count() > 0 ? static_cast<double>(deliveries) / convergence.count() : 0.0;
}

RedisFanout::RedisFanout(const ContactGraph& graph, Options options) : _graph(graph), _options(options)
{
    if (_options.usersPerConnection == 0 || _options.candidateConnections == 0 || _options.publishers == 0
        || _options.publishesInFlight < _options.publishers || _options.loginsInFlight == 0
        || _options.logoutsInFlight == 0)
        throw std::invalid_argument("RedisFanout needs a user per connection, a candidate connection, a publisher, "
                                    "a PUBLISH in flight per publisher, and a login and a logout in flight");
    groupUsers();
}

RedisFanout::~RedisFanout()
{
    for (std::size_t id = 0; id < _connections.size(); ++id) close(id);
    if (_epoll >= 0) ::close(_epoll);
    if (_server && _server->running()) {
        _server->signal(SIGTERM);
        _server->waitExit(std::chrono::seconds(10));
    }
}

// First fit, in user order, over the few connections not yet full. Marking
// the user's contacts first makes "shares no channel" one look per channel
// of a candidate (at most usersPerConnection x degree of them).
void RedisFanout::groupUsers()
{
    struct Candidate
    {
        std::uint32_t connection;
        std::size_t members;
        std::vector<std::uint32_t> channels;
    };
    std::vector<Candidate> candidates;
    // markedBy[c] == user + 1 while user is placed: c is one of its channels.
    std::vector<std::uint32_t> markedBy(_graph.size(), 0);
    _users.assign(_graph.size(), User{});
    std::uint32_t connections = 0;
    for (std::uint32_t user = 0; user < _graph.size(); ++user) {
        const ContactGraph::Contacts contacts = _graph.contactsOf(user);
        for (const std::uint32_t contact : contacts) markedBy[contact] = user + 1;
        auto chosen = std::find_if(candidates.begin(), candidates.end(), [&](const Candidate& candidate) {
            return std::none_of(candidate.channels.begin(), candidate.channels.end(),
                                [&](std::uint32_t channel) { return markedBy[channel] == user + 1; });
        });
        if (chosen == candidates.end()) {
            if (candidates.size() == _options.candidateConnections) candidates.erase(candidates.begin());
            candidates.push_back(Candidate{connections++, 0, {}});
            chosen = std::prev(candidates.end());
        }
        _users[user].connection = chosen->connection;
        chosen->channels.insert(chosen->channels.end(), contacts.begin(), contacts.end());
        if (++chosen->members == _options.usersPerConnection) candidates.erase(chosen);
    }
    _subscriberConnections = connections;
}

std::vector<std::size_t> RedisFanout::connectionSizes() const
{
    std::vector<std::size_t> members(_subscriberConnections, 0);
    for (const User& user : _users) ++members[user.connection];
    std::vector<std::size_t> sizes(_options.usersPerConnection + 1, 0);
    for (const std::size_t count : members) ++sizes[count];
    return sizes;
}

std::string RedisFanout::serverVersion()
{
    const std::string binary = test::systemProgram("redis-server", "redis-server");
    Poco::Pipe output;
    Poco::ProcessHandle process = Poco::Process::launch(binary, {"--version"}, nullptr, &output, nullptr);
    // Its line fits in the pipe: it exits without waiting for a reader.
    if (!test::waitUntil([&] { return process.tryWait() != -1; }, std::chrono::seconds(10))) {
        Poco::Process::kill(process);
        throw std::runtime_error(binary + " --version did not exit within 10 s");
    }
    Poco::PipeInputStream stream(output);
    std::string text;
    Poco::StreamCopier::copyToString(stream, text);
    const std::size_t at = text.find(" v=");
    if (at == std::string::npos)
        throw std::runtime_error("cannot read the version of " + binary + " from its --version: " + text);
    const std::size_t start = at + 3;
    return text.substr(start, text.find(' ', start) - start);
}

void RedisFanout::raiseOpenFileLimit(std::size_t descriptors) const
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        throw std::runtime_error("cannot read the open-file limit: " + errorText(errno));
    if (limit.rlim_cur >= descriptors) return;
    // Root may raise the hard limit too, up to /proc/sys/fs/nr_open.
    const rlimit wanted{descriptors, std::max<rlim_t>(limit.rlim_max, descriptors)};
    if (::setrlimit(RLIMIT_NOFILE, &wanted) == 0) return;
    const int error = errno;
    std::size_t kernelMaximum = 0;
    std::ifstream("/proc/sys/fs/nr_open") >> kernelMaximum;
    const std::string need = std::to_string(descriptors);
    std::string remedy;
    if (kernelMaximum > 0 && descriptors > kernelMaximum)
        remedy = "the kernel allows at most " + std::to_string(kernelMaximum) + " (sysctl fs.nr_open=" + need + ")";
    else if (::geteuid() == 0)
        remedy = "it runs as root but without CAP_SYS_RESOURCE (in a container?), so it cannot raise its hard "
                 "limit; start it where the hard limit is at least " + need + " (docker run --ulimit nofile="
                 + need + ":" + need + ", systemd LimitNOFILE=" + need + ")";
    else
        remedy = "run it as root, or raise the hard limit first (ulimit -Hn " + need + ")";
    throw std::runtime_error("the Redis reference needs " + need + " open files for " + std::to_string(_users.size())
                             + " users on " + std::to_string(_subscriberConnections)
                             + " subscriber connections (up to " + std::to_string(_options.usersPerConnection)
                             + " on each) and " + std::to_string(_options.publishers)
                             + " publishers, and redis-server as many, but may hold only "
                             + std::to_string(limit.rlim_max) + " (" + errorText(error) + "): " + remedy
                             + "; or put more users on a connection (RedisFanout::Options::usersPerConnection)");
}

void RedisFanout::start()
{
    if (_server) throw std::logic_error("RedisFanout::start: redis-server is already running");
    const std::size_t connections = _subscriberConnections + _options.publishers;
    // Every connection, the event loop and a margin. redis-server inherits the
    // limit and keeps 32 descriptors beside its clients, which the margin
    // covers too.
    raiseOpenFileLimit(connections + 64);
    // Every connection goes from 127.0.0.1 to one port of redis-server: each
    // needs a source port of its own, and so do ask()'s, which wait in
    // TIME_WAIT for a minute after they close.
    const std::size_t ports = ephemeralPorts();
    if (connections + 64 > ports)
        throw std::runtime_error("the Redis reference needs " + std::to_string(connections)
                                 + " connections from 127.0.0.1 to one port, more than the " + std::to_string(ports)
                                 + " source ports of net.ipv4.ip_local_port_range leave: widen the range, or put "
                                   "more users on a connection (RedisFanout::Options::usersPerConnection)");
    const std::size_t clients = connections + 16;
    // A port that was free a moment ago; should another program take it
    // first, redis-server says so in its log and exits, and start() fails.
    _port = Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)).address().port();
    const std::string binary = test::systemProgram("redis-server", "redis-server");
    _server = std::make_unique<test::DaemonProcess>(
        binary, std::vector<std::string>{"--port", std::to_string(_port), "--bind", "127.0.0.1", "--protected-mode",
                                         "no", "--save", "", "--appendonly", "no", "--dir", _dir.path(),
                                         "--maxclients", std::to_string(clients)});
    _server->start();
    const std::size_t admitted = waitUntilServing();
    if (admitted < clients)
        fail("redis-server admits " + std::to_string(admitted) + " clients, not the " + std::to_string(clients)
             + " asked for: it could not raise its open-file limit (see its log)");
}

std::size_t RedisFanout::waitUntilServing()
{
    const auto deadline = Clock::now() + _options.startTimeout;
    while (true) {
        if (!_server->running()) fail("redis-server exited before it answered PING");
        try {
            if (ask({"PING"}, deadline) == std::vector<std::string>{"PONG"}) break;
        } catch (const Poco::Net::ConnectionRefusedException&) {
            // Not listening yet.
        }
        if (Clock::now() >= deadline)
            fail("redis-server did not answer PING within " + std::to_string(_options.startTimeout.count()) + " s");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::vector<std::string> maxclients = ask({"CONFIG", "GET", "maxclients"}, deadline);
    std::size_t admitted = 0;
    if (maxclients.size() != 2 || std::from_chars(maxclients[1].data(), maxclients[1].data() + maxclients[1].size(),
                                                  admitted).ec != std::errc())
        fail("redis-server answered CONFIG GET maxclients with something else than its value");
    return admitted;
}

std::vector<std::string> RedisFanout::ask(const std::vector<std::string>& command, Clock::time_point deadline) const
{
    const auto microseconds = [&] {
        return static_cast<Poco::Timespan::TimeDiff>(test::timeLeft(deadline).count()) * 1000;
    };
    try {
        Poco::Net::StreamSocket socket;
        socket.connect(Poco::Net::SocketAddress("127.0.0.1", _port), Poco::Timespan(microseconds()));
        std::string request;
        appendArrayHeader(request, command.size());
        for (const std::string& argument : command) appendBulk(request, argument);
        socket.setSendTimeout(Poco::Timespan(microseconds()));
        for (std::size_t sent = 0; sent < request.size();) {
            const int wrote = socket.sendBytes(request.data() + sent, static_cast<int>(request.size() - sent));
            if (wrote <= 0) fail("cannot send " + command[0] + " to redis-server");
            sent += static_cast<std::size_t>(wrote);
        }

        RespParser parser;
        char buffer[4096];
        while (true) {
            RespParser::Frame frame;
            const RespParser::Status status = parser.next(frame);
            if (status == RespParser::Status::Malformed)
                fail("redis-server answered " + command[0] + " with something else than RESP: " + parser.reason());
            if (status == RespParser::Status::Complete) {
                if (frame.head.type == RespType::Error)
                    fail("redis-server refused " + command[0] + ": " + std::string(frame.head.text));
                if (frame.head.type != RespType::Array) return {std::string(frame.head.text)};
                std::vector<std::string> items;
                for (std::size_t i = 0; i < static_cast<std::size_t>(frame.head.integer); ++i)
                    items.emplace_back(frame.items[i].text);
                return items;
            }
            if (microseconds() == 0) throw Poco::TimeoutException();
            socket.setReceiveTimeout(Poco::Timespan(microseconds()));
            const int got = socket.receiveBytes(buffer, sizeof buffer);
            if (got <= 0) fail("redis-server closed the connection without answering " + command[0]);
            parser.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
        }
    } catch (const Poco::Net::ConnectionRefusedException&) {
        // Not listening yet, maybe: waitUntilServing() tries again.
        throw;
    } catch (const Poco::TimeoutException&) {
        fail("redis-server did not answer " + command[0] + " in time");
    } catch (const Poco::Exception& e) {
        fail("cannot ask redis-server " + command[0] + ": " + e.displayText());
    }
}

RedisFanout::Result RedisFanout::run(const std::vector<std::uint32_t>& stateChangers,
                                     const std::vector<std::uint32_t>& leavers)
{
    if (!_server) throw std::logic_error("RedisFanout::run before start()");
    if (_ran) throw std::logic_error("RedisFanout::run runs once");
    _ran = true;
    std::vector<bool> leaving(_graph.size(), false);
    for (const std::uint32_t user : leavers) {
        if (user >= _graph.size() || leaving[user])
            throw std::invalid_argument("user " + std::to_string(user) + " cannot log out: there is no such user "
                                        "or it logs out twice");
        leaving[user] = true;
    }
    for (const std::uint32_t user : stateChangers) {
        if (user >= _graph.size()) throw std::invalid_argument("there is no user " + std::to_string(user));
    }

    const std::size_t slabBefore = kernelSlabKiB();
    _epoll = ::epoll_create1(EPOLL_CLOEXEC);
    if (_epoll < 0) fail("epoll_create1: " + errorText(errno));
    _connections.resize(_subscriberConnections + _options.publishers);
    for (std::size_t id = _subscriberConnections; id < _connections.size(); ++id) open(id);

    std::vector<std::uint32_t> everyone(_graph.size());
    std::iota(everyone.begin(), everyone.end(), 0u);
    Result result;
    result.phases.push_back(runPhase(PhaseKind::Logins, "login", everyone));
    result.serverResidentKiBAfterLogins = _server->residentKiB();
    const std::size_t slabAfter = kernelSlabKiB();
    result.kernelSlabGrowthKiBAfterLogins = slabAfter > slabBefore ? slabAfter - slabBefore : 0;
    result.phases.push_back(runPhase(PhaseKind::StateChanges, "away", stateChangers));
    result.phases.push_back(runPhase(PhaseKind::Logouts, "logout", leavers));

    for (std::size_t id = 0; id < _connections.size(); ++id) close(id);
    ::close(_epoll);
    _epoll = -1;
    _phaseUsers = nullptr;
    return result;
}

RedisFanout::Phase RedisFanout::runPhase(PhaseKind kind, const char* payload, const std::vector<std::uint32_t>& users)
{
    static const char* const names[] = {"logins", "state changes", "logouts"};
    _kind = kind;
    _payload = payload;
    _phaseUsers = &users;
    _nextUser = 0;
    _underWay = 0;
    _queued.clear();
    _phase = Phase{};
    _phase.name = names[static_cast<std::size_t>(kind)];
    // A state change is nothing but its PUBLISH: every user of the phase starts and is done at once.
    _done = kind == PhaseKind::StateChanges ? users.size() : 0;
    if (kind == PhaseKind::StateChanges) _queued.assign(users.begin(), users.end());

    const std::chrono::milliseconds cpuBefore = _server->cpuTime();
    const auto start = Clock::now();
    const auto deadline = start + _options.phaseTimeout;
    auto lastEvent = start;
    bool wallTaken = false;
    std::vector<epoll_event> events(1024);
    while (true) {
        startUsers();
        publishQueued();
        const bool finished = _done == users.size() && _queued.empty() && _inFlight == 0;
        if (finished && !wallTaken) {
            _phase.wall = Clock::now() - start;
            wallTaken = true;
        }
        if (finished && _phase.deliveries == _phase.expectedDeliveries) break;
        if (finished && _phase.deliveries > _phase.expectedDeliveries)
            fail("the subscribers read more messages than Redis reported receivers");

        const auto waitLeft = test::timeLeft(std::min(deadline, lastEvent + _options.stallTimeout));
        if (waitLeft.count() == 0) {
            if (Clock::now() >= deadline)
                fail("the phase did not converge within " + std::to_string(_options.phaseTimeout.count()) + " s");
            fail("the phase stalled: no socket became ready for " + std::to_string(_options.stallTimeout.count())
                 + " s");
        }
        const int ready = ::epoll_wait(_epoll, events.data(), static_cast<int>(events.size()),
                                       static_cast<int>(waitLeft.count()));
        if (ready < 0) {
            if (errno == EINTR) continue;
            fail("epoll_wait: " + errorText(errno));
        }
        if (ready > 0) lastEvent = Clock::now();
        for (std::size_t i = 0; i < static_cast<std::size_t>(ready); ++i) {
            const auto id = static_cast<std::size_t>(events[i].data.u64);
            const std::uint32_t flags = events[i].events;
            // An earlier event of this batch may have closed it.
            if (_connections[id].fd < 0) continue;
            if (_connections[id].stage == Stage::Connecting) {
                connected(id);
                continue;
            }
            if (flags & (EPOLLIN | EPOLLERR | EPOLLHUP)) readFrom(id);
            if (_connections[id].fd >= 0 && (flags & EPOLLOUT)) flush(id);
        }
    }
    _phase.convergence = Clock::now() - start;
    _phase.serverCpu = _server->cpuTime() - cpuBefore;
    return _phase;
}

void RedisFanout::startUsers()
{
    if (_kind == PhaseKind::StateChanges) return;
    const std::vector<std::uint32_t>& users = *_phaseUsers;
    const std::size_t bound = _kind == PhaseKind::Logins ? _options.loginsInFlight : _options.logoutsInFlight;
    while (_underWay < bound && _nextUser < users.size()) {
        const std::uint32_t user = users[_nextUser++];
        // Counted before it starts: a user without contacts is done at once.
        ++_underWay;
        if (_kind == PhaseKind::Logins)
            logIn(user);
        else
            logOut(user);
    }
}

void RedisFanout::logIn(std::uint32_t user)
{
    User& state = _users[user];
    if (state.stage != UserStage::Offline) fail("user " + std::to_string(user) + " logs in twice");
    state.stage = UserStage::Subscribing;
    Connection& connection = _connections[state.connection];
    ++connection.members;
    if (connection.stage == Stage::Closed) open(state.connection);
    if (connection.stage == Stage::Connecting) {
        connection.waiting.push_back(user);
        return;
    }
    subscribe(user);
    flush(state.connection);
}

void RedisFanout::subscribe(std::uint32_t user)
{
    User& state = _users[user];
    const ContactGraph::Contacts contacts = _graph.contactsOf(user);
    if (contacts.empty()) {
        // SUBSCRIBE needs a channel: a user without contacts is online once its connection is made.
        state.stage = UserStage::Online;
        loggedIn(user);
        return;
    }
    Connection& connection = _connections[state.connection];
    for (const std::uint32_t contact : contacts) {
        const auto at = std::lower_bound(
            connection.subscriptions.begin(), connection.subscriptions.end(), contact,
            [](const Subscription& subscription, std::uint32_t channel) { return subscription.channel < channel; });
        // Redis would hold one subscription for both users, and write one message where two are due.
        if (at != connection.subscriptions.end() && at->channel == contact)
            fail("users " + std::to_string(at->subscriber) + " and " + std::to_string(user) + " share "
                 + describeConnection(state.connection) + " and channel " + channelOf(contact)
                 + ": the users were grouped wrong");
        connection.subscriptions.insert(at, Subscription{contact, user});
    }
    state.awaited = static_cast<std::uint32_t>(contacts.size());
    appendChannelCommand(connection.output, "SUBSCRIBE", contacts);
}

void RedisFanout::logOut(std::uint32_t user)
{
    User& state = _users[user];
    if (state.stage != UserStage::Online) fail("user " + std::to_string(user) + " is not online to log out");
    _queued.push_back(user);
    const ContactGraph::Contacts contacts = _graph.contactsOf(user);
    if (contacts.empty()) {
        loggedOut(user);
        return;
    }
    // Unsubscribing first, rather than leaving at once, lets the user read
    // every message Redis already counted for it: each channel's confirmation
    // comes after them. The channels are named, since a bare UNSUBSCRIBE
    // would end the subscriptions of the connection's other users too.
    state.stage = UserStage::Leaving;
    state.awaited = static_cast<std::uint32_t>(contacts.size());
    appendChannelCommand(_connections[state.connection].output, "UNSUBSCRIBE", contacts);
    flush(state.connection);
}

void RedisFanout::open(std::size_t id)
{
    Connection& connection = _connections[id];
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("cannot open " + describeConnection(id) + ": " + errorText(errno));
    connection.fd = fd;
    connection.stage = Stage::Connecting;
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server.sin_port = htons(_port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0 && errno != EINPROGRESS)
        fail("cannot connect " + describeConnection(id) + " to redis-server: " + errorText(errno));
    // Writability tells when the connection is made.
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT;
    event.data.u64 = id;
    if (::epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &event) != 0) fail("epoll_ctl: " + errorText(errno));
    connection.watchingWrites = true;
}

void RedisFanout::connected(std::size_t id)
{
    Connection& connection = _connections[id];
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) fail(describeConnection(id) + " to redis-server failed: " + errorText(error));
    if (id >= _subscriberConnections) {
        connection.stage = Stage::Publishing;
        flush(id);
        return;
    }
    connection.stage = Stage::Subscriber;
    std::vector<std::uint32_t> waiting;
    waiting.swap(connection.waiting);
    for (const std::uint32_t user : waiting) subscribe(user);
    flush(id);
}

void RedisFanout::readFrom(std::size_t id)
{
    Connection& connection = _connections[id];
    const bool publisher = id >= _subscriberConnections;
    char buffer[65536];
    // A few reads at most: the other connections get their turn, and level-triggered epoll brings this one back.
    for (int reads = 0; reads < 4; ++reads) {
        const ssize_t got = ::recv(connection.fd, buffer, sizeof buffer, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            fail("reading " + describeConnection(id) + " from redis-server: " + errorText(errno));
        }
        if (got == 0) {
            // When it died, the kernel closed its sockets just before it became a zombie to reap.
            if (test::waitUntil([&] { return !_server->running(); }, std::chrono::milliseconds(200)))
                fail("redis-server exited, closing " + describeConnection(id));
            fail("redis-server closed " + describeConnection(id)
                 + " (its maxclients, or its pub/sub output buffer limit?)");
        }

        connection.parser.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
        RespParser::Frame frame;
        RespParser::Status status = RespParser::Status::Complete;
        while ((status = connection.parser.next(frame)) == RespParser::Status::Complete) {
            if (publisher) {
                if (frame.head.type != RespType::Integer)
                    fail("redis-server answered a PUBLISH with " + frame.describe());
                handlePublished(id, frame.head.integer);
            } else if (frame.isPush("message", RespType::Bulk)) {
                const std::uint32_t user = subscriptionOf(id, frame.items[1].text)->subscriber;
                if (frame.items[2].text != _payload)
                    fail("user " + std::to_string(user) + " read " + frame.describe() + " in the " + _phase.name
                         + " phase");
                ++_phase.deliveries;
            } else if (frame.isPush("subscribe", RespType::Integer)) {
                handleSubscribed(id, frame.items[1].text);
            } else if (frame.isPush("unsubscribe", RespType::Integer)) {
                handleUnsubscribed(id, frame.items[1].text);
            } else {
                fail("redis-server sent " + describeConnection(id) + " " + frame.describe());
            }
            // Its last user is gone: nothing comes after the last unsubscribe confirmation.
            if (connection.fd < 0) return;
        }
        if (status == RespParser::Status::Malformed)
            fail("redis-server sent " + describeConnection(id) + " something else than RESP: "
                 + connection.parser.reason());
        if (static_cast<std::size_t>(got) < sizeof buffer) return;
    }
}

std::vector<RedisFanout::Subscription>::iterator RedisFanout::subscriptionOf(std::size_t id, std::string_view channel)
{
    std::vector<Subscription>& subscriptions = _connections[id].subscriptions;
    if (channel.substr(0, channelPrefix.size()) == channelPrefix) {
        const std::string_view digits = channel.substr(channelPrefix.size());
        std::uint32_t owner = 0;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), owner);
        const auto at = std::lower_bound(
            subscriptions.begin(), subscriptions.end(), owner,
            [](const Subscription& subscription, std::uint32_t wanted) { return subscription.channel < wanted; });
        if (error == std::errc() && end == digits.data() + digits.size() && at != subscriptions.end()
            && at->channel == owner)
            return at;
    }
    fail("redis-server sent " + describeConnection(id) + " a push on channel \"" + std::string(channel)
         + "\", which no user there subscribed to");
}

void RedisFanout::handleSubscribed(std::size_t id, std::string_view channel)
{
    const std::uint32_t user = subscriptionOf(id, channel)->subscriber;
    User& state = _users[user];
    if (state.stage != UserStage::Subscribing || state.awaited == 0)
        fail("user " + std::to_string(user) + " got a confirmation of its subscription to " + std::string(channel)
             + " it did not ask for");
    if (--state.awaited > 0) return;
    state.stage = UserStage::Online;
    loggedIn(user);
}

void RedisFanout::handleUnsubscribed(std::size_t id, std::string_view channel)
{
    const auto subscription = subscriptionOf(id, channel);
    const std::uint32_t user = subscription->subscriber;
    User& state = _users[user];
    if (state.stage != UserStage::Leaving || state.awaited == 0)
        fail("user " + std::to_string(user) + " got a confirmation that it left " + std::string(channel)
             + " it did not ask for");
    _connections[id].subscriptions.erase(subscription);
    if (--state.awaited > 0) return;
    loggedOut(user);
}

void RedisFanout::handlePublished(std::size_t id, long long receivers)
{
    Connection& connection = _connections[id];
    if (connection.awaited == 0 || receivers < 0)
        fail("a publisher got an answer to no PUBLISH, or a negative one: " + std::to_string(receivers));
    --connection.awaited;
    --_inFlight;
    _phase.expectedDeliveries += static_cast<std::size_t>(receivers);
}

void RedisFanout::loggedIn(std::uint32_t user)
{
    _queued.push_back(user);
    --_underWay;
    ++_done;
}

void RedisFanout::loggedOut(std::uint32_t user)
{
    User& state = _users[user];
    state.stage = UserStage::Offline;
    if (--_connections[state.connection].members == 0) close(state.connection);
    --_underWay;
    ++_done;
}

void RedisFanout::publishQueued()
{
    const std::size_t first = _subscriberConnections;
    // The bound in flight is shared evenly, so that no publisher holds it all.
    const std::size_t room = (_options.publishesInFlight + _options.publishers - 1) / _options.publishers;
    std::size_t fullInARow = 0;
    while (!_queued.empty() && _inFlight < _options.publishesInFlight && fullInARow < _options.publishers) {
        Connection& publisher = _connections[first + _nextPublisher];
        _nextPublisher = (_nextPublisher + 1) % _options.publishers;
        if (publisher.awaited >= room) {
            ++fullInARow;
            continue;
        }
        fullInARow = 0;
        const std::uint32_t user = _queued.front();
        _queued.pop_front();
        appendArrayHeader(publisher.output, 3);
        appendBulk(publisher.output, "PUBLISH");
        appendBulk(publisher.output, channelOf(user));
        appendBulk(publisher.output, _payload);
        ++publisher.awaited;
        ++_inFlight;
        ++_phase.publishes;
    }
    for (std::size_t id = first; id < _connections.size(); ++id) {
        if (!_connections[id].output.empty()) flush(id);
    }
}

void RedisFanout::flush(std::size_t id)
{
    Connection& connection = _connections[id];
    // connected() flushes once the connection is made.
    if (connection.stage == Stage::Connecting) return;
    std::size_t sent = 0;
    while (sent < connection.output.size()) {
        const ssize_t wrote =
            ::send(connection.fd, connection.output.data() + sent, connection.output.size() - sent, MSG_NOSIGNAL);
        if (wrote > 0) {
            sent += static_cast<std::size_t>(wrote);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        fail("writing connection " + std::to_string(id) + " to redis-server: " + errorText(errno));
    }
    connection.output.erase(0, sent);
    // A subscriber connection writes a command now and then: 14,000 idle
    // buffers of a SUBSCRIBE's size would be memory held for nothing.
    if (connection.output.empty() && id < _subscriberConnections) std::string().swap(connection.output);
    watch(id, !connection.output.empty());
}

void RedisFanout::watch(std::size_t id, bool writes)
{
    Connection& connection = _connections[id];
    if (connection.watchingWrites == writes) return;
    epoll_event event{};
    event.events = EPOLLIN | (writes ? EPOLLOUT : 0u);
    event.data.u64 = id;
    if (::epoll_ctl(_epoll, EPOLL_CTL_MOD, connection.fd, &event) != 0) fail("epoll_ctl: " + errorText(errno));
    connection.watchingWrites = writes;
}

void RedisFanout::close(std::size_t id)
{
    Connection& connection = _connections[id];
    if (connection.fd < 0) return;
    // The epoll forgets the descriptor with its last close.
    ::close(connection.fd);
    connection.fd = -1;
    connection.stage = Stage::Closed;
    connection.watchingWrites = false;
    connection.parser.reset();
    std::string().swap(connection.output);
    std::vector<Subscription>().swap(connection.subscriptions);
}

std::string RedisFanout::describeConnection(std::size_t id) const
{
    if (id < _subscriberConnections) return "subscriber connection " + std::to_string(id);
    return "publisher connection " + std::to_string(id - _subscriberConnections);
}

std::string RedisFanout::progress() const
{
    if (_phaseUsers == nullptr) return {};
    return "In the " + _phase.name + " phase: " + std::to_string(_done) + " of " + std::to_string(_phaseUsers->size())
        + " users done, " + std::to_string(_queued.size()) + " PUBLISHes queued and " + std::to_string(_inFlight)
        + " unanswered, " + std::to_string(_phase.deliveries) + " of " + std::to_string(_phase.expectedDeliveries)
        + " expected deliveries read.\n";
}

void RedisFanout::fail(const std::string& what) const
{
    std::string message = "Redis reference: " + what + ".\n" + progress();
    if (_server) message += "The end of redis-server's log:\n" + lastLines(_server->log());
    throw std::runtime_error(message);
}

} // namespace peerchat::bench
