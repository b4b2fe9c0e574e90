#include "UiServer.h"

#include "Fingerprint.h"
#include "FreedMemory.h"
#include "LocalSocketPath.h"
#include "WireLink.h"

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace peerchat {

namespace {

// Most history bytes one subscribe sends, so that a reply alone stays well
// under a session's pending-bytes bound.
constexpr std::size_t kMaxHistoryBytes = UiSession::kMaxPendingBytes / 2;

// Most connections taken off the backlog per wake-up, so that a crowd of
// connecting clients cannot keep the loop from those already attached.
constexpr int kAcceptsPerWake = 32;
// How long the listener rests after accept() failed for want of descriptors
// or memory: poll would report the same waiting client again at once.
constexpr std::chrono::milliseconds kAcceptPause{100};
// How far the bytes queued for all clients must fall from their peak before
// the freed memory is worth giving back to the system, and how long after
// the fall to do it, so that a crowd of clients going costs one trim.
constexpr std::size_t kTrimAfterBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kTidyDelay{1000};

// bytes for a person: "32 MiB", "64 KiB", or "1000 bytes".
std::string describeBytes(std::size_t bytes)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
    if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
    return std::to_string(bytes) + " bytes";
}

// A descriptor on /dev/null that costs nothing to hold and can be given up at once.
int openSpare()
{
    return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

// The pid of the process listening on the Unix socket at path, or nullopt
// when nobody listens there (a stale file left by a peerd that died).
std::optional<pid_t> listenerPid(const std::string& path)
{
    Poco::Net::StreamSocket probe(Poco::Net::SocketAddress::UNIX_LOCAL);
    const Poco::Net::SocketAddress address(Poco::Net::SocketAddress::UNIX_LOCAL, path);
    const int fd = probe.impl()->sockfd();
    if (::connect(fd, address.addr(), address.length()) != 0) {
        if (errno == ECONNREFUSED || errno == ENOENT) return std::nullopt;
        throw Poco::IOException("cannot check " + path + " for a running peerd: " + std::strerror(errno));
    }
    ucred peer{};
    socklen_t length = sizeof peer;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) return pid_t{0};
    return peer.pid;
}

// Binds a listening Unix socket at path for user, replacing a stale socket file.
Poco::Net::ServerSocket claim(const std::string& user, const std::string& path)
{
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
        throw Poco::InvalidArgumentException("socket path " + path + " is longer than " +
                                             std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                             " bytes; pass a shorter --socket");
    }
    LocalSocketPath::ensureDirectory(path);
    struct stat status {};
    if (::lstat(path.c_str(), &status) == 0) {
        if (!S_ISSOCK(status.st_mode)) {
            throw Poco::IOException(path + " exists and is not a socket; remove it or pass another --socket");
        }
        UiServer::refuseIfServed(user, path);
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            throw Poco::IOException("cannot remove the stale socket " + path + ": " + std::strerror(errno));
        }
        Poco::Logger::get("peerd.ui").information("replaced the stale socket file " + path);
    }
    Poco::Net::ServerSocket listener;
    try {
        listener.bind(Poco::Net::SocketAddress(Poco::Net::SocketAddress::UNIX_LOCAL, path), false);
    } catch (const Poco::Exception& e) {
        throw Poco::IOException("cannot listen on " + path + ": " + e.displayText() + "; pass another --socket");
    }
    if (::chmod(path.c_str(), 0600) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(path.c_str());
        throw Poco::IOException("cannot make " + path + " private: " + why);
    }
    listener.listen();
    listener.setBlocking(false);
    return listener;
}

} // namespace

void UiServer::refuseIfServed(const std::string& user, const std::string& socketPath)
{
    struct stat status {};
    if (socketPath.size() >= sizeof(sockaddr_un::sun_path) || ::lstat(socketPath.c_str(), &status) != 0 ||
        !S_ISSOCK(status.st_mode))
        return;
    if (const auto pid = listenerPid(socketPath)) {
        std::string attach = "chatui --user " + user;
        if (socketPath != LocalSocketPath::defaultFor(user)) attach += " --socket " + socketPath;
        throw Poco::ExistsException("peerd for " + user + " is already running (pid " + std::to_string(*pid) +
                                    "); attach with " + attach);
    }
}

