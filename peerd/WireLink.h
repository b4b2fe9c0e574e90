#pragma once

#include "ContactDeclaration.h"
#include "ContactMail.h"
#include "Contacts.h"
#include "Groups.h"
#include "PeerStore.h"
#include "DatagramSink.h"
#include "Delivery.h"
#include "DropLog.h"
#include "Endpoint.h"
#include "EventLoop.h"
#include "IndexSession.h"
#include "KeyPins.h"
#include "KeyTrust.h"
#include "LocalProtocol.h"
#include "Outbox.h"
#include "OwnStatus.h"
#include "Parsed.h"
#include "PeerPaths.h"
#include "PeerSessions.h"
#include "PresenceTracker.h"
#include "RelayLink.h"
#include "Protocol.h"
#include "Roster.h"
#include "SigningKey.h"
#include "Timers.h"
#include "TypingNotices.h"
#include "WireListener.h"

#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// peerd's side of the wire (peerchat/3, docs/PROTOCOL.md), put together
/// from its parts: the session with indexd (IndexSession: login,
/// heartbeats, relogin), who is online (PresenceTracker: here, gone and
/// snapshots sealed by indexd; ContactDeclaration asks for them), which keys are trusted (KeyTrust), the lines (Delivery:
/// outbox, inbox, offline mail), the contacts (Contacts, and their letters
/// through indexd's mailbox: ContactMail), where a datagram for a peer goes
/// (PeerPaths) and the TURN relay for peers no other path reaches
/// (RelayLink). WireLink owns them, wires them together, and is the one
/// dispatch of peerd's UDP datagrams: it drops what comes from a stranger,
/// is oversize, does not parse, is not authentic or does not come from where
/// it should (counted and summarised by DropLog, so no outsider can make it
/// log more), and hands the rest to the part whose job it is. Datagrams
/// from the TURN server go to RelayLink before any of that (what a peer
/// sent through it comes back and takes the same way, where only seals from
/// peers are taken).
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
        /// A gap in presence, or the wait for a snapshot, lasts this before peerd asks again, doubling up to 16 times it.
        std::chrono::milliseconds presenceRetry{250};
        std::chrono::milliseconds heartbeat{10000};  ///< alive to indexd (±10 %); three silent ones: it is gone
        std::chrono::milliseconds dropReport{10000}; ///< at most one summary of dropped datagrams this often
        Outbox::Timing retransmit;                   ///< when unacked lines go out again, and when they fail
        std::size_t receiveWindow = Inbox::kDefaultWindow;  ///< most messages held ahead of a gap, per stream
        Contacts::Strangers strangers = Contacts::Strangers::Hold;  ///< lines from users who are not contacts
        bool sendTyping = true;  ///< tell a peer while the user types to it
        std::chrono::minutes autoAway{0};  ///< idle this long, an online identity shows away (0: never)
        /// This peerd's host candidates (its interfaces' addresses with its
        /// UDP port), asked at each alive; unset: alive carries none.
        std::function<std::vector<Candidate>()> hostCandidates;
    };

    using SentLine = Delivery::SentLine;

    /// identity is the user's key; pins keeps the keys peerd holds for peers
    /// and indexd. onRefused is called once, with the reason, when the login
    /// has failed for good (indexd refused the first login of this run, or
    /// presents a key other than the one expected), after the listener has
    /// heard of it, so the program can stop.
    WireLink(EventLoop& loop, DatagramSink& sink, Roster& roster, PeerStore& store, KeyPins& pins,
             const SigningKey& identity, WireListener& listener, Settings settings,
             std::function<void(const std::string& why)> onRefused);
    WireLink(const WireLink&) = delete;
    WireLink& operator=(const WireLink&) = delete;

    /// Takes up the lines the store's outbox still holds, sends the first
    /// hello and keeps resending it every loginRetry until presence has
    /// arrived.
    void start();

    /// Handles one datagram that arrived from from.
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
    Parsed<SentLine> sendTalk(const std::string& to, const std::string& text, const std::string& key = {})
    {
        Parsed<SentLine> sent = _delivery.sendTalk(to, text, key);
        if (sent) _typing.lineSent(to);
        return sent;
    }

    /// The user trusted peer's new key (KeyPins::trust): the lines waiting for
    /// it go out now, in a new stream (the new key's installation never saw
    /// the old one, so it would wait for its start forever).
    void keyTrusted(const std::string& peer) { _delivery.keyTrusted(peer); }

    /// Makes the user's change to a contact (ContactMail::change); an error
    /// for a person when nothing changed.
    std::string changeContact(ContactMail::Change change, const std::string& name, const std::string& note = {})
    {
        return _contactMail.change(change, name, note);
    }

    /// This identity's contacts.
    const Contacts& contacts() const { return _contacts; }

    /// The user sets its state and status message (OwnStatus::set): an error
    /// for a person, or empty once every UI heard of it (ownStatusChanged)
    /// and a contact list showing it is on its way to indexd.
    std::string setStatus(PresenceState state, const std::string& text);
    /// A UI did something the user asked for: it ends auto-away and starts the idle time again.
    void userActive();
    /// The identity's own state and status message.
    const OwnStatus& status() const { return _status; }
    /// The groups this identity is in.
    Groups& groups() { return _groups; }
    const Groups& groups() const { return _groups; }

    /// The user types to peer: a typing notice goes to peer when peer is
    /// online under a trusted key, sending them is on, the user is not
    /// invisible, and none went within TypingNotices::kSendEvery.
    void sendTyping(const std::string& peer);

    /// Stops retrying and heartbeats and, when indexd welcomed this login,
    /// sends it a sealed logout.
    void logout();

    local::LinkState state() const { return _index.linkState(); }
    const Endpoint& index() const { return _settings.index; }
    const std::string& self() const { return _settings.self; }
    /// The number of the last presence message applied in this login (0: none).
    std::uint64_t presenceSeq() const { return _presence.applied(); }
    /// How datagrams reach peer now.
    PathKind pathOf(const std::string& peer) const { return _paths.kindOf(peer); }

