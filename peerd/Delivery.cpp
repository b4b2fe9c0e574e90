#include "Delivery.h"

#include "OfflineBox.h"

#include <Poco/Exception.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <utility>

namespace peerchat {

namespace {

// A line sent further past a gap than a receiver holds is lost to that gap
// (a window past it collapsed to a twentieth of the goodput under 5 % loss).
static_assert(Outbox::kMostAhead <= Inbox::kDefaultWindow, "a receiver holds every line the sender has ahead of a gap");

// What indexd's `full` means to the person whose line it refused, and what
// becomes of the line.
std::string fullDetail(const Full& full)
{
    const std::string& to = full.to;
    const std::string waits = ": your lines to " + to + " wait in the outbox and go out when " + to + " is online";
    switch (full.reason) {
    case FullReason::Recipient:
        return to + "'s mailbox at indexd is full (it holds as many offline lines for one person as indexd keeps)" +
               waits;
    case FullReason::Pair:
        return "indexd holds as many of your lines for " + to + " as it keeps from one sender for one person" + waits;
    case FullReason::Sender:
        return "indexd holds as many of your offline lines, to everyone, as it keeps from one sender" + waits;
    case FullReason::Disk:
        return "indexd has no room for offline lines now (its disk or its mailbox budget is full)" + waits;
    case FullReason::Unknown:
        return "indexd knows no user named " + to + " and keeps no lines for " + to + waits;
    case FullReason::Unstated:
        break;
    }
    return to + "'s mailbox at indexd is full" + waits;
}

} // namespace

Delivery::Delivery(Timers& timers, LineStore& lines, OutboxStore& queue, IncomingStreams& incoming,
                   const Roster& roster, const Contacts& contacts, KeyTrust& trust, PeerPaths& paths,
                   IndexSession& index, const PresenceTracker& presence,
                   const OwnStatus& status, const SigningKey& identity, WireListener& listener, DropLog& drops,
                   Settings settings,
                   std::function<void(const ContactLetter&)> onContactLetter)
    : _timers(timers),
      _lines(lines),
      _queue(queue),
      _roster(roster),
      _contacts(contacts),
      _trust(trust),
      _paths(paths),
      _index(index),
      _presence(presence),
      _status(status),
      _identity(identity),
      _listener(listener),
      _drops(drops),
      _settings(std::move(settings)),
      _onContactLetter(std::move(onContactLetter)),
      _outbox(_settings.retransmit),
      _inbox(incoming, lines, _settings.receiveWindow,
             [&contacts](const std::string& sender) { return contacts.takesLinesFrom(sender); }),
      _retransmitTimer(timers),
      _transmitTimer(timers),
      _ackTimer(timers),
      _delayedAckTimer(timers),
      _logger(Poco::Logger::get("peerd.wire.delivery"))
{
}

void Delivery::start()
{
    std::map<std::string, std::map<std::uint64_t, local::LineState>> states;
    const auto now = _timers.now();
    for (OutboxEntry& entry : _queue.outbox()) {
        auto conversation = states.find(entry.peer);
        if (conversation == states.end()) {
            conversation = states.emplace(entry.peer, std::map<std::uint64_t, local::LineState>()).first;
            for (const local::ChatLine& line : _lines.history(ConversationId::direct(entry.peer)))
                conversation->second[line.id] = line.state;
        }
        const auto state = conversation->second.find(entry.lineId);
        if (state != conversation->second.end() && state->second == local::LineState::Stored) {
            _outbox.rest(std::move(entry));
        } else {
            _outbox.queue(std::move(entry), now);
        }
    }
    if (_outbox.size() > 0) _logger.information(std::to_string(_outbox.size()) + " lines wait in the outbox");
}

// This machine's wall clock as HH:MM:SS, 24-hour, local time: the time field of our lines.
const std::string& Delivery::localClockText()
{
    // A burst of lines (a script, a paste) formats it once, not once a line.
    const std::int64_t second = _timers.wallMs() / 1000;
    if (second == _clockSecond) return _clockText;
    const std::time_t now = static_cast<std::time_t>(second);
    std::tm local{};
    localtime_r(&now, &local);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
    _clockSecond = second;
    _clockText = text;
    return _clockText;
}

void Delivery::peerChanged(const Roster::Change& change)
{
    _fullReported.erase(change.name);
    if (change.online && change.peer.dialect != Dialect::Peerchat) {
        if (_trust.plainTalkAllowed(change.name)) {
            talkQueuedLines(change.name);
            return;
        }
        if (_outbox.count(change.name) > 0) {
            _listener.deliveryProblem(change.name, _trust.withoutKeyRefusal(change.name) + "; your lines to " +
                                                       change.name + " wait");
        }
    }
    _outbox.restart(change.name, _timers.now());
    armRetransmit();
}

void Delivery::visible()
{
    const auto now = _timers.now();
    for (const auto& [name, peer] : _roster.peers()) _outbox.restart(name, now);
    armRetransmit();
}

const Roster::Peer* Delivery::reachable(const std::string& name) const
{
    const Roster::Peer* peer = _roster.find(name);
    if (peer != nullptr && peer->dialect == Dialect::Peerchat && _status.state() == PresenceState::Invisible)
        return nullptr;
    return peer;
}

void Delivery::nameKey(const NameKey& answer)
{
    if (answer.identity) {
        sendWaitingNow(answer.name);
        return;
    }
    if (_queue.queuedTo(answer.name) == 0) return;
    _unknown.insert(answer.name);
    _logger.information("%s: no such user at indexd; the lines to it wait", answer.name);
}

void Delivery::sendWaitingNow(const std::string& name)
{
    _outbox.restart(name, _timers.now());
    armRetransmit();
}

// The new key belongs to another installation of peer's, which never saw
// the stream to peer: the lines waiting for it start a new one.
void Delivery::keyTrusted(const std::string& peer)
{
    // KeyPins::trust has moved them in the store, in the step that trusted the key.
    _outbox.takeAll(peer);
    std::size_t waiting = 0;
    const auto now = _timers.now();
    for (OutboxEntry& entry : _queue.outboxTo(peer)) {
        _outbox.queue(std::move(entry), now);
        ++waiting;
    }
    const std::string what = _trust.pins().trustOf(peer) == local::Trust::Unverified ? peer + " without a key"
                                                                                      : peer + "'s new identity key";
    _logger.information("the user trusts " + what + "; " + std::to_string(waiting) + " lines waiting for " + peer +
                        " go out in a new stream");
    armRetransmit();
}

void Delivery::talk(const Talk& talk, const Endpoint& from)
{
    if (!_trust.legacy()) {
        _drops.drop(DropReason::Unexpected, from, "plain talk from " + talk.from + " refused: legacy mode is off");
        return;
    }
    const Roster::Peer* peer = _roster.find(talk.from);
    if (peer == nullptr) {
        _drops.drop(DropReason::Unexpected, from, "talk from " + talk.from + ", who is not online");
        return;
    }
    if (peer->dialect == Dialect::Peerchat) {
        _drops.drop(DropReason::Unauthentic, from,
                    "plain talk in the name of " + talk.from + ", who seals its messages");
        return;
    }
    // The .NET program sends from a throwaway socket: only its address is known.
    const bool sameSender =
        peer->dialect == Dialect::DotNet ? from.host() == peer->endpoint.host() : from == peer->endpoint;
    if (!sameSender) {
        _drops.drop(DropReason::Unauthentic, from,
                    "talk names " + talk.from + ", who is at " + peer->endpoint.toString());
        return;
    }
    if (!_trust.plainTalkAllowed(talk.from)) {
        _drops.drop(DropReason::Unauthentic, from,
                    "plain talk in the name of " + talk.from + ", whose key is pinned, until the user accepts " +
                        talk.from + " without a key");
        return;
    }
    if (!_contacts.takesLinesFrom(talk.from)) {
        _logger.debug("talk from " + talk.from + " passed over: blocked, or a stranger while strangers are refused");
        return;
    }
    local::ChatLine line;
    try {
        line = _lines.addIncoming(talk.from, talk.time, _timers.wallMs(), talk.text, false);
    } catch (const Poco::Exception& e) {
        // Plain talk is never acked nor sent again: the store's log says such lines are lost while it fails.
        _logger.debug("talk from " + talk.from + " lost: " + e.message());
        return;
    }
    _listener.lineReceived(line, _lines.unread(ConversationId::direct(talk.from)));
}

void Delivery::msg(const Msg& msg, const std::string& peer, const Endpoint& from)
{
    if (msg.to != _settings.self) {
        _drops.drop(DropReason::Unauthentic, from,
                    "msg from " + msg.from + " to " + msg.to + ", not to " + _settings.self);
        return;
    }
    deliverIncoming(msg, peer);
}

void Delivery::mail(const Mail& mail, const Endpoint& from)
{
    if (mail.from == _settings.self) {
        _drops.drop(DropReason::Unexpected, from, "mail names " + _settings.self + ", this peerd's own user, as its sender");
        return;
    }
    _trust.see(mail.from, mail.identity);
    const KeyPins& pins = _trust.pins();
    if (pins.trustOf(mail.from) != local::Trust::Pinned || pins.pinned(mail.from) != mail.identity) {
        _drops.drop(DropReason::Unauthentic, from,
                    "mail from " + mail.from + " under a key other than the one pinned for " + mail.from +
                        "; it stays with indexd until the user trusts the new key");
        return;
    }
    const Parsed<std::string> text = OfflineBox::open(_identity, mail.identity, mail.box);
    if (!text) {
        _drops.drop(DropReason::Unauthentic, from, "mail from " + mail.from + " does not open: " + text.error());
        return;
    }
    const Parsed<Message> inner = Protocol::decode(*text);
    if (const ContactLetter* letter = inner ? std::get_if<ContactLetter>(&inner.value()) : nullptr) {
        contactLetter(*letter, mail, from);
        return;
    }
    if (const Ack* ack = inner ? std::get_if<Ack>(&inner.value()) : nullptr) {
        receipt(*ack, mail, from);
        return;
    }
    const Msg* msg = inner ? std::get_if<Msg>(&inner.value()) : nullptr;
    if (msg == nullptr) {
        _drops.drop(DropReason::Malformed, from,
                    "mail from " + mail.from + " holds neither a msg, a contact letter nor an ack");
        return;
    }
    if (msg->from != mail.from || msg->to != _settings.self || msg->stream != mail.stream || msg->seq != mail.seq) {
        _drops.drop(DropReason::Unauthentic, from,
                    "mail from " + mail.from + " holds a msg from " + msg->from + " to " + msg->to +
                        " of another sender, recipient, stream or seq");
        return;
    }
    deliverIncoming(*msg, {});
}

void Delivery::receipt(const Ack& ack, const Mail& mail, const Endpoint& from)
{
    // A receipt is filed under the stream and position it acks, of this user's own lines.
    if (ack.from != mail.from || ack.stream != mail.stream || ack.seq != mail.seq || !ack.held.empty()) {
        _drops.drop(DropReason::Unauthentic, from,
                    "mail from " + mail.from + " holds an ack from " + ack.from + " of another sender, stream or "
                        "position than it is filed under");
        return;
    }
    _index.send(Ack{_settings.self, mail.stream, mail.seq, {}});
    this->ack(ack);
}

void Delivery::postReceipt(const std::string& sender, const Ack& ack)
{
    if (reachable(sender) != nullptr) return;
    const KeyPins& pins = _trust.pins();
    const std::optional<PublicKey> identity = pins.pinned(sender);
    if (!identity || pins.trustOf(sender) != local::Trust::Pinned) return;
    auto streams = _receiptStreams.find(sender);
    if (streams == _receiptStreams.end()) {
        if (_receiptStreams.size() >= kMostReceiptSenders) return;
        streams = _receiptStreams.emplace(sender, std::vector<std::string>{}).first;
    }
    if (std::find(streams->second.begin(), streams->second.end(), ack.stream) == streams->second.end()) {
        if (streams->second.size() >= kMostReceiptStreams) return;
        streams->second.push_back(ack.stream);
    }
    const Ack receipt{_settings.self, ack.stream, ack.seq, {}};
    _index.send(Post{sender, ack.stream, ack.seq, OfflineBox::seal(_identity, *identity, Protocol::encode(receipt))});
}

void Delivery::contactLetter(const ContactLetter& letter, const Mail& mail, const Endpoint& from)
{
    if (letter.from != mail.from || letter.to != _settings.self || letter.stream != mail.stream ||
        letter.seq != mail.seq) {
        _drops.drop(DropReason::Unauthentic, from,
                    "mail from " + mail.from + " holds a contact letter from " + letter.from + " to " + letter.to +
                        " of another sender, recipient, stream or seq");
        return;
    }
    // Taken or not (an older letter, a blocked sender), indexd may forget it.
    _index.send(Ack{_settings.self, mail.stream, mail.seq, {}});
    _onContactLetter(letter);
}

// Delivers msg through the Inbox and acks its stream's position to where it
// came from: peer, or indexd's mailbox when peer is empty. Acks are gathered
// per stream, the latest saying all that the earlier ones would. One goes at
// the end of the loop's turn (a timer due at once runs after every socket's
// callback) when its sender needs it soon: a gap (the held runs say what to
// send again) or one just closed, a msg that delivered nothing (a repeat:
// the last ack was lost), kAckEvery lines since the last ack (the window
// moves on), or mail from indexd. A lone line in order waits up to
// kAckDelay for another, as with TCP's delayed ack and QUIC's ack threshold
// of two: a conversation of single lines then costs each side an ack, a
// wake-up and a redo record for two lines or more, not for each. (Waiting
// for more than two cost ten receivers of one sender a quarter of their
// throughput: an ack that waits costs a wake-up of its own.) The sender's
// round-trip estimate includes the wait, which keeps its retry timeout above it.
//
// The ack is armed before the lines reach the UIs, so that at the end of the
// turn it goes out before their events: the sender then takes it in while
// the UIs read, where, sent after the events, the sender's work on it kept
// the processor from a UI woken on the same one (two processors; LatencyBench
// p50 113 -> 102 us, p99 390 -> 318 us over six alternating runs each).
void Delivery::deliverIncoming(const Msg& msg, const std::string& peer)
{
    const Inbox::Result result = _inbox.receive(msg, _timers.wallMs());
    // A line the store refused is not acked: its sender sends it again.
    if (!result.refusal.empty()) {
        _logger.debug("line " + std::to_string(result.position + 1) + " from " + msg.from + " not stored: " +
                      result.refusal);
    }
    // Nothing of the stream delivered yet (a msg ahead of the first): a peer
    // hears what is held (position 0), so that it sends the first lines again
    // at once; indexd's mail acks name a position, never runs.
    if (result.position != 0 || (!peer.empty() && !result.held.empty())) queueAck(msg.stream, peer, msg.from, result);
    for (const Inbox::Delivered& delivered : result.delivered) _listener.lineReceived(delivered.line, delivered.unread);
}

void Delivery::queueAck(const std::string& stream, const std::string& peer, const std::string& sender,
                        const Inbox::Result& result)
{
    PendingAck& pending = _acks[{peer, stream}];
    pending.sender = sender;
    // The held runs let the peer send again only what is missing; indexd's mail acks stay cumulative.
    pending.ack = Ack{_settings.self, stream, result.position, peer.empty() ? std::vector<SeqRange>{} : result.held};
    pending.lines += result.delivered.size();
    pending.now = pending.now || peer.empty() || result.delivered.size() != 1 || !result.held.empty() ||
                  pending.lines >= kAckEvery;
    if (pending.now) {
        if (!_ackTimer.armed()) _ackTimer.start(std::chrono::milliseconds(0), [this] { sendAcks(false); });
    } else if (!_delayedAckTimer.armed()) {
        _delayedAckTimer.start(kAckDelay, [this] { sendAcks(true); });
    }
}

void Delivery::sendAcks(bool all)
{
    for (auto pending = _acks.begin(); pending != _acks.end();) {
        if (!all && !pending->second.now) {
            ++pending;
            continue;
        }
        const std::string& to = pending->first.first;
        if (to.empty()) {
            _index.send(pending->second.ack);
            postReceipt(pending->second.sender, pending->second.ack);
        } else {
            _paths.send(to, pending->second.ack);
        }
        pending = _acks.erase(pending);
    }
    if (_acks.empty()) _delayedAckTimer.cancel();
}

void Delivery::stop()
{
    _retransmitTimer.cancel();
    _transmitTimer.cancel();
    _ackTimer.cancel();
    sendAcks(true);
}

void Delivery::ack(const Ack& ack)
{
    // The store first: an ack it cannot keep leaves the lines queued, and the
    // peer acks them again when they go out again.
    std::vector<std::uint64_t> delivered;
    try {
        delivered = _queue.acknowledge(ack.from, ack.stream, ack.seq);
    } catch (const Poco::Exception& e) {
        _logger.debug("ack from " + ack.from + " not kept; the lines stay queued: " + e.message());
        return;
    }
    _outbox.acknowledge(ack.from, ack.stream, ack.seq, ack.held, _timers.now());
    for (const std::uint64_t id : delivered) _listener.lineStateChanged(ack.from, id, local::LineState::Delivered);
    // Room in the window, or a line the ack says is missing: what may go, goes at the end of the turn (poll() knows which).
    transmitSoon();
}

void Delivery::stored(const Stored& stored)
{
    const OutboxEntry* entry = _outbox.find(stored.to, stored.stream, stored.seq);
    if (entry == nullptr) {
        _logger.debug("stored for a line to " + stored.to + " no longer waiting");
        return;
    }
    const std::uint64_t lineId = entry->lineId;
    // While the peer is online the line still goes to it directly; indexd's copy is a second way.
    if (reachable(stored.to) == nullptr) _outbox.hold(stored.to, stored.stream, stored.seq);
    changeLineState(stored.to, lineId, local::LineState::Stored);
    armRetransmit();
}

void Delivery::full(const Full& full)
{
    if (_outbox.find(full.to, full.stream, full.seq) == nullptr) return;
    if (reachable(full.to) == nullptr) _outbox.hold(full.to, full.stream, full.seq);
    armRetransmit();
    const auto reported = _fullReported.find(full.to);
    if (reported != _fullReported.end() && reported->second == full.reason) return;
    _fullReported[full.to] = full.reason;
    const std::string detail = fullDetail(full);
    _logger.warning(detail);
    _listener.deliveryProblem(full.to, detail);
}

Parsed<Delivery::SentLine> Delivery::sendTalk(const std::string& to, const std::string& text, const std::string& key)
{
    if (to == _settings.self) return Parsed<SentLine>::refuse("you cannot send to yourself (" + to + ")");
    try {
        if (!key.empty()) {
            if (std::optional<local::ChatLine> stored = _lines.lineWithKey(ConversationId::direct(to), key))
                return SentLine{std::move(*stored), true};
        }
        const Roster::Peer* peer = _roster.find(to);
        if (peer != nullptr && peer->dialect != Dialect::Peerchat && !_trust.plainTalkAllowed(to)) {
            return Parsed<SentLine>::refuse(_trust.withoutKeyRefusal(to));
        }
        if (_trust.pins().trustOf(to) == local::Trust::Changed) {
            return Parsed<SentLine>::refuse(to + "'s key changed: compare fingerprints with /verify " + to +
                                            ", then /trust " + to);
        }
        if (_outbox.count(to) >= kMaxQueuedPerPeer) {
            return Parsed<SentLine>::refuse(std::to_string(kMaxQueuedPerPeer) + " lines to " + to +
                                            " already wait to be delivered; send more once " + to + " has them");
        }
        return SentLine{storeAndSend(to, peer, text, key), false};
    } catch (const DiskFullException& e) {
        // The store logs when writes start failing; a person sending again and again adds nothing to the log.
        return Parsed<SentLine>::refuse("the line to " + to + " was not sent: " + e.message() +
                                        "; free some space and send again");
    } catch (const Poco::Exception& e) {
        return Parsed<SentLine>::refuse("the line to " + to + " was not sent: peerd could not store it (" +
                                        e.message() + "); check the disk and peerd's log");
    }
}

// Stores text as a new line to to (with key unless it is empty) and sends it
// to peer (nullptr: to is offline); throws what the store throws, before
// anything was sent.
local::ChatLine Delivery::storeAndSend(const std::string& to, const Roster::Peer* peer, const std::string& text,
                                       const std::string& key)
{
    std::string time = localClockText();
    const std::int64_t storedAtMs = _timers.wallMs();
    if (peer != nullptr && peer->dialect != Dialect::Peerchat) {
        // A seed or .NET client cannot ack: one talk, stored as sent.
        local::ChatLine line =
            _lines.addOutgoing(ConversationId::direct(to), _settings.self, time, storedAtMs, text, key);
        _paths.sendPlain(to, Talk{time, _settings.self, text});
        return line;
    }
    OutboxEntry entry = _queue.enqueue(to, _settings.self, time, storedAtMs, text, key);
    local::ChatLine line{entry.lineId, ConversationId::direct(to), true, _settings.self, std::move(time), storedAtMs,
                         text, local::LineState::Pending};
    // It goes out at the end of this turn if the window to its peer has room, else when an ack makes room.
    _outbox.queue(std::move(entry), _timers.now());
    transmitSoon();
    return line;
}

// Sends a line the way its peer takes it now: msg sealed to a peerchat peer
// online, post to indexd sealed to the peer's pinned key while it is offline
// (or the user invisible, or not the peer's contact: peerd sees only its
// contacts online), talk to a seed or .NET peer in legacy mode. A peer
// whose key was never seen is looked up (whois) and its lines go once the
// answer pins it; a line that cannot go now (key changed, no such user, no
// legacy mode) rests until the peer changes.
void Delivery::transmit(OutboxEntry entry, std::size_t dueCount, std::map<std::string, std::vector<Message>>& direct)
{
    const Roster::Peer* peer = reachable(entry.peer);
    if (peer != nullptr && peer->dialect != Dialect::Peerchat) {
        if (_trust.plainTalkAllowed(entry.peer)) {
            talkQueuedLines(entry.peer);
        } else {
            _outbox.hold(entry.peer, entry.stream, entry.seq);
        }
        return;
    }
    if (peer != nullptr) {
        if (!_trust.trusted(entry.peer, *peer)) {
            _outbox.hold(entry.peer, entry.stream, entry.seq);
            return;
        }
        std::vector<Message>& messages = direct[entry.peer];
        // A burst's lines nearly all go to one peer: one allocation, not a move of every msg at each doubling.
        if (messages.empty()) messages.reserve(dueCount);
        // The entry is the caller's copy: its text moves into the msg.
        messages.push_back(Msg{std::move(entry.stream), entry.seq, std::move(entry.sentTime), _settings.self,
                               entry.peer, std::move(entry.text)});
        return;
    }
    const KeyPins& pins = _trust.pins();
    const std::optional<PublicKey> identity = pins.pinned(entry.peer);
    if (!identity || pins.trustOf(entry.peer) != local::Trust::Pinned) {
        if (!identity && pins.trustOf(entry.peer) != local::Trust::Changed && !_unknown.count(entry.peer)
            && !_index.asking(entry.peer))
            _index.whois(entry.peer);
        _outbox.hold(entry.peer, entry.stream, entry.seq);
        return;
    }
    const Msg msg{entry.stream, entry.seq, entry.sentTime, _settings.self, entry.peer, entry.text};
    _index.send(Post{entry.peer, entry.stream, entry.seq, OfflineBox::seal(_identity, *identity, Protocol::encode(msg))});
}

void Delivery::transmitDue()
{
    // Before the first snapshot every peer looks offline: lines would go to indexd needlessly.
    if (!_presence.loaded()) return;
    Outbox::Due due = _outbox.poll(_timers.now());
    for (const OutboxEntry& entry : due.failed) {
        _logger.information("line " + std::to_string(entry.lineId) + " to " + entry.peer + " not acked within " +
                            std::to_string(_settings.retransmit.giveUp.count()) + " ms; it stays queued");
        changeLineState(entry.peer, entry.lineId, local::LineState::Failed);
    }
    // The msgs for one peer go together: in bundles, when the peer takes them.
    std::map<std::string, std::vector<Message>> direct;
    const std::size_t dueCount = due.resend.size();
    for (OutboxEntry& entry : due.resend) transmit(std::move(entry), dueCount, direct);
    for (const auto& [peer, messages] : direct) _paths.send(peer, messages);
    armRetransmit();
}

// Everything that makes lines due in one turn of the loop (a pipelined
// client's requests, the acks read) sends them together at its end.
void Delivery::transmitSoon()
{
    if (!_transmitTimer.armed()) _transmitTimer.start(std::chrono::milliseconds(0), [this] { transmitDue(); });
}

// Sets the one timer to when the outbox next has a line due.
void Delivery::armRetransmit()
{
    const std::optional<Outbox::TimePoint> next = _presence.loaded() ? _outbox.nextDue() : std::nullopt;
    if (_retransmitTimer.armed() && next && *next == _retransmitAt) return;
    _retransmitTimer.cancel();
    if (!next) return;
    _retransmitAt = *next;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - _timers.now());
    _retransmitTimer.start(std::max(wait, std::chrono::milliseconds(0)), [this] { transmitDue(); });
}

