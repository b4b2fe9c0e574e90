#pragma once

#include "IncomingStreams.h"
#include "LineStore.h"
#include "CryptoTypes.h"
#include "EventLoop.h"
#include "KeyPins.h"
#include "LocalProtocol.h"
#include "Roster.h"
#include "UiSession.h"
#include "WireListener.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace peerchat {

class WireLink;

/// peerd's local socket: accepts UIs up to a limit, hands each to a
/// UiSession, and turns what happens on the wire into events for them
/// (docs/PROTOCOL.md section 3). It holds its clients together to a budget
/// of queued events, and keeps serving when clients or the system use up
/// its file descriptors.
class UiServer : public WireListener
{
public:
    /// Most bytes of events held for all clients together, by default.
    static constexpr std::size_t kMaxBacklogBytes = 32 * 1024 * 1024;
    /// Descriptors kept for peerd's own use beside its clients: the standard
    /// streams, the UDP socket, the database with its journal, the listener
    /// and its spare, with room to spare.
    static constexpr std::size_t kReservedDescriptors = 64;

    /// What the server takes on.
    struct Limits
    {
        /// Most clients attached at once; one more is told so and disconnected.
        /// 0: as many as clientsTheLimitAllows(), asked at every accept, so a
        /// limit lowered while peerd runs (prlimit) still leaves peerd room.
        std::size_t clients = 0;
        /// Most bytes of events queued for all clients together; past it the
        /// client with the largest backlog is disconnected, then the next.
        std::size_t backlogBytes = kMaxBacklogBytes;
    };

    /// As many clients as this process's open-file limit (RLIMIT_NOFILE)
    /// leaves room for beside kReservedDescriptors, now.
    static std::size_t clientsTheLimitAllows();

    /// Clients as the open-file limit allows, and kMaxBacklogBytes.
    static Limits defaultLimits();

    /// Claims socketPath for user and listens on it (mode 0600, directory
    /// 0700); a socket file nobody answers on is stale and replaced. Only
    /// clients running as this process's effective uid are served (SO_PEERCRED);
    /// others are disconnected at once. pins are the peer keys peerd holds,
    /// identity the user's own public key (its fingerprint goes in the welcome
    /// and keys events). Throws Poco::ExistsException when another peerd
    /// answers there ("peerd for alice is already running (pid 1234); ..."),
    /// another Poco::Exception with a message for a person when the path
    /// cannot be used.
    UiServer(EventLoop& loop, Roster& roster, LineStore& lines, const IncomingStreams& incoming, KeyPins& pins,
             const PublicKey& identity, const std::string& user, const std::string& socketPath,
             Limits limits = defaultLimits());
    ~UiServer() override;
    UiServer(const UiServer&) = delete;
    UiServer& operator=(const UiServer&) = delete;

    /// Throws Poco::ExistsException ("peerd for alice is already running (pid
    /// 1234); attach with ...") when another peerd answers on socketPath.
    static void refuseIfServed(const std::string& user, const std::string& socketPath);

    /// Starts accepting clients; their sends go out through wire.
    void serve(WireLink& wire);

    /// Tells every client detail in a `state stopping` event, sends what they
    /// will take, disconnects them, stops listening and removes the socket file.
    void stop(const std::string& detail);

    const std::string& path() const { return _path; }

    void linkStateChanged(local::LinkState state, const std::string& detail) override;
    void presenceChanged(const Roster::Change& change) override;
    void lineReceived(const local::ChatLine& line, std::uint32_t unread) override;
    void lineStateChanged(const std::string& peer, std::uint64_t id, local::LineState state) override;
    void deliveryProblem(const std::string& peer, const std::string& detail) override;
    void trustChanged(const std::string& peer, local::Trust trust) override;
    void pathChanged(const std::string& peer, PathKind path) override;
    void contactChanged(const std::string& name, const ContactRecord& record) override;
    void contactProblem(const std::string& name, const std::string& detail) override;
    void peerTyping(const std::string& peer) override;
    void ownStatusChanged() override;

    // ---- for UiSession --------------------------------------------------

    local::WelcomeEvent welcome() const;
    /// The identity's own state and status message.
    local::SelfEvent self() const;
    local::RosterEvent roster() const;
    /// A group as the local protocol shows it, with its unread count.
    local::GroupInfo groupInfo(const GroupMembership& group) const;
    /// The history of conversation as history events that each fit in one line (oldest first).
    std::vector<local::HistoryEvent> history(const ConversationId& conversation) const;
    /// The fingerprints to compare for peer.
    local::KeysEvent keys(const std::string& peer) const;
    WireLink& wire() { return *_wire; }
    LineStore& lines() { return _lines; }
    KeyPins& pins() { return _pins; }