std::size_t UiServer::clientsTheLimitAllows()
{
    rlimit limit{};
    std::size_t descriptors = 1024;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        descriptors = static_cast<std::size_t>(std::min<rlim_t>(limit.rlim_cur, rlim_t{1} << 20));
    }
    return descriptors - std::min(kReservedDescriptors, descriptors / 2);
}

UiServer::Limits UiServer::defaultLimits()
{
    return Limits{0, kMaxBacklogBytes};
}

std::size_t UiServer::clientCap() const
{
    return _limits.clients != 0 ? _limits.clients : clientsTheLimitAllows();
}

UiServer::UiServer(EventLoop& loop, Roster& roster, LineStore& lines, const IncomingStreams& incoming, KeyPins& pins,
                   const PublicKey& identity, const std::string& user, const std::string& socketPath, Limits limits)
    : _loop(loop),
      _roster(roster),
      _lines(lines),
      _incoming(incoming),
      _pins(pins),
      _identity(identity),
      _user(user),
      _path(socketPath),
      _listener(claim(user, socketPath)),
      _listening(true),
      _limits(limits),
      _spare(openSpare()),
      _logger(Poco::Logger::get("peerd.ui"))
{
}

UiServer::~UiServer()
{
    stop("peerd is shutting down");
}

void UiServer::serve(WireLink& wire)
{
    _wire = &wire;
    watchListener();
}

void UiServer::watchListener()
{
    _loop.watch(_listener.impl()->sockfd(), EventLoop::Readable, [this](short) { acceptClients(); });
}

void UiServer::acceptClients()
{
    for (int i = 0; i < kAcceptsPerWake; ++i) {
        Poco::Net::StreamSocket socket;
        try {
            socket = _listener.acceptConnection();
        } catch (const Poco::Exception& e) {
            if (e.code() == EAGAIN || e.code() == EWOULDBLOCK) return;
            if (e.code() == ECONNABORTED) continue;
            acceptFailed(e);
            return;
        }
        if (!fromOwnUid(socket)) continue;
        if (_attached >= clientCap()) {
            refuse(socket, Refusal::TooManyClients);
            continue;
        }
        attach(std::move(socket));
    }
}

void UiServer::acceptFailed(const Poco::Exception& e)
{
    if (e.code() == EMFILE) {
        shedWaitingClients(Refusal::OutOfDescriptors);
    } else if (e.code() == ENFILE) {
        shedWaitingClients(Refusal::SystemOutOfDescriptors);
    } else {
        _logger.debug("accept: " + e.displayText() + "; pausing for " + std::to_string(kAcceptPause.count()) + " ms");
    }
    pauseAccepting();
}

void UiServer::shedWaitingClients(Refusal refusal)
{
    if (_spare < 0) return;
    ::close(_spare);
    for (int i = 0; i < kAcceptsPerWake; ++i) {
        Poco::Net::StreamSocket socket;
        try {
            socket = _listener.acceptConnection();
        } catch (const Poco::Exception&) {
            break;
        }
        if (fromOwnUid(socket)) refuse(socket, refusal);
    }
    _spare = openSpare();
}

void UiServer::pauseAccepting()
{
    if (_acceptTimer != 0 || !_listening) return;
    _loop.unwatch(_listener.impl()->sockfd());
    _acceptTimer = _loop.runAfter(kAcceptPause, [this] {
        _acceptTimer = 0;
        if (_listening) watchListener();
    });
}