// The peer turned out to be a seed or .NET client, which cannot ack: every
// line queued for it goes out as talk, once, and leaves the outbox as sent.
// When the store cannot keep that, the line and those after it stay queued
// and go again with the next try (a crash or a full disk may double a line
// at the seed; none is lost).
void Delivery::talkQueuedLines(const std::string& name)
{
    // Every due line to the peer comes here: the first one takes them all.
    if (_queue.queuedTo(name) == 0) return;
    try {
        for (const OutboxEntry& entry : _queue.outboxTo(name)) {
            _paths.sendPlain(name, Talk{entry.sentTime, _settings.self, entry.text});
            const std::vector<std::uint64_t> sent =
                _queue.acknowledge(name, entry.stream, entry.seq, local::LineState::Sent);
            _outbox.acknowledge(name, entry.stream, entry.seq, {}, _timers.now());
            for (const std::uint64_t id : sent) _listener.lineStateChanged(name, id, local::LineState::Sent);
        }
    } catch (const Poco::Exception& e) {
        _logger.debug("talk to " + name + " stays queued: " + e.message());
    }
    armRetransmit();
}

// A state the store cannot keep is not shown either: the screen shows what a restart would.
void Delivery::changeLineState(const std::string& peer, std::uint64_t id, local::LineState state)
{
    try {
        _lines.setState(ConversationId::direct(peer), id, state);
    } catch (const Poco::Exception& e) {
        _logger.debug("line " + std::to_string(id) + " to " + peer + " stays as it was: " + e.message());
        return;
    }
    _listener.lineStateChanged(peer, id, state);
}

} // namespace peerchat
