#pragma once

#include "Directory.h"
#include "KeyRegistry.h"
#include "Mailbox.h"
#include "Protocol.h"
#include "SealedSender.h"
#include "UserName.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace peerchat {

/// Carries offline messages through indexd, sealed both ways: takes a
/// peerchat/2 sender's `post` (an OfflineBox indexd cannot open) into the
/// Mailbox and answers `stored` or `full`; sends a peerchat/2 recipient its
/// waiting letters as `mail`, with the identity key each sender's name belongs
/// to, when it logs in (or at once, when it is online already), again every
/// redeliverEvery until its `ack` removes them. Resends are kept in one queue
/// ordered by when they are due, so a tick that finds nothing due costs the
/// same however many users wait.
class MailCarrier
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    /// Largest box taken: an OfflineBox (24-byte nonce, 16-byte tag) of the
    /// longest `msg`, so that the `mail` carrying it fits in a datagram.
    static constexpr std::size_t kMaxBoxBytes = 24 + 16 + 4 + 16 + 1 + 19 + 1 + Protocol::kMaxTimeBytes + 1
                                                + UserName::kMaxBytes + 1 + Protocol::kMaxTextBytes;

    MailCarrier(Mailbox& mailbox, KeyRegistry& keys, const Directory& directory, SealedSender& sender,
                std::chrono::milliseconds redeliverEvery);

    /// A post that came sealed from the peerchat/2 user `from`: kept and
    /// answered `stored` (also for a repeat), or refused with `full`; a box
    /// larger than kMaxBoxBytes is dropped. A new letter for a recipient
    /// online now goes out at once.
    void handlePost(const Post& post, const std::string& from, TimePoint now);

    /// An ack that came sealed from the peerchat/2 user `from`: removes the
    /// acked letters when the ack is from's own; otherwise dropped.
    void handleAck(const Ack& ack, const std::string& from);

    /// name has logged in with peerchat/2 (or again): sends it every letter
    /// waiting for it and schedules the resend.
    void deliverTo(const std::string& name, TimePoint now);

    /// Resends the waiting letters of every recipient whose resend is due, and
    /// forgets recipients that went offline or have nothing left.
    void redeliverDue(TimePoint now);

    /// Recipients whose letters are out and not yet acked.
    std::size_t recipientsAwaitingAck() const { return _dueAt.size(); }

private:
    /// True when name is online as a peerchat/2 user with a session.
    bool canReceive(const std::string& name) const;
    void send(const Mailbox::Letter& letter, const std::string& to);
    void sendWaiting(const std::string& to);
    void scheduleResend(const std::string& name, TimePoint now);

    Mailbox& _mailbox;
    KeyRegistry& _keys;
    const Directory& _directory;
    SealedSender& _sender;
    std::chrono::milliseconds _redeliverEvery;
    /// When each recipient's letters go out again; the queue holds the same in
    /// due order (a fixed delay keeps it sorted), with stale entries skipped.
    std::unordered_map<std::string, TimePoint> _dueAt;
    std::deque<std::pair<TimePoint, std::string>> _queue;
};

} // namespace peerchat
