#pragma once

#include "ConversationStore.h"
#include "CryptoTypes.h"
#include "DatagramSink.h"
#include "DropCounter.h"
#include "Endpoint.h"
#include "EventLoop.h"
#include "Inbox.h"
#include "IndexVerifier.h"
#include "KeyPins.h"
#include "LocalProtocol.h"
#include "LoginState.h"
#include "Outbox.h"
#include "Parsed.h"
#include "PeerSessions.h"
#include "Protocol.h"
#include "Roster.h"
#include "RosterFetcher.h"
#include "SigningKey.h"
#include "WireListener.h"

#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace peerchat {

/// peerd's side of the wire (peerchat/3, docs/PROTOCOL.md): logs in to indexd
/// by challenge and signature (LoginState) and keeps retrying until indexd
/// welcomes it, fetches the signed roster (again, with back-off, when a fetch
/// fails), follows signed presence by its sequence numbers, sends sealed
/// heartbeats (with jitter; an unanswered one again) and logs in again when
/// indexd has forgotten it or gone quiet. A bare relogin, which anyone can
/// forge, is checked first with a sealed alive while a session with indexd
/// holds; a refusal, which nobody signs, counts only when it echoes a hello or
/// auth of the login under way, and stops peerd only before its first welcome.
/// Chat to a peerchat peer goes out as msg sealed to it (PeerSessions), sent
/// again until acked (Outbox); incoming sealed msg is delivered once and in
/// order (Inbox) and acked; lines for an offline peer whose key is pinned go
/// to indexd sealed to that peer (OfflineBox). Keys are pinned on first
/// sight (KeyPins); nothing goes to or is taken from a peer whose key changed
/// until the user trusts the new one. Seed and .NET peers get plain talk, once, in legacy mode only,
/// and only under names with no key pinned (a pinned name that comes without
/// a key reads as changed and gets nothing, until the user accepts it).
/// Datagrams go out through a DatagramSink; what changed goes to a WireListener.
/// What it drops is counted (DropCounter), logged at debug level one by one
/// and as one warning per dropReport interval, so no outsider can make it
/// log more; a datagram from neither indexd nor an online peer is dropped
/// before it is parsed.
class WireLink
{
public:
    struct Settings
    {
        std::string self;                 ///< the user peerd runs for
        Endpoint index;                   ///< indexd's UDP endpoint
        std::optional<PublicKey> indexKey; ///< indexd's identity key when configured; else pinned on first contact
        bool legacy = false;              ///< plain talk to and from seed and .NET peers
        std::chrono::milliseconds loginRetry{2000};
        std::chrono::milliseconds rosterDeadline{5000};
        std::chrono::milliseconds rosterRetry{250};  ///< a failed roster fetch waits this, doubling up to 16 times it
        std::chrono::milliseconds heartbeat{10000};  ///< alive to indexd (±10 %); three silent ones: it is gone
        std::chrono::milliseconds dropReport{10000}; ///< at most one summary of dropped datagrams this often
        Outbox::Timing retransmit;                   ///< when unacked lines go out again, and when they fail
        std::size_t receiveWindow = 1024;            ///< most messages held ahead of a gap, per stream
    };

    /// Most lines waiting in the outbox for one peer; more are refused.
    static constexpr std::size_t kMaxQueuedPerPeer = 10000;

    /// What sendTalk did with a line.
    struct SentLine
    {
        local::ChatLine line;   ///< as stored
        bool repeated = false;  ///< its key was stored already: line is the one stored then, and nothing was done now
    };

    /// identity is the user's key; pins the keys peerd holds for peers and
    /// indexd. onRefused is called once, with the reason, when the login has
    /// failed for good (indexd refused the first login of this run, or
    /// presents a key other than the one expected), after the listener has
    /// heard of it, so the program can stop.
    WireLink(EventLoop& loop, DatagramSink& sink, Roster& roster, ConversationStore& store, KeyPins& pins,
             const SigningKey& identity, WireListener& listener, Settings settings,
             std::function<void(const std::string& why)> onRefused);
    ~WireLink();
    WireLink(const WireLink&) = delete;
    WireLink& operator=(const WireLink&) = delete;

