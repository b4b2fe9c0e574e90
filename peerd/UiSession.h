#pragma once

#include "EventBacklog.h"
#include "EventLoop.h"
#include "LineReader.h"
#include "ContactMail.h"
#include "LocalProtocol.h"

#include <Poco/Logger.h>
#include <Poco/Net/StreamSocket.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

namespace peerchat {

class UiServer;

/// One UI attached to peerd's local socket: reads its JSON request lines,
/// answers each through one dispatch, and queues events for it in a bounded
/// backlog written whenever the socket is writable. The server hears of every
/// byte queued and released, to hold all sessions to one budget.
class UiSession
{
public:
    /// Most event bytes held for a client that does not read; beyond it the client is disconnected.
    static constexpr std::size_t kMaxPendingBytes = 8 * 1024 * 1024;

    /// Takes over a connected socket and greets the client with a welcome event.
    UiSession(UiServer& server, EventLoop& loop, Poco::Net::StreamSocket socket, std::uint64_t id);
    ~UiSession();
    UiSession(const UiSession&) = delete;
    UiSession& operator=(const UiSession&) = delete;

    /// Queues one event; while a request is handled, a reply to it (with its id).
    void send(const local::Event& event);
    /// Queues one encoded event line (as LocalProtocol::encodeEvent returns it).
    void sendLine(const std::string& line);

    /// True when the client asked for message events of conversation.
    bool subscribedTo(const ConversationId& conversation) const { return _subscriptions.count(conversation) != 0; }

    bool open() const { return _open; }
    /// The bytes of events queued for the client and not yet taken by its socket.
    std::size_t backlogBytes() const { return _backlog.size(); }

    /// Writes what the socket takes of the pending events without waiting, then disconnects.
    void close(const std::string& why);

private:
    struct Dispatch;

    void onReady(short events);
    void readRequests();
    void writePending();
    /// Drops the first n bytes of the backlog, which the socket took, and tells the server.
    void consume(std::size_t n);
    void handleLine(std::string_view line);
    void handleRoster(const local::RosterRequest& request);
    void handleSend(const local::SendRequest& request);
    void handleSubscribe(const local::SubscribeRequest& request);
    void handleUnsubscribe(const local::UnsubscribeRequest& request);
    void handleRead(const local::ReadRequest& request);
    void handleSearch(const local::SearchRequest& request);
    void handleVerify(const local::VerifyRequest& request);
    void handleTrust(const local::TrustRequest& request);
    void handleContact(const local::ContactRequest& request);
    void handleTyping(const local::TypingRequest& request);
    void handleStatus(const local::StatusRequest& request);
    void handleGroupCreate(const local::GroupCreateRequest& request);
    /// The wire's name for a change the local protocol asks for.
    static ContactMail::Change contactChange(local::ContactChange change);

    UiServer& _server;
    EventLoop& _loop;
    /// Armed while events wait for the end of the loop's turn, when they go out in one write.
    Timer _flushTimer{_loop};
    Poco::Net::StreamSocket _socket;
    int _fd;
    std::uint64_t _id;
    LineReader _reader{local::kMaxLineBytes};
    EventBacklog _backlog;
    std::set<ConversationId> _subscriptions;
    /// The id ("req") of the request being handled, "" between requests and
    /// for one without: what send() writes into its replies.
    std::string _req;
    bool _open = true;
    Poco::Logger& _logger;
};

} // namespace peerchat
