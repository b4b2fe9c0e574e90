#include "MailCarrier.h"

#include <Poco/Logger.h>

namespace peerchat {

namespace {

Poco::Logger& logger() { return Poco::Logger::get("MailCarrier"); }

// Base64 without padding of n bytes.
constexpr std::size_t base64Length(std::size_t n)
{
    return (4 * n + 2) / 3;
}

// The longest `mail` and its seal: `mail,FROM,IDPK,STREAM,SEQ,BOX` sealed as
// `seal,SKID,RKID,CTR,BOX` with a 16-byte tag.
constexpr std::size_t kMaxMailBytes = 5 + UserName::kMaxBytes + 1 + base64Length(32) + 1 + 16 + 1 + 19 + 1
                                      + base64Length(MailCarrier::kMaxBoxBytes);
constexpr std::size_t kMaxSealedMailBytes = 5 + base64Length(8) + 1 + base64Length(8) + 1 + 20 + 1
                                            + base64Length(kMaxMailBytes + 16);
static_assert(kMaxSealedMailBytes <= Protocol::kMaxDatagramBytes, "the longest mail must fit in a datagram");

} // namespace

MailCarrier::MailCarrier(Mailbox& mailbox, KeyRegistry& keys, const Directory& directory, SealedSender& sender,
                         std::chrono::milliseconds redeliverEvery)
    : _mailbox(mailbox), _keys(keys), _directory(directory), _sender(sender), _redeliverEvery(redeliverEvery)
{
}

void MailCarrier::handlePost(const Post& post, const std::string& from, TimePoint now)
{
    if (post.box.size() > kMaxBoxBytes) {
        logger().warning("dropped a post from %s for %s: its box of %z bytes is larger than any message (%z)", from,
                         post.to, post.box.size(), kMaxBoxBytes);
        return;
    }
    const Mailbox::Letter letter{from, post.stream, post.seq, post.box};
    switch (_mailbox.store(post.to, letter)) {
    case Mailbox::StoreResult::Full:
        logger().information("refused a letter from %s for %s: %s's mailbox is full", from, post.to, post.to);
        _sender.send(from, Full{post.to, post.stream, post.seq});
        return;
    case Mailbox::StoreResult::Duplicate:
        logger().debug("post %s,%s,%?u for %s again: already held", from, post.stream, post.seq, post.to);
        _sender.send(from, Stored{post.to, post.stream, post.seq});
        return;
    case Mailbox::StoreResult::Stored:
        logger().debug("stored %s,%s,%?u for %s (%z bytes sealed)", from, post.stream, post.seq, post.to,
                       post.box.size());
        _sender.send(from, Stored{post.to, post.stream, post.seq});
        // The sender may not have seen the recipient's login yet.
        if (canReceive(post.to)) {
            send(letter, post.to);
            if (_dueAt.count(post.to) == 0) scheduleResend(post.to, now);
        }
        return;
    }
}

void MailCarrier::handleAck(const Ack& ack, const std::string& from)
{
    if (ack.from != from) {
        logger().warning("dropped an ack for %s sealed by %s: a user acks its own letters only", ack.from, from);
        return;
    }
    const std::size_t removed = _mailbox.acknowledge(from, ack.stream, ack.seq);
    logger().debug("ack %s,%s,%?u: %z letters delivered", from, ack.stream, ack.seq, removed);
    if (_mailbox.countFor(from) == 0) _dueAt.erase(from);
}

void MailCarrier::deliverTo(const std::string& name, TimePoint now)
{
    if (!canReceive(name)) return;
    if (_mailbox.countFor(name) == 0) {
        _dueAt.erase(name);
        return;
    }
    sendWaiting(name);
    scheduleResend(name, now);
}

void MailCarrier::redeliverDue(TimePoint now)
{
    while (!_queue.empty() && _queue.front().first <= now) {
        const auto [due, name] = std::move(_queue.front());
        _queue.pop_front();
        auto it = _dueAt.find(name);
        if (it == _dueAt.end() || it->second != due) continue;
        _dueAt.erase(it);
        deliverTo(name, now);
    }
}

bool MailCarrier::canReceive(const std::string& name) const
{
    const OnlineUser* user = _directory.find(name);
    return user && user->dialect == Dialect::Peerchat && user->keys;
}

void MailCarrier::send(const Mailbox::Letter& letter, const std::string& to)
{
    // Letters come only from users who logged in with their key, so every
    // sender's name belongs to one.
    const auto identity = _keys.identityOf(letter.from);
    if (!identity) {
        logger().error("kept a letter from %s for %s, but %s belongs to no key: not sent", letter.from, to,
                       letter.from);
        return;
    }
    _sender.send(to, Mail{letter.from, *identity, letter.stream, letter.seq, letter.box});
}

void MailCarrier::sendWaiting(const std::string& to)
{
    const auto letters = _mailbox.waitingFor(to);
    logger().debug("sending %z waiting letters to %s", letters.size(), to);
    for (const auto& letter : letters) send(letter, to);
}

void MailCarrier::scheduleResend(const std::string& name, TimePoint now)
{
    const TimePoint due = now + _redeliverEvery;
    _dueAt[name] = due;
    _queue.emplace_back(due, name);
}

} // namespace peerchat
