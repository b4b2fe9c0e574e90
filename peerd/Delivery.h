#pragma once

#include "Contacts.h"
#include "IncomingStreams.h"
#include "LineStore.h"
#include "OutboxStore.h"
#include "DropLog.h"
#include "Inbox.h"
#include "IndexSession.h"
#include "KeyTrust.h"
#include "LocalProtocol.h"
#include "Outbox.h"
#include "OwnStatus.h"
#include "Parsed.h"
#include "PeerPaths.h"
#include "PresenceTracker.h"
#include "Protocol.h"
#include "Roster.h"
#include "SigningKey.h"
#include "Timers.h"
#include "WireListener.h"

#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace peerchat {

/// The lines: each line to a peerchat peer is stored, then sent sealed as
/// msg until acked (Outbox) on the peer's path (PeerPaths), or, while the
/// peer is offline, sealed to its pinned key for indexd to keep
/// (OfflineBox); incoming msg, from the peer or from indexd's mailbox, is
/// delivered once and in order (Inbox) and acked. While the user is
/// invisible, lines to peerchat peers go through indexd too: a peer's peerd
/// takes nothing directly from a user it does not see. Seed and .NET peers get
/// plain talk, once, in legacy mode only. Nothing goes to or is taken from
/// a peer whose key is not trusted (KeyTrust). Callers have checked who
/// sealed what they hand in.
class Delivery
{
public:
    struct Settings
    {
        std::string self;
        Outbox::Timing retransmit;          ///< when unacked lines go out again, and when they fail
        std::size_t receiveWindow = Inbox::kDefaultWindow;  ///< most messages held ahead of a gap, per stream
    };

    /// Most lines waiting in the outbox for one peer; more are refused.
    static constexpr std::size_t kMaxQueuedPerPeer = 10000;
    /// Lines of a stream delivered since its last ack that make the next one go at the end of the turn.
    static constexpr std::size_t kAckEvery = 2;
    /// Longest an ack for lines delivered in order waits for more to say.
    static constexpr std::chrono::milliseconds kAckDelay{2};

    /// What sendTalk did with a line.
    struct SentLine
    {
        local::ChatLine line;   ///< as stored
        bool repeated = false;  ///< its key was stored already: line is the one stored then, and nothing was done now
    };

    /// lines, queue and incoming are where lines are kept (the outbox's
    /// timing is Delivery's own: Outbox); contacts says whose lines are
    /// kept; onContactLetter takes the contact letters that come in mail
    /// (acked here).
    Delivery(Timers& timers, LineStore& lines, OutboxStore& queue, IncomingStreams& incoming, const Roster& roster,
             const Contacts& contacts, KeyTrust& trust, PeerPaths& paths, IndexSession& index, const PresenceTracker& presence,
             const OwnStatus& status, const SigningKey& identity, WireListener& listener, DropLog& drops,
             Settings settings, std::function<void(const ContactLetter&)> onContactLetter);

    /// Takes up the lines the store's outbox still holds: a line indexd
    /// already keeps rests until its peer is seen; the rest go out once the
    /// roster says where to.
    void start();

    /// See WireLink::sendTalk.
    Parsed<SentLine> sendTalk(const std::string& to, const std::string& text, const std::string& key);
    /// See WireLink::keyTrusted.
    void keyTrusted(const std::string& peer);

    /// A peer came, moved or left: the lines waiting for it go out to it
    /// directly now, or to indexd when it left.
    void peerChanged(const Roster::Change& change);
    /// What waits for name may go at once: it presents its pinned key
    /// again, or its path changed.
    void sendWaitingNow(const std::string& name);
    /// The first snapshot of presence of a login arrived: lines go where it says.
    void presenceLoaded() { transmitDue(); }
    /// indexd answered a whois of this login (the key pinned, if any): lines
    /// waiting for that user go, or wait as for nobody known.
    void nameKey(const NameKey& answer);
    /// The user is no longer invisible: the lines waiting for peers online go to them directly now.
    void visible();
    /// Stops sending lines again and sends the acks that wait (peerd is shutting down).
    void stop();

    /// A msg sealed by peer, the peer it names as its sender.
    void msg(const Msg& msg, const std::string& peer, const Endpoint& from);
    /// indexd hands over a line, or a contact letter, kept for this user.
    void mail(const Mail& mail, const Endpoint& from);
    /// A peer's ack, sealed by the peer it names.
    void ack(const Ack& ack);
    /// indexd keeps a line for a peer offline.
    void stored(const Stored& stored);
    /// indexd refused to keep a line.
    void full(const Full& full);
    /// Plain talk from a seed or .NET peer.
    void talk(const Talk& talk, const Endpoint& from);

