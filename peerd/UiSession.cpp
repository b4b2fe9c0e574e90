#include "UiSession.h"

#include "Fingerprint.h"
#include "LineStore.h"
#include "UiServer.h"
#include "WireLink.h"

#include <Poco/Exception.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <utility>

namespace peerchat {

struct UiSession::Dispatch
{
    UiSession& session;

    void operator()(const local::RosterRequest& request) const { session.handleRoster(request); }
    void operator()(const local::SendRequest& request) const { session.handleSend(request); }
    void operator()(const local::SubscribeRequest& request) const { session.handleSubscribe(request); }
    void operator()(const local::UnsubscribeRequest& request) const { session.handleUnsubscribe(request); }
    void operator()(const local::ReadRequest& request) const { session.handleRead(request); }
    void operator()(const local::SearchRequest& request) const { session.handleSearch(request); }
    void operator()(const local::VerifyRequest& request) const { session.handleVerify(request); }
    void operator()(const local::TrustRequest& request) const { session.handleTrust(request); }
    void operator()(const local::ContactRequest& request) const { session.handleContact(request); }
    void operator()(const local::TypingRequest& request) const { session.handleTyping(request); }
    void operator()(const local::StatusRequest& request) const { session.handleStatus(request); }
    void operator()(const local::GroupCreateRequest& request) const { session.handleGroupCreate(request); }
};

UiSession::UiSession(UiServer& server, EventLoop& loop, Poco::Net::StreamSocket socket, std::uint64_t id)
    : _server(server),
      _loop(loop),
      _socket(std::move(socket)),
      _fd(_socket.impl()->sockfd()),
      _id(id),
      _logger(Poco::Logger::get("peerd.ui"))
{
    _socket.setBlocking(false);
    _loop.watch(_fd, EventLoop::Readable, [this](short events) { onReady(events); });
    send(_server.welcome());
    send(_server.self());
}

UiSession::~UiSession()
{
    if (_open) _loop.unwatch(_fd);
}

void UiSession::send(const local::Event& event)
{
    sendLine(_server.encoded(event, _req));
}

void UiSession::sendLine(const std::string& line)
{
    if (!_open) return;
    if (_backlog.size() + line.size() > kMaxPendingBytes) {
        close("it left more than " + std::to_string(kMaxPendingBytes) + " bytes of events unread");
        return;
    }
    const bool wasIdle = _backlog.empty();
    _backlog.append(line);
    // At the end of this turn of the loop (a timer due at once runs after
    // every socket's callback): the events of a turn go out in one write,
    // and none waits for the next turn's poll. Events behind others wait
    // for them: a write is due already, or the socket is full and watched.
    if (wasIdle) _flushTimer.start(std::chrono::milliseconds(0), [this] { writePending(); });
    // Last: the server may close sessions, this one too, to keep to its budget.
    _server.backlogGrew(line.size());
}

void UiSession::onReady(short events)
{
    if (events & EventLoop::Writable) writePending();
    if (_open && (events & EventLoop::Readable)) readRequests();
}

void UiSession::readRequests()
{
    std::array<char, 64 * 1024> chunk;
    const ssize_t n = ::recv(_fd, chunk.data(), chunk.size(), 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        close(std::string("read failed: ") + std::strerror(errno));
        return;
    }
    if (n == 0) {
        close("it disconnected");
        return;
    }
    _reader.feed(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    while (_open) {
        const std::optional<std::string_view> line = _reader.next();
        if (!line) break;
        if (line->size() > local::kMaxLineBytes) {
            close("it sent a line longer than 64 KiB");
            return;
        }
        handleLine(*line);
    }
    if (_open && _reader.overflowed()) close("it sent a line longer than 64 KiB");
}

void UiSession::writePending()
{
    while (!_backlog.empty()) {
        const std::string_view bytes = _backlog.front();
        const ssize_t n = ::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                // The client reads slowly: the rest goes when the socket has room.
                _loop.modify(_fd, EventLoop::Readable | EventLoop::Writable);
                return;
            }
            if (errno == EINTR) continue;
            close(std::string("write failed: ") + std::strerror(errno));
            return;
        }
        consume(static_cast<std::size_t>(n));
    }
    if (_open) _loop.modify(_fd, EventLoop::Readable);
}

void UiSession::consume(std::size_t n)
{
    _backlog.consume(n);
    _server.backlogReleased(n);
}

void UiSession::close(const std::string& why)
{
    if (!_open) return;
    _open = false;
    // Best effort: a client that reads may still get the reply to its last request.
    while (!_backlog.empty()) {
        const std::string_view bytes = _backlog.front();
        const ssize_t n = ::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0) break;
        consume(static_cast<std::size_t>(n));
    }
    _flushTimer.cancel();
    const std::size_t unsent = _backlog.size();
    _backlog.clear();
    _server.backlogReleased(unsent);
    _loop.unwatch(_fd);
    _socket.close();
    _logger.debug("UI client " + std::to_string(_id) + " detached: " + why);
    _server.sessionClosed(_id);
}

