#pragma once

#include "Directory.h"
#include "KeyRegistry.h"
#include "Mailbox.h"
#include "OfflineBox.h"
#include "Protocol.h"
#include "SealedSender.h"
#include "UserName.h"

#include <Poco/Exception.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>

namespace peerchat {

/// Carries offline messages through indexd, sealed both ways: takes a
/// peerchat/3 sender's `post` (an OfflineBox indexd cannot open) into the
/// Mailbox and answers `stored`, or `full` with the reason (no such user, a
/// limit of the mailbox's budget, or a database that failed); sends a
/// peerchat/3 recipient its waiting letters as `mail`, with the identity key
/// each sender's name belongs to, when it logs in (or at once, when it is
/// online already), again every redeliverEvery until its `ack` removes them;
/// expires letters older than a given age. Resends are kept in one queue
/// ordered by when they are due, so a tick that finds nothing due costs the
/// same however many users wait. A logged-in sender's posts are not rate
/// limited, so none of them is logged above debug: refusals are counted for
/// a summary, and a failing database is logged when it starts failing and
/// when it works again.
class MailCarrier
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    /// Milliseconds since 1970, the time letters are stamped with.
    using WallClock = std::function<std::uint64_t()>;

    /// Largest box taken: an OfflineBox (ephemeral key, tag, signature) of the
    /// longest `msg`, so that the `mail` carrying it fits in a datagram.
    /// `msg,` STREAM `,` SEQ `,` TIME `,` FROM `,` TO `,` MESSAGE at their widest.
    static constexpr std::size_t kMaxBoxBytes = OfflineBox::kOverheadBytes + 4 + 16 + 1 + 19 + 1 + Protocol::kMaxTimeBytes + 1
                                                + 2 * (UserName::kMaxBytes + 1) + Protocol::kMaxTextBytes;

    MailCarrier(Mailbox& mailbox, KeyRegistry& keys, const Directory& directory, SealedSender& sender,
                std::chrono::milliseconds redeliverEvery, WallClock wallClock);

    /// A post that came sealed from the peerchat/3 user `from`: kept and
    /// answered `stored` (also for a repeat), or refused with `full` and its
    /// reason; a box larger than kMaxBoxBytes is dropped. A new letter for a
    /// recipient online now goes out at once.
    void handlePost(const Post& post, const std::string& from, TimePoint now);

    /// An ack that came sealed from the peerchat/3 user `from`: removes the
    /// acked letters when the ack is from's own; otherwise dropped.
    void handleAck(const Ack& ack, const std::string& from);

    /// name has logged in with peerchat/3 (or again): sends it every letter
    /// waiting for it and schedules the resend.
    void deliverTo(const std::string& name, TimePoint now);

    /// Resends the waiting letters of every recipient whose resend is due, and
    /// forgets recipients that went offline or have nothing left.
    void redeliverDue(TimePoint now);

    /// Removes the letters stored more than age ago, with one log line when
    /// there were any: their senders still hold those lines.
    void expireLetters(std::chrono::milliseconds age);

    /// The posts refused or dropped since the last call, as one line for a
    /// person ("refused 1500 offline letters in the last 10000 ms: 1000 pair
    /// (first alice for bob), 500 unknown (first alice for nobody)"), and
    /// starts counting again; empty when there were none.
    std::string takeRefusalSummary(std::chrono::milliseconds interval);

    /// Recipients whose letters are out and not yet acked.
    std::size_t recipientsAwaitingAck() const { return _dueAt.size(); }

    /// Posts refused for reason since construction.
    std::uint64_t refusals(FullReason reason) const { return _refusedTotal[index(reason)]; }

    /// True from a database error until a store or removal works again.
    bool databaseFailing() const { return _databaseFailing; }

private:
    static constexpr std::size_t kReasons = static_cast<std::size_t>(FullReason::Unknown) + 1;
    static std::size_t index(FullReason reason) { return static_cast<std::size_t>(reason); }

    /// True when name is online as a peerchat/3 user with a session.
    bool canReceive(const std::string& name) const;
    void send(const Mailbox::Letter& letter, const std::string& to);
    void sendWaiting(const std::string& to);
    void scheduleResend(const std::string& name, TimePoint now);
    /// Answers post `full` for reason and counts it; detail says more, for the summary.
    void refuse(const Post& post, const std::string& from, FullReason reason, const std::string& detail);
    /// Notes that the database failed (logged when it starts failing).
    void databaseFailed(const Poco::Exception& e);
    /// Notes that a write that changed something worked (logged when writes failed before).
    void databaseWorks();

    Mailbox& _mailbox;
    KeyRegistry& _keys;
    const Directory& _directory;
    SealedSender& _sender;
    std::chrono::milliseconds _redeliverEvery;
    WallClock _wallClock;
    /// When each recipient's letters go out again; the queue holds the same in
    /// due order (a fixed delay keeps it sorted), with stale entries skipped.
    std::unordered_map<std::string, TimePoint> _dueAt;
    std::deque<std::pair<TimePoint, std::string>> _queue;

    /// Refusals per reason since the last summary, the first of each as an
    /// example, and since construction.
    std::array<std::uint64_t, kReasons> _refused{};
    std::array<std::string, kReasons> _firstRefused{};
    std::array<std::uint64_t, kReasons> _refusedTotal{};
    /// Posts dropped for an oversized box since the last summary, and the first.
    std::uint64_t _oversize = 0;
    std::string _firstOversize;
    bool _databaseFailing = false;
    /// Posts and acks that failed since the database started failing.
    std::uint64_t _failedWhileFailing = 0;
};

} // namespace peerchat
