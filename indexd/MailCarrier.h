#pragma once

#include "DatagramSink.h"
#include "Directory.h"
#include "Mailbox.h"
#include "Protocol.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace peerchat {

/// Carries offline messages through indexd: takes a peerchat sender's
/// `store` into the Mailbox and answers `stored` or `full`; sends a peerchat
/// recipient its waiting lines as `msg` when it logs in (or at once, when it
/// is online already), again every redeliverEvery until its `ack` removes
/// them. Resends are kept in one queue ordered by when they are due, so a
/// tick that finds nothing due costs the same however many users wait.
class MailCarrier
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    MailCarrier(Mailbox& mailbox, const Directory& directory, DatagramSink& sink,
                std::chrono::milliseconds redeliverEvery);

    /// A store from source: kept (answered `stored`, also for a repeat) or
    /// refused (`full`) when its sender is a peerchat user online at source;
    /// otherwise dropped. A new line for a recipient online now goes out at once.
    void handleStore(const Store& store, const Endpoint& source, TimePoint now);

    /// An ack from source: removes the acked lines when the acker is a
    /// peerchat user online at source; otherwise dropped.
    void handleAck(const Ack& ack, const Endpoint& source);

    /// name has logged in with peerchat/1 (or again): sends it every line
    /// waiting for it and schedules the resend.
    void deliverTo(const std::string& name, TimePoint now);

    /// Resends the waiting lines of every recipient whose resend is due, and
    /// forgets recipients that went offline or have nothing left.
    void redeliverDue(TimePoint now);

    /// Recipients whose lines are out and not yet acked.
    std::size_t recipientsAwaitingAck() const { return _dueAt.size(); }

private:
    /// The user online as a peerchat user at source under name, or nullptr.
    const OnlineUser* peerchatUserAt(const std::string& name, const Endpoint& source) const;
    void send(const Msg& line, const OnlineUser& recipient);
    void sendWaiting(const OnlineUser& recipient);
    void scheduleResend(const std::string& name, TimePoint now);

    Mailbox& _mailbox;
    const Directory& _directory;
    DatagramSink& _sink;
    std::chrono::milliseconds _redeliverEvery;
    /// When each recipient's lines go out again; the queue holds the same in
    /// due order (a fixed delay keeps it sorted), with stale entries skipped.
    std::unordered_map<std::string, TimePoint> _dueAt;
    std::deque<std::pair<TimePoint, std::string>> _queue;
};

} // namespace peerchat