void UiSession::handleLine(std::string_view line)
{
    // Whatever this session is sent until the request is done answers it
    // (events for every client come through sendLine, already encoded).
    const Parsed<local::Request> request = local::LocalProtocol::decodeRequest(line, _req);
    struct Done
    {
        std::string& req;
        ~Done() { req.clear(); }
    } done{_req};
    if (!request) {
        send(local::ErrorEvent{"", "bad request: " + request.error() + "; see docs/PROTOCOL.md section 3"});
        return;
    }
    // A request the database fails (a full disk) did nothing, and says so,
    // rather than leaving the client waiting for an answer.
    const std::string op(local::LocalProtocol::opName(*request));
    try {
        // What a person does ends auto-away; what a UI asks by itself (the
        // roster, a line marked read as it is shown, a window closing) does not.
        if (!std::holds_alternative<local::RosterRequest>(*request) && !std::holds_alternative<local::ReadRequest>(*request) &&
            !std::holds_alternative<local::UnsubscribeRequest>(*request))
            _server.wire().userActive();
        std::visit(Dispatch{*this}, *request);
    } catch (const DiskFullException& e) {
        send(local::ErrorEvent{op, "peerd could not do it: " + e.message() + "; free some space and try again"});
    } catch (const Poco::Exception& e) {
        _logger.warning("request " + op + " failed: " + e.displayText());
        send(local::ErrorEvent{op, "peerd could not do it (" + e.message() + "); see peerd's log"});
    }
}

void UiSession::handleRoster(const local::RosterRequest&)
{
    send(_server.roster());
}

void UiSession::handleSend(const local::SendRequest& request)
{
    if (request.to.isGroup()) {
        const GroupMembership* group = _server.wire().groups().find(request.to.name());
        send(local::ErrorEvent{"send",
                               group == nullptr ? "this peerd knows no " + request.to.describe()
                                                : "this peerd does not send lines to groups yet; the group " +
                                                      group->title + " holds its member list only",
                               request.key});
        return;
    }
    const Parsed<WireLink::SentLine> sent = _server.wire().sendTalk(request.to.name(), request.text, request.key);
    if (!sent) {
        send(local::ErrorEvent{"send", sent.error(), request.key});
        return;
    }
    send(local::SentEvent{request.to, sent->line.id, request.key});
    // A repeated send's line was shown when it was stored, or is in the history a new connection reads.
    if (!sent->repeated) _server.broadcastLine(sent->line);
}

void UiSession::handleSubscribe(const local::SubscribeRequest& request)
{
    for (const local::HistoryEvent& event : _server.history(request.conversation)) send(event);
    _subscriptions.insert(request.conversation);
}

void UiSession::handleUnsubscribe(const local::UnsubscribeRequest& request)
{
    _subscriptions.erase(request.conversation);
}

void UiSession::handleRead(const local::ReadRequest& request)
{
    _server.lines().markRead(request.conversation);
    _server.unreadChanged(request.conversation, 0);
}

void UiSession::handleSearch(const local::SearchRequest& request)
{
    // A reply stays well inside one line: 200 lines of at most 4 KiB would not, so
    // the newest matches that fit are sent.
    constexpr std::size_t kMaxMatches = 200;
    local::FoundEvent found{request.conversation, request.text,
                            _server.lines().search(request.conversation, request.text, kMaxMatches)};
    while (!found.lines.empty() && local::LocalProtocol::encodeEvent(found).size() > local::kMaxLineBytes)
        found.lines.erase(found.lines.begin());
    send(found);
}

void UiSession::handleVerify(const local::VerifyRequest& request)
{
    send(_server.keys(request.peer));
}

void UiSession::handleTrust(const local::TrustRequest& request)
{
    if (!_server.pins().trust(request.peer)) {
        send(local::ErrorEvent{"trust", "nothing to trust: " + request.peer + "'s key has not changed"});
        return;
    }
    const local::Trust trust = _server.pins().trustOf(request.peer);
    if (trust == local::Trust::Unverified) {
        _logger.information("the user accepts " + request.peer + " without a key, as a seed or .NET user");
    } else {
        _logger.information("the user trusts " + request.peer + "'s new identity key " +
                            Fingerprint::of(*_server.pins().pinned(request.peer)));
    }
    _server.trustChanged(request.peer, trust);
    _server.wire().keyTrusted(request.peer);
}

void UiSession::handleContact(const local::ContactRequest& request)
{
    // Every client hears the change itself (a contact event); only an error answers the one that asked.
    const std::string error = _server.wire().changeContact(contactChange(request.change), request.peer, request.note);
    if (!error.empty()) send(local::ErrorEvent{std::string(local::LocalProtocol::contactChangeName(request.change)), error});
}

void UiSession::handleStatus(const local::StatusRequest& request)
{
    if (const std::string error = _server.wire().setStatus(request.state, request.text);
        !error.empty())
        send(local::ErrorEvent{"status", error});
}

void UiSession::handleTyping(const local::TypingRequest& request)
{
    _server.wire().sendTyping(request.peer);
}

void UiSession::handleGroupCreate(const local::GroupCreateRequest& request)
{
    const Parsed<GroupMembership> group = _server.wire().groups().create(request.name);
    if (!group) {
        send(local::ErrorEvent{"group-create", group.error()});
        return;
    }
    // The client that asked hears of the group as the reply, with its request's id; every other as of any group.
    const local::GroupEvent event{_server.groupInfo(*group)};
    send(event);
    _server.broadcast(event, this);
}

ContactMail::Change UiSession::contactChange(local::ContactChange change)
{
    switch (change) {
    case local::ContactChange::Accept: return ContactMail::Change::Accept;
    case local::ContactChange::Decline: return ContactMail::Change::Decline;
    case local::ContactChange::Remove: return ContactMail::Change::Remove;
    case local::ContactChange::Block: return ContactMail::Change::Block;
    case local::ContactChange::Unblock: return ContactMail::Change::Unblock;
    case local::ContactChange::Add: break;
    }
    return ContactMail::Change::Add;
}

} // namespace peerchat
