#pragma once

#include "ConversationStore.h"
#include "DatagramSink.h"
#include "Endpoint.h"
#include "EventLoop.h"
#include "Inbox.h"
#include "LocalProtocol.h"
#include "Outbox.h"
#include "Parsed.h"
#include "Protocol.h"
#include "Roster.h"
#include "RosterFetcher.h"
#include "WireListener.h"

#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace peerchat {

/// peerd's side of the wire: logs in to indexd and keeps retrying until it
/// answers, fetches the roster, follows presence by its sequence numbers,
/// sends heartbeats and logs in again when indexd has forgotten it or gone
/// quiet. Chat to a peerchat peer goes out as msg, sent again until acked
/// (Outbox), and incoming msg is delivered once and in order (Inbox) and
/// acked; lines for a peer that is offline are handed to indexd to keep.
/// Seed and .NET peers get talk, once. Datagrams go out through a
/// DatagramSink; what changed goes to a WireListener.
class WireLink
{
public:
    struct Settings
    {
        std::string self;                 ///< the user peerd runs for
        Endpoint index;                   ///< indexd's UDP endpoint
        Endpoint loginEndpoint;           ///< LOCALENDPOINT written in login and logout
        std::chrono::milliseconds loginRetry{2000};
        std::chrono::milliseconds rosterDeadline{5000};
        std::chrono::milliseconds heartbeat{10000};  ///< alive to indexd; three without an answer mean it is gone
        Outbox::Timing retransmit;                   ///< when unacked lines go out again, and when they fail
        std::size_t receiveWindow = 1024;            ///< most messages held ahead of a gap, per stream
    };

    /// onRefused is called once indexd has refused the login for good (after
    /// the listener has heard of it), so the program can stop.
    WireLink(EventLoop& loop, DatagramSink& sink, Roster& roster, ConversationStore& store,
             WireListener& listener, Settings settings, std::function<void()> onRefused);
    ~WireLink();
    WireLink(const WireLink&) = delete;
    WireLink& operator=(const WireLink&) = delete;

    /// Takes up the lines the store's outbox still holds, sends the first
    /// login and keeps resending it every loginRetry until the roster has
    /// arrived.
    void start();

    /// Handles one datagram that arrived from from; drops (and logs) what
    /// does not parse or does not come from where it should.
    void handleDatagram(std::string_view bytes, const Endpoint& from);

    /// Stores text as a line to to and sends it: as talk, once, to a seed or
    /// .NET peer (state sent); otherwise as msg until acked (state pending),
    /// or, while to is offline, to indexd to keep. Returns the stored line,
    /// or a refusal for a person (sending to yourself, a store that failed).
    Parsed<local::ChatLine> sendTalk(const std::string& to, const std::string& text);

    /// Stops retrying and heartbeats and, unless indexd refused the login, sends logout.
    void logout();

    local::LinkState state() const { return _state; }
    const Endpoint& index() const { return _settings.index; }
    const std::string& self() const { return _settings.self; }
    /// The number of the last presence announcement applied (0: none).
    std::uint64_t presenceSeq() const { return _presenceSeq; }

    /// The endpoint to write in login: bound itself, or, when bound is a
    /// wildcard address, the local address the kernel uses to reach index.
    static Endpoint loginEndpoint(const Endpoint& bound, const Endpoint& index);

private:
    struct Dispatch;
    using Presence = std::variant<Login, Logout>;

    void handleAccept(const Accept& accept, const Endpoint& from);
    void handleRefuse(const Refuse& refuse, const Endpoint& from);
    void handleLogin(const Login& login, const Endpoint& from);
    void handleLogout(const Logout& logout, const Endpoint& from);
    void handleTalk(const Talk& talk, const Endpoint& from);
    void handleMsg(const Msg& msg, const Endpoint& from);
    void handleAck(const Ack& ack, const Endpoint& from);
    void handleSeen(const Seen& seen, const Endpoint& from);
    void handleRelogin(const Relogin& relogin, const Endpoint& from);
    void handleStored(const Stored& stored, const Endpoint& from);
    void handleFull(const Full& full, const Endpoint& from);

    // indexd: login, roster, presence, heartbeats.
    void sendLogin();
    void relogin(const std::string& why);
    void refreshRoster();
    void rosterFetched(Parsed<RosterFetcher::Snapshot> roster);
    void announce(const Presence& presence);
    void applyPresence(const Presence& presence);
    void peerChanged(const Roster::Change& change);
    void heartbeat();
    void stopHeartbeat();

    // Lines: the outbox and its timer.
    void transmit(const OutboxEntry& entry);
    void transmitDue();
    void armRetransmit();
    void talkQueuedLines(const std::string& name, const Roster::Peer& peer);
    void sendTalkDatagram(const Talk& talk, const Roster::Peer& peer);
    void changeLineState(const std::string& peer, std::uint64_t id, local::LineState state);

    bool fromIndex(const Endpoint& from, std::string_view verb);
    bool fromPeer(const std::string& name, const Endpoint& from, std::string_view verb);
    void setState(local::LinkState state, const std::string& detail);
    void drop(const Endpoint& from, std::string_view reason);

    EventLoop& _loop;
    DatagramSink& _sink;
    Roster& _roster;
    ConversationStore& _store;
    WireListener& _listener;
    Settings _settings;
    std::function<void()> _onRefused;
    RosterFetcher _fetcher;
    Outbox _outbox;
    Inbox _inbox;
    std::vector<Presence> _presenceDuringFetch;  ///< broadcasts that arrived while the roster was on its way
    Endpoint _rosterServer;                      ///< where the last Accept said the roster is
    EventLoop::TimerId _retryTimer = 0;
    EventLoop::TimerId _heartbeatTimer = 0;
    EventLoop::TimerId _retransmitTimer = 0;
    Outbox::TimePoint _retransmitAt;
    Outbox::TimePoint _lastHeardFromIndex;
    local::LinkState _state = local::LinkState::Connecting;
    std::uint64_t _presenceSeq = 0;
    bool _loginSent = false;
    bool _accepted = false;
    bool _silenceReported = false;
    bool _rosterLoaded = false;  ///< a roster has arrived since start: who is offline is known
    bool _rosterStale = false;   ///< an announcement was missed, or a refetch failed
    std::set<std::string> _fullReported;  ///< peers whose full mailbox the UIs have heard of
    Poco::Logger& _logger;
};

} // namespace peerchat