private:
    struct Dispatch;
    struct SealedDispatch;

    /// Who sealed the inner message of a seal that opened: indexd (peer empty)
    /// or a peer, and whether it came through this peerd's relay.
    struct SealSource
    {
        const Endpoint& from;
        std::string peer;
        bool relayed = false;
    };

    void handleRelayed(std::string_view bytes, const Endpoint& from);
    std::optional<Inbound> decode(std::string_view bytes, const Endpoint& from);
    void handleSeal(const Seal& seal, const Endpoint& from, bool relayed);
    std::vector<Candidate> candidates() const;
    void peerChanged(const Roster::Change& change);
    /// The own state or status message changed (from was the state before):
    /// the UIs and indexd hear of it.
    void ownStatusChanged(PresenceState from);
    void typingFrom(const std::string& peer);
    /// Arms the away timer for when the identity goes away by itself, if it
    /// can and it is not armed already (for that time or an earlier one).
    void armAway();
    bool fromKnownSource(const Endpoint& from) const;
    bool fromIndex(const Endpoint& from, std::string_view verb);
    bool sealedFromIndex(const SealSource& source, std::string_view verb);
    bool sealedFromPeer(const SealSource& source, const std::string& name, std::string_view verb);

    Settings _settings;
    Timers& _timers;
    Roster& _roster;
    WireListener& _listener;
    const SigningKey& _identity;
    DropLog _drops;
    PeerSessions _sessions;
    KeyTrust _trust;
    RelayLink _relay;
    PeerPaths _paths;
    IndexSession _index;
    PresenceTracker _presence;
    Contacts _contacts;
    Groups _groups;
    OwnStatus _status;
    ContactDeclaration _declaration;
    ContactMail _contactMail;
    Delivery _delivery;
    TypingNotices _typing;
    Timer _awayTimer;  ///< armed while the identity would go away by itself
    Poco::Logger& _logger;
};

} // namespace peerchat
