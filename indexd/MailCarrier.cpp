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

// The reason `full` gives for a letter over limit.
FullReason reasonFor(MailLimit limit)
{
    switch (limit) {
    case MailLimit::Pair: return FullReason::Pair;
    case MailLimit::Sender: return FullReason::Sender;
    case MailLimit::Recipient: return FullReason::Recipient;
    case MailLimit::Total: return FullReason::Disk;
    }
    return FullReason::Disk;
}

// What a summary says of a limit that refused a letter.
std::string limitDetail(MailLimit limit)
{
    switch (limit) {
    case MailLimit::Pair: return "its letters for the recipient";
    case MailLimit::Sender: return "its letters for everyone";
    case MailLimit::Recipient: return "the recipient's mailbox";
    case MailLimit::Total: return "the mailbox's budget in bytes";
    }
    return {};
}

} // namespace

MailCarrier::MailCarrier(Mailbox& mailbox, KeyRegistry& keys, const Directory& directory, SealedSender& sender,
                         std::chrono::milliseconds redeliverEvery, WallClock wallClock)
    : _mailbox(mailbox),
      _keys(keys),
      _directory(directory),
      _sender(sender),
      _redeliverEvery(redeliverEvery),
      _wallClock(std::move(wallClock))
{
}

void MailCarrier::handlePost(const Post& post, const std::string& from, TimePoint now)
{
    if (post.box.size() > kMaxBoxBytes) {
        logger().debug("dropped a post from %s for %s: its box of %z bytes is larger than any message (%z)", from,
                       post.to, post.box.size(), kMaxBoxBytes);
        if (_oversize++ == 0)
            _firstOversize = from + " for " + post.to + ", " + std::to_string(post.box.size()) + " bytes";
        return;
    }
    const Mailbox::Letter letter{from, post.stream, post.seq, post.box};
    Mailbox::StoreResult result;
    try {
        // Only a name bound to a key can ever log in to take its letters.
        if (!_keys.identityOf(post.to)) {
            refuse(post, from, FullReason::Unknown, "no user of that name");
            return;
        }
        result = _mailbox.store(post.to, letter, _wallClock());
    } catch (const Poco::Exception& e) {
        databaseFailed(e);
        refuse(post, from, FullReason::Disk, "the database failed: " + e.displayText());
        return;
    }
    switch (result.kind) {
    case Mailbox::StoreResult::Kind::Refused:
        refuse(post, from, reasonFor(result.limit), "over " + limitDetail(result.limit));
        return;
    case Mailbox::StoreResult::Kind::Duplicate:
        logger().debug("post %s,%s,%?u for %s again: already held", from, post.stream, post.seq, post.to);
        _sender.send(from, Stored{post.to, post.stream, post.seq});
        return;
    case Mailbox::StoreResult::Kind::Stored:
        databaseWorks();
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
        logger().debug("dropped an ack for %s sealed by %s: a user acks its own letters only", ack.from, from);
        return;
    }
    try {
        const std::size_t removed = _mailbox.acknowledge(from, ack.stream, ack.seq);
        if (removed > 0) databaseWorks();
        logger().debug("ack %s,%s,%?u: %z letters delivered", from, ack.stream, ack.seq, removed);
    } catch (const Poco::Exception& e) {
        // The letters stay and go out again; the recipient acks them again.
        databaseFailed(e);
        return;
    }
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

void MailCarrier::expireLetters(std::chrono::milliseconds age)
{
    const std::uint64_t nowMs = _wallClock();
    const auto ageMs = static_cast<std::uint64_t>(age.count());
    std::size_t expired = 0;
    try {
        expired = _mailbox.expireBefore(nowMs > ageMs ? nowMs - ageMs : 0);
    } catch (const Poco::Exception& e) {
        databaseFailed(e);
        return;
    }
    if (expired == 0) return;
    databaseWorks();
    logger().information("expired %z offline letters stored more than %?d ms ago; their senders' peerds still hold "
                         "those lines and send them when the recipients are online",
                         expired, age.count());
}

std::string MailCarrier::takeRefusalSummary(std::chrono::milliseconds interval)
{
    std::uint64_t refused = 0;
    std::string reasons;
    for (std::size_t i = 0; i < kReasons; ++i) {
        if (_refused[i] == 0) continue;
        refused += _refused[i];
        reasons += std::string(reasons.empty() ? "" : ", ") + std::to_string(_refused[i]) + " "
                   + std::string(fullReasonToken(static_cast<FullReason>(i))) + " (first " + _firstRefused[i] + ")";
    }
    std::string summary;
    if (refused > 0) {
        summary = "refused " + std::to_string(refused) + " offline letters in the last "
                  + std::to_string(interval.count()) + " ms: " + reasons;
    }
    if (_oversize > 0) {
        summary += std::string(summary.empty() ? "" : "; ") + "dropped " + std::to_string(_oversize)
                   + " posts with a box larger than any message (first from " + _firstOversize + ")";
    }
    _refused.fill(0);
    _firstRefused.fill(std::string());
    _oversize = 0;
    _firstOversize.clear();
    return summary;
}

void MailCarrier::refuse(const Post& post, const std::string& from, FullReason reason, const std::string& detail)
{
    const std::size_t i = index(reason);
    logger().debug("refused a letter from %s for %s (%s): %s", from, post.to, std::string(fullReasonToken(reason)),
                   detail);
    if (_refused[i]++ == 0) _firstRefused[i] = from + " for " + post.to + ": " + detail;
    ++_refusedTotal[i];
    _sender.send(from, Full{post.to, post.stream, post.seq, reason});
}

void MailCarrier::databaseFailed(const Poco::Exception& e)
{
    ++_failedWhileFailing;
    if (_databaseFailing) return;
    _databaseFailing = true;
    logger().error("the offline mailbox cannot write to its database: %s; posts are answered full (disk) and acks "
                   "wait until it can (free disk space if it is full)",
                   e.displayText());
}

void MailCarrier::databaseWorks()
{
    if (!_databaseFailing) return;
    logger().notice("the offline mailbox writes to its database again; %?u posts, acks or sweeps failed meanwhile",
                    _failedWhileFailing);
    _databaseFailing = false;
    _failedWhileFailing = 0;
}

} // namespace peerchat