    /// Takes up the lines the store's outbox still holds, sends the first
    /// hello and keeps resending it every loginRetry until the roster has
    /// arrived.
    void start();

    /// Handles one datagram that arrived from from; drops (and counts) what
    /// comes from a stranger, is oversize, does not parse, is not authentic or
    /// does not come from where it should.
    void handleDatagram(std::string_view bytes, const Endpoint& from);

    /// Stores text as a line to to, with key unless it is empty, and sends
    /// it: sealed as msg until acked (state pending), or, while to is
    /// offline, sealed to to's pinned key for indexd to keep; as plain talk,
    /// once, to a seed or .NET peer in legacy mode (state sent). A key already
    /// stored with to makes the send a repeat (its client did not hear the
    /// answer: peerd crashed, the connection broke): the line stored then is
    /// returned and nothing is stored or sent. Returns the line, or a refusal
    /// for a person (sending to yourself, to a peer whose key changed, to a
    /// seed or .NET peer without legacy mode, too many lines waiting, a full
    /// disk, a store that failed); a refused line is not stored.
    Parsed<SentLine> sendTalk(const std::string& to, const std::string& text, const std::string& key = {});

    /// The user trusted peer's new key (KeyPins::trust): the lines waiting for
    /// it go out now, in a new stream (the new key's installation never saw
    /// the old one, so it would wait for its start forever).
    void keyTrusted(const std::string& peer);

    /// Stops retrying and heartbeats and, when indexd welcomed this login,
    /// sends it a sealed logout.
    void logout();

    local::LinkState state() const { return _state; }
    const Endpoint& index() const { return _settings.index; }
    const std::string& self() const { return _settings.self; }
    /// The number of the last presence announcement applied (0: none).
    std::uint64_t presenceSeq() const { return _roster.presenceSeq(); }

private:
    struct Dispatch;
    struct SealedDispatch;
    using Presence = std::variant<Login, Logout>;

    /// Who sent the inner message of a seal that opened: indexd (peer empty) or a peer.
    struct SealSource
    {
        const Endpoint& from;
        std::string peer;
    };

    // Plain datagrams.
    void handleChallenge(const Challenge& challenge, const Endpoint& from);
    void handleWelcome(const Welcome& welcome, const Endpoint& from);
    void handleRefuse(const Refuse& refuse, const Endpoint& from);
    void handlePresence(const Presence& presence, const Endpoint& from);
    void handleSeal(const Seal& seal, const Endpoint& from);
    void handleRelogin(const Relogin& relogin, const Endpoint& from);
    void handleTalk(const Talk& talk, const Endpoint& from);

    // Sealed datagrams, by their inner message.
    void handleMsg(const Msg& msg, const SealSource& source);
    void handleAck(const Ack& ack, const SealSource& source);
    void handleSeen(const Seen& seen, const SealSource& source);
    void handleStored(const Stored& stored, const SealSource& source);
    void handleFull(const Full& full, const SealSource& source);
    void handleMail(const Mail& mail, const SealSource& source);

    // indexd: login, roster, presence, heartbeats.
    void sendHello();
    void refuseLogin(const std::string& detail);
    void relogin(const std::string& why);
    void cancelReloginCheck();
    void fetchRoster();
    void refreshRoster();
    void retryRoster(const std::string& why);
    void cancelRosterRetry();
    void rosterFetched(Parsed<RosterFetcher::Snapshot> roster);
    std::vector<RosterEntry> checkedEntries(const std::vector<RosterEntry>& entries);
    void announce(const Presence& presence);
    void applyPresence(const Presence& presence);
    void peerChanged(const Roster::Change& change);
    void heartbeat();
    void sendAlive(int resends);
    void cancelAliveResend();
    void stopHeartbeat();
    void sendToIndex(const Message& message);
    void sendToPeer(const std::string& name, const Roster::Peer& peer, const Message& message);

