#pragma once

#include "ConversationStore.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace peerchat {

/// When each line waiting for an ack goes out again: the first retry after
/// `first`, each later one after twice the last interval, at most `longest`;
/// an ack that moves a stream on starts the backoff of that stream's other
/// lines over (the peer is there: the line it misses should not wait out a
/// long interval); a line not acked within `giveUp` is reported failed once
/// and from then on tried every `giveUp`. A line indexd holds for an offline peer rests until
/// the peer is seen again. State only: the caller owns the clock (it passes
/// `now`), sends what poll() returns and wakes up at nextDue().
class Outbox
{
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    struct Timing
    {
        std::chrono::milliseconds first{300};
        std::chrono::milliseconds longest{8000};
        std::chrono::milliseconds giveUp{60000};
    };

    /// What poll() asks of the caller.
    struct Due
    {
        std::vector<OutboxEntry> resend;  ///< send these again now, in stream order per peer
        std::vector<OutboxEntry> failed;  ///< their give-up time just passed (also in resend)
    };

    explicit Outbox(Timing timing);

    /// Tracks entry, which the caller has just sent: the first retry is due
    /// after the first interval. An entry already tracked is left as it is.
    void sent(const OutboxEntry& entry, TimePoint now);

    /// Tracks entry as due at once (a line left from before a restart).
    void queue(const OutboxEntry& entry, TimePoint now);

    /// Tracks entry as resting (indexd holds it) until restart() for its peer.
    void rest(const OutboxEntry& entry);

    /// The peer acked stream up to seq at now: those lines are forgotten, and
    /// the stream's other lines not yet failed are due again within the first
    /// interval, backing off from there. Returns how many lines were forgotten.
    std::size_t acknowledge(const std::string& peer, const std::string& stream, std::uint64_t seq, TimePoint now);

    /// The line rests until restart() for its peer; false when it is not tracked.
    bool hold(const std::string& peer, const std::string& stream, std::uint64_t seq);

    /// Every line to peer is due at now, with the first interval and a new
    /// give-up time (the peer came online, moved, or left).
    void restart(const std::string& peer, TimePoint now);

    /// Forgets every line to peer; returns them in stream order.
    std::vector<OutboxEntry> takeAll(const std::string& peer);

    /// The line, while it is tracked (not acked yet); nullptr otherwise.
    const OutboxEntry* find(const std::string& peer, const std::string& stream, std::uint64_t seq) const;

    /// Every line due at now, rescheduled for its next try.
    Due poll(TimePoint now);

    /// When the next line is due; nullopt when none is (empty, or all resting).
    std::optional<TimePoint> nextDue() const;

    std::size_t size() const { return _lines.size(); }

    /// How many lines to peer are tracked.
    std::size_t count(const std::string& peer) const;

private:
    using Key = std::tuple<std::string, std::string, std::uint64_t>;  // peer, stream, seq

    struct Line
    {
        OutboxEntry entry;
        TimePoint due;
        TimePoint giveUpAt;
        std::chrono::milliseconds interval{0};  ///< the wait after the next try
        bool failed = false;
        bool resting = false;
    };

    void track(const OutboxEntry& entry, TimePoint due, TimePoint giveUpAt, std::chrono::milliseconds interval,
               bool resting);
    void schedule(const Key& key, Line& line, TimePoint due);
    void unschedule(const Key& key, const Line& line);
    void uncount(const std::string& peer, std::size_t lines);

    Timing _timing;
    std::map<Key, Line> _lines;
    std::set<std::pair<TimePoint, Key>> _schedule;  ///< lines not resting, by due time
    std::map<std::string, std::size_t> _counts;     ///< lines tracked per peer
};

} // namespace peerchat