    std::size_t waiting() const { return _outbox.size(); }

private:
    /// name online where its lines may go directly, or nullptr: offline, or
    /// a peerchat peer while the user is invisible.
    const Roster::Peer* reachable(const std::string& name) const;
    void deliverIncoming(const Msg& msg, const std::string& peer);
    /// A contact letter opened from mail: acked to indexd and handed on when
    /// it is the mail's own (same sender, stream and seq, to this user).
    void contactLetter(const ContactLetter& letter, const Mail& mail, const Endpoint& from);
    /// Gathers the ack of stream's position after result, for peer (empty:
    /// indexd, of mail from sender), and arms its timer.
    void queueAck(const std::string& stream, const std::string& peer, const std::string& sender,
                  const Inbox::Result& result);
    /// An ack gathered for one stream, not sent yet.
    struct PendingAck
    {
        Ack ack;                ///< the latest: it says all the earlier ones would
        std::size_t lines = 0;  ///< lines delivered since the stream's last ack
        bool now = false;       ///< goes at the end of this turn, not after kAckDelay
        std::string sender{};   ///< whose lines, for an ack of mail (which goes to indexd)
    };

    /// Sends the acks that go at the end of this turn, or all of them.
    void sendAcks(bool all);
    /// Lines of sender's that came in mail were delivered up to ack: when
    /// sender is not reachable directly (it never will be, while not a
    /// contact), it hears so in mail of its own, an ack sealed to it that
    /// indexd keeps like a line (a receipt): otherwise its lines would show
    /// stored for ever. Each receipt counts against this user's mailbox
    /// budgets at indexd until its sender takes it, so receipts go for at
    /// most kMostReceiptStreams streams of one sender and kMostReceiptSenders
    /// senders a run: writing on ever new streams, or under ever new names,
    /// cannot make this peerd fill its own budget (and have its offline
    /// lines refused). A sender keeps one stream to a peer, a new one only
    /// when a store is lost.
    void postReceipt(const std::string& sender, const Ack& ack);
    /// A receipt came in mail: its lines are delivered.
    void receipt(const Ack& ack, const Mail& mail, const Endpoint& from);
    local::ChatLine storeAndSend(const std::string& to, const Roster::Peer* peer, const std::string& text,
                                 const std::string& key);
    /// direct: the msgs for peers online, by peer, for the caller to send
    /// together; dueCount: how many lines the caller transmits in all.
    void transmit(OutboxEntry entry, std::size_t dueCount, std::map<std::string, std::vector<Message>>& direct);
    void transmitDue();
    void transmitSoon();
    void armRetransmit();
    void talkQueuedLines(const std::string& name);
    void changeLineState(const std::string& peer, std::uint64_t id, local::LineState state);
    /// The local time of day for a line's sentTime, formatted once a second.
    const std::string& localClockText();

    Timers& _timers;
    LineStore& _lines;
    OutboxStore& _queue;
    const Roster& _roster;
    const Contacts& _contacts;
    KeyTrust& _trust;
    PeerPaths& _paths;
    /// Names indexd knows no user by: their lines are not asked about again in this run.
    std::set<std::string> _unknown;
    IndexSession& _index;
    const PresenceTracker& _presence;
    const OwnStatus& _status;
    const SigningKey& _identity;
    WireListener& _listener;
    DropLog& _drops;
    Settings _settings;
    std::function<void(const ContactLetter&)> _onContactLetter;
    Outbox _outbox;
    Inbox _inbox;
    Timer _retransmitTimer;                          ///< set to when the outbox next has a line due
    Timer _transmitTimer;                            ///< armed while lines made due in this turn wait for its end
    Timer _ackTimer;                                 ///< armed while acks wait for the end of the loop's turn
    Timer _delayedAckTimer;                          ///< armed while acks wait up to kAckDelay
    /// The acks not sent yet, per (peer, stream); peer empty: to indexd.
    std::map<std::pair<std::string, std::string>, PendingAck> _acks;
    static constexpr std::size_t kMostReceiptStreams = 4;
    static constexpr std::size_t kMostReceiptSenders = 1024;
    std::map<std::string, std::vector<std::string>> _receiptStreams;  ///< the streams given receipts, per sender
    Outbox::TimePoint _retransmitAt;
    std::map<std::string, FullReason> _fullReported;  ///< the last refusal by indexd the UIs heard of, per peer
    std::int64_t _clockSecond = -1;  ///< the wall clock's second localClockText() formatted last
    std::string _clockText;
    Poco::Logger& _logger;
};

} // namespace peerchat