bool UiServer::fromOwnUid(Poco::Net::StreamSocket& socket)
{
    // The socket's mode keeps other users out only as long as nobody loosens
    // it or its directory; the kernel's word on who connected does not depend on that.
    ucred peer{};
    socklen_t length = sizeof peer;
    if (::getsockopt(socket.impl()->sockfd(), SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
        _logger.warning(std::string("refused a local client whose uid the kernel does not tell: ") +
                        std::strerror(errno));
        socket.close();
        return false;
    }
    if (peer.uid != ::geteuid()) {
        _logger.warning("refused a local client of uid " + std::to_string(peer.uid) + " (pid " +
                        std::to_string(peer.pid) + "): only uid " + std::to_string(::geteuid()) + " may attach");
        socket.close();
        return false;
    }
    return true;
}

void UiServer::attach(Poco::Net::StreamSocket socket)
{
    if (_refusing) {
        _logger.information("taking local clients again, after refusing " + std::to_string(_refusedSinceAttach));
        _refusing.reset();
        _refusedSinceAttach = 0;
    }
    const std::uint64_t id = _nextSessionId++;
    ++_attached;
    _sessions.emplace(id, std::make_unique<UiSession>(*this, _loop, std::move(socket), id));
    _logger.debug("UI client " + std::to_string(id) + " attached");
}

void UiServer::refuse(Poco::Net::StreamSocket& socket, Refusal refusal)
{
    const std::string message = refusalMessage(refusal);
    // One line per episode, not per client: a script can open clients faster than anyone reads a log.
    if (_refusing != refusal) {
        _logger.warning("refusing new local clients: " + message);
        _refusing = refusal;
    }
    ++_refusedSinceAttach;
    _logger.debug("refused a local client: " + message);
    // Instead of the welcome, the one line such a client gets, if its socket has room for it.
    const std::string line = local::LocalProtocol::encodeEvent(local::ErrorEvent{"", message});
    [[maybe_unused]] const ssize_t n =
        ::send(socket.impl()->sockfd(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    socket.close();
}

std::string UiServer::refusalMessage(Refusal refusal) const
{
    switch (refusal) {
    case Refusal::TooManyClients:
        return "peerd for " + _user + " already serves " + std::to_string(_attached) +
               " clients, as many as it takes; close a window you do not use and attach again";
    case Refusal::OutOfDescriptors:
        return "peerd for " + _user + " has no file descriptor left for another client; close a window you do not "
               "use and attach again, or start peerd with a higher open-file limit (ulimit -n)";
    case Refusal::SystemOutOfDescriptors:
        break;
    }
    return "the system has no file descriptor left for another client of peerd for " + _user +
           "; close a window or program you do not use and attach again";
}

void UiServer::stop(const std::string& detail)
{
    if (!_listening) return;
    _listening = false;
    broadcast(local::StateEvent{local::LinkState::Stopping, detail});
    for (auto& [id, session] : _sessions) session->close("peerd is stopping");
    _sessions.clear();
    for (EventLoop::TimerId* timer : {&_acceptTimer, &_tidyTimer, &_unreadTimer}) {
        if (*timer != 0) _loop.cancel(*timer);
        *timer = 0;
    }
    _loop.unwatch(_listener.impl()->sockfd());
    _listener.close();
    if (_spare >= 0) ::close(_spare);
    _spare = -1;
    ::unlink(_path.c_str());
}

void UiServer::sessionClosed(std::uint64_t id)
{
    --_attached;
    // The session is still on the stack of its own callback: forget it after that returns.
    _loop.post([this, id] { _sessions.erase(id); });
}

void UiServer::backlogGrew(std::size_t bytes)
{
    _backlogBytes += bytes;
    _backlogPeak = std::max(_backlogPeak, _backlogBytes);
    while (_backlogBytes > _limits.backlogBytes) {
        UiSession* largest = nullptr;
        for (auto& [id, session] : _sessions) {
            if (session->open() && (!largest || session->backlogBytes() > largest->backlogBytes())) {
                largest = session.get();
            }
        }
        if (!largest || largest->backlogBytes() == 0) return;
        ++_droppedForBacklog;
        largest->close("it left " + describeBytes(largest->backlogBytes()) +
                       " of events unread, the most of any client, while all clients together had more than " +
                       describeBytes(_limits.backlogBytes));
    }
}

void UiServer::backlogReleased(std::size_t bytes)
{
    _backlogBytes -= bytes;
    if (_tidyTimer == 0 && _listening && (_backlogPeak - _backlogBytes >= kTrimAfterBytes || _droppedForBacklog > 0)) {
        _tidyTimer = _loop.runAfter(kTidyDelay, [this] { tidyAfterRelease(); });
    }
}

void UiServer::tidyAfterRelease()
{
    _tidyTimer = 0;
    if (_droppedForBacklog > 0) {
        _logger.warning("disconnected " + std::to_string(_droppedForBacklog) +
                        " local clients that left events unread: peerd holds at most " +
                        describeBytes(_limits.backlogBytes) +
                        " of events for all clients together, and drops the largest backlog first");
        _droppedForBacklog = 0;
    }
    // The allocator keeps freed memory for the next allocation; the backlogs
    // are gone, so give their pages back rather than keep them.
    if (_backlogPeak - _backlogBytes >= kTrimAfterBytes) returnFreedMemory();
    _backlogPeak = _backlogBytes;
}

void UiServer::broadcast(const local::Event& event, const UiSession* except)
{
    const std::string& line = encoded(event);
    for (auto& [id, session] : _sessions) {
        if (session.get() != except) session->sendLine(line);
    }
}

void UiServer::broadcastLine(const local::ChatLine& line)
{
    // Encoded only for a window that shows the conversation (a script that only sends has none).
    if (std::none_of(_sessions.begin(), _sessions.end(),
                     [&](const auto& session) { return session.second->subscribedTo(line.conversation); }))
        return;
    _encoded.clear();
    local::LocalProtocol::appendMessage(_encoded, line);
    sendToSubscribers(line.conversation, _encoded);
}

void UiServer::broadcastTo(const ConversationId& conversation, const local::Event& event)
{
    sendToSubscribers(conversation, encoded(event));
}

const std::string& UiServer::encoded(const local::Event& event, std::string_view req)
{
    _encoded.clear();
    local::LocalProtocol::appendEvent(_encoded, event, req);
    return _encoded;
}

void UiServer::sendToSubscribers(const ConversationId& conversation, const std::string& encoded)
{
    for (auto& [id, session] : _sessions) {
        if (session->subscribedTo(conversation)) session->sendLine(encoded);
    }
}

local::WelcomeEvent UiServer::welcome() const
{
    return local::WelcomeEvent{local::kProtocolVersion, _user, _wire->state(), _wire->index().toString(),
                               Fingerprint::of(_identity)};
}

local::UserInfo UiServer::userInfo(const std::string& name, const Roster::Peer& peer) const
{
    // A seed or .NET peer has no key: its lines prove nothing, and under a name whose key is pinned it is a change.
    local::Trust trust = _pins.trustOf(name);
    if (peer.dialect != Dialect::Peerchat && trust == local::Trust::Pinned) trust = local::Trust::Changed;
    const PathKind path = _wire != nullptr ? _wire->pathOf(name) : PathKind::None;
    return local::UserInfo{name, peer.endpoint.toString(), std::string(dialectToken(peer.dialect)), trust,
                           localPath(path), peer.state, peer.status};
}

local::KeysEvent UiServer::keys(const std::string& peer) const
{
    const std::optional<PublicKey> pinned = _pins.pinned(peer);
    const std::optional<PublicKey> offered = _pins.offered(peer);
    return local::KeysEvent{peer, Fingerprint::of(_identity), pinned ? Fingerprint::of(*pinned) : std::string(),
                            offered ? Fingerprint::of(*offered) : std::string(), _pins.trustOf(peer)};
}

local::RosterEvent UiServer::roster() const
{
    local::RosterEvent event;
    for (const auto& [name, peer] : _roster.peers()) event.users.push_back(userInfo(name, peer));
    for (const auto& [conversation, count] : _lines.unreadCounts()) {
        if (!conversation.isGroup()) event.unread.emplace(conversation.name(), count);
    }
    if (_wire == nullptr) return event;
    for (const auto& [id, group] : _wire->groups().all()) event.groups.push_back(groupInfo(group));
    const Contacts& contacts = _wire->contacts();
    for (const auto& [name, record] : contacts.all()) {
        if (record.relation != Relation::None || record.blocked) event.contacts.push_back(contactInfo(name, record));
    }
    // Who wrote, in a stream or (while unread) in plain talk, and is no contact.
    std::set<std::string> wrote = _incoming.senders();
    for (const auto& [name, count] : event.unread) wrote.insert(name);
    for (const std::string& name : wrote) {
        if (name != _user && contacts.holdsLinesOf(name)) event.held.push_back(name);
    }
    return event;
}

local::GroupInfo UiServer::groupInfo(const GroupMembership& group) const
{
    local::GroupInfo info{group.id, group.title, group.version, {}, _lines.unread(ConversationId::group(group.id))};
    for (const GroupMember& member : group.members)
        info.members.push_back(local::GroupMemberInfo{member.name, member.role});
    return info;
}

std::vector<local::HistoryEvent> UiServer::history(const ConversationId& conversation) const
{
    const std::vector<local::ChatLine> lines = _lines.history(conversation);

    // The newest lines that fit in kMaxHistoryBytes; each line's size is
    // bounded by its message event, which is a little longer than its JSON.
    std::vector<std::size_t> sizes(lines.size());
    std::size_t first = lines.size();
    std::size_t total = 0;
    while (first > 0) {
        const std::size_t size = local::LocalProtocol::encodeEvent(local::MessageEvent{lines[first - 1]}).size();
        if (total + size > kMaxHistoryBytes) break;
        total += size;
        sizes[--first] = size;
    }

    const std::size_t overhead = local::LocalProtocol::encodeEvent(local::HistoryEvent{conversation, {}}).size();
    std::vector<local::HistoryEvent> events;
    local::HistoryEvent chunk{conversation, {}};
    std::size_t chunkBytes = overhead;
    for (std::size_t i = first; i < lines.size(); ++i) {
        if (!chunk.lines.empty() && chunkBytes + sizes[i] > local::kMaxLineBytes) {
            events.push_back(std::move(chunk));
            chunk = local::HistoryEvent{conversation, {}};
            chunkBytes = overhead;
        }
        chunk.lines.push_back(lines[i]);
        chunkBytes += sizes[i];
    }
    if (!chunk.lines.empty() || events.empty()) events.push_back(std::move(chunk));
    return events;
}

void UiServer::linkStateChanged(local::LinkState state, const std::string& detail)
{
    broadcast(local::StateEvent{state, detail});
}

void UiServer::presenceChanged(const Roster::Change& change)
{
    broadcast(local::PresenceEvent{userInfo(change.name, change.peer), change.online});
}

void UiServer::lineReceived(const local::ChatLine& line, std::uint32_t unread)
{
    broadcastLine(line);
    unreadChanged(line.conversation, unread);
}

void UiServer::unreadChanged(const ConversationId& conversation, std::uint32_t count)
{
    // Not serving, no client to tell: one that attaches later reads the counts in its roster.
    if (!_listening) return;
    _unread[conversation] = count;
    if (_unreadTimer != 0) return;
    _unreadTimer = _loop.runAfter(std::chrono::milliseconds(0), [this] {
        _unreadTimer = 0;
        for (const auto& [conversation, unread] : _unread) broadcast(local::UnreadEvent{conversation, unread});
        _unread.clear();
    });
}

void UiServer::lineStateChanged(const std::string& peer, std::uint64_t id, local::LineState state)
{
    const ConversationId conversation = ConversationId::direct(peer);
    broadcastTo(conversation, local::StatusEvent{conversation, id, state});
}

void UiServer::deliveryProblem(const std::string&, const std::string& detail)
{
    // Every client: the person may have sent the lines from a window that is closed by now.
    broadcast(local::ErrorEvent{"send", detail});
}

void UiServer::trustChanged(const std::string& peer, local::Trust trust)
{
    broadcast(local::TrustEvent{peer, trust});
}

void UiServer::pathChanged(const std::string& peer, PathKind path)
{
    broadcast(local::PathEvent{peer, localPath(path)});
}

void UiServer::contactChanged(const std::string& name, const ContactRecord& record)
{
    broadcast(local::ContactEvent{contactInfo(name, record)});
}

void UiServer::contactProblem(const std::string&, const std::string& detail)
{
    broadcast(local::ErrorEvent{"add", detail});
}

void UiServer::ownStatusChanged()
{
    broadcast(self());
}

local::SelfEvent UiServer::self() const
{
    const OwnStatus& status = _wire->status();
    return local::SelfEvent{status.state(), status.text(), status.autoAway()};
}

void UiServer::peerTyping(const std::string& peer)
{
    broadcastTo(ConversationId::direct(peer), local::TypingEvent{peer});
}

local::ContactInfo UiServer::contactInfo(const std::string& name, const ContactRecord& record)
{
    local::Relation relation = local::Relation::None;
    switch (record.relation) {
    case Relation::Asked: relation = local::Relation::Asked; break;
    case Relation::AskedMe: relation = local::Relation::AskedMe; break;
    case Relation::Contact: relation = local::Relation::Contact; break;
    case Relation::None: break;
    }
    return local::ContactInfo{name, relation, record.blocked, record.note, record.sinceMs};
}

local::Path UiServer::localPath(PathKind path)
{
    switch (path) {
    case PathKind::Lan: return local::Path::Lan;
    case PathKind::Direct: return local::Path::Direct;
    case PathKind::Relay: return local::Path::Relay;
    case PathKind::None: break;
    }
    return local::Path::None;
}

} // namespace peerchat