    /// Sends event to every client (but except, when given).
    void broadcast(const local::Event& event, const UiSession* except = nullptr);
    /// Sends a message event for line to every client subscribed to its conversation.
    void broadcastLine(const local::ChatLine& line);
    /// Tells every client the unread count of conversation at the end of the
    /// loop's turn: a burst of lines is one unread event, with the last count.
    void unreadChanged(const ConversationId& conversation, std::uint32_t count);
    /// Sends event to every client subscribed to conversation.
    void broadcastTo(const ConversationId& conversation, const local::Event& event);
    /// event as a line of the local protocol, in a buffer kept for the next
    /// one (the events of every chat line, encoded without an allocation);
    /// valid until the next call. req: the id of the request it answers.
    const std::string& encoded(const local::Event& event, std::string_view req = {});
    /// Forgets a session that closed, once its callback has returned.
    void sessionClosed(std::uint64_t id);
    /// A session queued bytes more of events; sessions are disconnected,
    /// the largest backlog first, until all of them together are within budget.
    void backlogGrew(std::size_t bytes);
    /// A session's socket took bytes of its events, or it dropped them.
    void backlogReleased(std::size_t bytes);

    /// The clients attached now.
    std::size_t attached() const { return _attached; }
    /// The bytes of events queued for all clients together now.
    std::size_t backlogBytes() const { return _backlogBytes; }

private:
    /// Sends an encoded event to every client subscribed to conversation.
    void sendToSubscribers(const ConversationId& conversation, const std::string& encoded);
    /// The local protocol's name for a path.
    static local::Path localPath(PathKind path);
    /// What the local protocol says of name as a contact.
    static local::ContactInfo contactInfo(const std::string& name, const ContactRecord& record);

    /// Why a connecting client is turned away.
    enum class Refusal
    {
        TooManyClients,          ///< Limits::clients are attached
        OutOfDescriptors,        ///< peerd has no file descriptor left (EMFILE)
        SystemOutOfDescriptors,  ///< the system has none left (ENFILE)
    };

    void watchListener();
    void acceptClients();
    void acceptFailed(const Poco::Exception& e);
    /// Takes clients off the backlog while peerd has no descriptor for them, and tells them why.
    void shedWaitingClients(Refusal refusal);
    void pauseAccepting();
    /// True when socket's client runs as peerd's uid; otherwise closes it and logs who it was.
    bool fromOwnUid(Poco::Net::StreamSocket& socket);
    void attach(Poco::Net::StreamSocket socket);
    void refuse(Poco::Net::StreamSocket& socket, Refusal refusal);
    std::string refusalMessage(Refusal refusal) const;
    /// Most clients attached at once now (Limits::clients).
    std::size_t clientCap() const;
    /// Logs the clients dropped for the budget and gives freed memory back to the system.
    void tidyAfterRelease();
    /// The user info a UI sees for name at peer, with its trust.
    local::UserInfo userInfo(const std::string& name, const Roster::Peer& peer) const;

    EventLoop& _loop;
    Roster& _roster;
    LineStore& _lines;
    const IncomingStreams& _incoming;
    KeyPins& _pins;
    PublicKey _identity;
    std::string _user;
    std::string _path;
    Poco::Net::ServerSocket _listener;
    bool _listening = false;
    Limits _limits;
    /// Held open so that, out of descriptors, one can be freed to take a waiting client and tell it why.
    int _spare = -1;
    EventLoop::TimerId _acceptTimer = 0;
    /// Set while clients are being refused, so that the log says so once, not once per client.
    std::optional<Refusal> _refusing;
    std::size_t _refusedSinceAttach = 0;
    WireLink* _wire = nullptr;
    std::map<std::uint64_t, std::unique_ptr<UiSession>> _sessions;
    std::uint64_t _nextSessionId = 1;
    std::size_t _attached = 0;
    std::size_t _backlogBytes = 0;
    /// The most bytes queued at once since memory was last given back.
    std::size_t _backlogPeak = 0;
    std::size_t _droppedForBacklog = 0;
    EventLoop::TimerId _tidyTimer = 0;
    /// Unread counts not yet sent, by conversation; sent by _unreadTimer.
    std::map<ConversationId, std::uint32_t> _unread;
    EventLoop::TimerId _unreadTimer = 0;
    /// What encoded() returns. Nothing a session does while it queues a line
    /// (closing it, or others, to keep the budget) encodes another event.
    std::string _encoded;
    Poco::Logger& _logger;
};

} // namespace peerchat