    // Keys.
    void seeKeys(const std::string& name, const std::optional<PublicKey>& identity);
    bool trusted(const std::string& name, const Roster::Peer& peer) const;
    bool plainTalkAllowed(const std::string& name) const;
    std::string withoutKeyRefusal(const std::string& name) const;
    std::string keysRefusal(const std::string& name, const PeerKeys& keys, const std::string& holder) const;

    // Lines: the outbox and its timer.
    void transmit(const OutboxEntry& entry);
    void transmitDue();
    void armRetransmit();
    void talkQueuedLines(const std::string& name, const Roster::Peer& peer);
    local::ChatLine storeAndSend(const std::string& to, const Roster::Peer* peer, const std::string& text,
                                 const std::string& key);
    void sendTalkDatagram(const Talk& talk, const Roster::Peer& peer);
    void changeLineState(const std::string& peer, std::uint64_t id, local::LineState state);
    void deliverIncoming(const Msg& msg, const SealSource& source);

    bool fromKnownSource(const Endpoint& from) const;
    bool fromIndex(const Endpoint& from, std::string_view verb);
    bool sealedFromIndex(const SealSource& source, std::string_view verb);
    bool sealedFromPeer(const SealSource& source, const std::string& name, std::string_view verb);
    void setState(local::LinkState state, const std::string& detail);
    void drop(DropReason reason, const Endpoint& from, std::string_view detail);
    void reportDrops();

    EventLoop& _loop;
    DatagramSink& _sink;
    Roster& _roster;
    ConversationStore& _store;
    KeyPins& _pins;
    const SigningKey& _identity;
    WireListener& _listener;
    Settings _settings;
    std::function<void(const std::string&)> _onRefused;
    LoginState _login;
    PeerSessions _sessions;
    IndexVerifier _verifier;
    RosterFetcher _fetcher;
    Outbox _outbox;
    Inbox _inbox;
    std::vector<Presence> _presenceDuringFetch;  ///< broadcasts that arrived while the roster was on its way
    Endpoint _rosterServer;                      ///< where the last welcome said the roster is
    Endpoint _observed;                          ///< this peerd's endpoint as indexd registered it
    EventLoop::TimerId _retryTimer = 0;
    EventLoop::TimerId _heartbeatTimer = 0;
    EventLoop::TimerId _retransmitTimer = 0;
    EventLoop::TimerId _reloginCheckTimer = 0;  ///< a relogin hint waits for a sealed seen until it fires
    EventLoop::TimerId _aliveResendTimer = 0;   ///< an alive waits for a sealed seen until it fires
    EventLoop::TimerId _rosterRetryTimer = 0;   ///< a failed roster fetch waits for its next try
    EventLoop::TimerId _dropReportTimer = 0;    ///< set while drops wait to be summarised
    std::chrono::milliseconds _rosterBackoff;  ///< how long the next failed roster fetch waits before the next try
    Outbox::TimePoint _retransmitAt;
    int _unansweredHeartbeats = 0;  ///< heartbeats sent since indexd was last heard from
    std::optional<Outbox::TimePoint> _lastReloginHint;
    local::LinkState _state = local::LinkState::Connecting;
    Epoch _indexEpoch{};            ///< of the run of indexd that welcomed the last login
    std::uint64_t _fetchFloor = 0;  ///< the presence number applied when the roster fetch under way was asked for
    bool _welcomed = false;         ///< indexd welcomed a login that was not logged out since
    bool _welcomedThisRun = false;  ///< indexd welcomed some login of this run: a refusal is no longer final
    std::string _unheededRefusal;   ///< the last refusal logged that did not stop peerd (busy, or of a later login)
    bool _silenceReported = false;
    bool _rosterLoaded = false;  ///< a roster has arrived since start: who is offline is known
    bool _rosterStale = false;   ///< an announcement was missed, or a refetch failed
    bool _keysUnseen = false;    ///< the store could not pin a key presented since the last roster
    std::map<std::string, FullReason> _fullReported;  ///< the last refusal by indexd the UIs heard of, per peer
    DropCounter _drops;
    Poco::Logger& _logger;
};

} // namespace peerchat
