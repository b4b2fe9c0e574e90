#pragma once

#include "OutboxStore.h"
#include "Protocol.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace peerchat {

/// Which lines waiting for an ack go out, and when. Per peer, a window of
/// lines may be on their way at once: a line beyond it waits its turn, so a
/// burst neither overruns the receiver nor buries the other conversations.
/// The window counts the lines on their way that the peer is not known to
/// hold (a line its ack names as held ahead of a gap has left the path, as
/// in TCP's pipe with selective acks, RFC 6675), and no line goes out more
/// than kMostAhead seqs past the first one of its stream not yet acked (what
/// a receiver holds ahead of a gap), so a loss does not stop the stream while
/// its line goes again. The window opens as acks come (doubling each round trip from
/// kInitialWindow, then one line per round trip past the last cut, up to
/// kMaxWindow) and is halved, at most once per round trip and never below
/// kInitialWindow, when a line is lost: when its retry comes due; at once
/// when the peer's ack says it holds kReordered lines sent after it
/// (selective acks; the line goes again at once, its retry timed by the
/// round trip alone); or, from a peer that sends no held runs, when it acks
/// the same position three times more while later lines are on their way
/// (after such a cut each ack that moves on but not past what was on its
/// way sends the next missing line at once).
/// A line on its way goes out again after the retransmit timeout (the
/// smoothed round trip plus four times its variation, as TCP computes it,
/// from lines acked after one send; never below `first`, never above
/// `longest`), each later time after twice the last interval, at most
/// `longest`; an ack that moves a stream on starts the backoff of that
/// stream's other lines over (the peer is there: the line it misses should
/// not wait out a long interval); a line not acked within `giveUp` is
/// reported failed once and from then on tried every `giveUp`. When lines
/// are on their way unheard of and nothing has come from the peer for a probe
/// timeout (twice the smoothed round trip, at least kLeastProbe), the newest
/// of them goes again at once, without a cut of the window: a tail loss probe
/// (RFC 8985). Its arrival shows which lines sent before it were lost, where
/// otherwise the last lines of a burst, or a lost retry while nothing new
/// may go, waited out their timeouts; the probe timeout doubles until the peer
/// is heard again. A line indexd
/// holds for an offline peer rests until the peer is seen again. State only:
/// the caller owns the clock (it passes `now`), sends what poll() returns
/// and wakes up at nextDue().
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

    /// Lines on their way to one peer at first, and at most.
    static constexpr double kInitialWindow = 1024;
    static constexpr double kMaxWindow = 2048;
    /// The most seqs a line may go out past the first line of its stream
    /// not yet acked: at most what a receiver holds ahead of a gap
    /// (Inbox::kDefaultWindow), or the lines past it are dropped there.
    static constexpr std::uint64_t kMostAhead = 4096;
    /// How many later sends of a flow may arrive before a line that went out
    /// ahead of them counts as lost: a path may reorder a little.
    static constexpr std::uint64_t kReordered = 3;
    /// The shortest probe timeout: above the receiver's delayed ack (2 ms).
    static constexpr std::chrono::milliseconds kLeastProbe{10};

    explicit Outbox(Timing timing);

    /// Tracks entry, which the caller has just sent, as on its way: the first
    /// retry is due after the retransmit timeout. An entry already tracked is
    /// left as it is.
    void sent(OutboxEntry entry, TimePoint now);

    /// Tracks entry as waiting to go out: poll() hands it over in stream
    /// order as soon as its peer's window has room.
    void queue(OutboxEntry entry, TimePoint now);

    /// Tracks entry as resting (indexd holds it) until restart() for its peer.
    void rest(OutboxEntry entry);

    /// The peer acked stream up to seq at now, and holds the lines in held
    /// ahead of a gap: the lines up to seq are forgotten and the window opens;
    /// the held ones are not sent again (unless the peer still lacks them after
    /// the longest backoff: it may drop what it holds); a line that went out
    /// before one the peer has, by kReordered sends or more, is lost and due
    /// at once; the stream's other lines not yet failed are due again within
    /// the retransmit timeout, backing off from there. A peer that sends no
    /// held runs (a build before them) says a line is missing by repeating
    /// its ack. Returns how many lines were forgotten.
    std::size_t acknowledge(const std::string& peer, const std::string& stream, std::uint64_t seq,
                            const std::vector<SeqRange>& held, TimePoint now);

    /// The line rests until restart() for its peer; false when it is not tracked.
    bool hold(const std::string& peer, const std::string& stream, std::uint64_t seq);

    /// Every line to peer waits to go out again from the first, with a new
    /// give-up time and the first window (the peer came online, moved, or
    /// left: a new path).
    void restart(const std::string& peer, TimePoint now);

    /// Forgets every line to peer; returns them in stream order.
    std::vector<OutboxEntry> takeAll(const std::string& peer);

    /// The line, while it is tracked (not acked yet); nullptr otherwise.
    const OutboxEntry* find(const std::string& peer, const std::string& stream, std::uint64_t seq) const;

    /// Every line due at now (a retry, or a waiting line its window has room
    /// for), rescheduled for its next try.
    Due poll(TimePoint now);

    /// When the next line is due; nullopt when none is (empty, or all resting).
    std::optional<TimePoint> nextDue() const;

    std::size_t size() const { return _size; }

    /// How many lines to peer are tracked.
    std::size_t count(const std::string& peer) const;

    /// How many lines to peer may be on their way at once now.
    double window(const std::string& peer) const;

private:
    /// A line: its peer and stream by id (see intern()), and its seq. Ids
    /// rather than names keep the keys free of allocations and string compares.
    struct Key
    {
        std::uint32_t peer = 0;
        std::uint32_t stream = 0;  ///< 0 comes before every stream
        std::uint64_t seq = 0;
        bool operator<(const Key& other) const
        {
            return std::tie(peer, stream, seq) < std::tie(other.peer, other.stream, other.seq);
        }
    };
    using Duration = Clock::duration;

    enum class Phase
    {
        Waiting,  ///< for room in the window
        Sent,     ///< on its way, its next try scheduled
        Resting   ///< until restart()
    };

    struct Line
    {
        OutboxEntry entry;
        bool tracked = false;  ///< false: a gap in its stream's slots
        Phase phase = Phase::Waiting;
        TimePoint due;                          ///< scheduled: the next try (Sent) or the give-up time (Waiting)
        TimePoint giveUpAt;
        std::chrono::milliseconds interval{0};  ///< the wait after the next try
        bool failed = false;
        TimePoint sentAt;  ///< the last time it went out
        int sends = 0;     ///< how often it went out since it last waited
        std::uint64_t order = 0;  ///< its place among its flow's sends, the last time it went out
        bool held = false;        ///< the peer said it holds it ahead of a gap
        bool probe = false;       ///< its last send was a probe, the newest line unheard of then
        bool scheduled = false;   ///< it has a live entry in _schedule
        std::uint64_t generation = 0;  ///< which entry in _schedule is its live one (see _generations)
    };

    /// One stream's lines, a slot per seq from first: the store numbers a
    /// stream's lines one after another and acks take them from the front,
    /// so a line is found by subtraction and no line costs a tree node.
    struct Stream
    {
        std::uint64_t first = 0;   ///< the seq of slots.front()
        std::deque<Line> slots;
        std::size_t waitFrom = 0;  ///< no slot before this one holds a waiting line
    };

    /// One peer's lines and window.
    struct Flow
    {
        std::size_t lines = 0;
        std::size_t sent = 0;     ///< lines on their way (held ones too)
        std::size_t held = 0;     ///< lines on their way that the peer holds ahead of a gap
        std::size_t waiting = 0;  ///< lines waiting for room in the window
        std::map<std::uint32_t, Stream> streams;  ///< by stream id, so the flow's lines are in Key order
        std::uint64_t sends = 0;  ///< lines sent, counting each time again
        /// Lines on their way by order, each put here when it went out; an
        /// entry whose line has been heard of since (acked, held, sent again
        /// under a later order) is skipped (see unheard()) and dropped from the front.
        std::deque<std::pair<std::uint64_t, Key>> unheard;
        std::uint64_t newestArrived = 0;       ///< the latest order the peer has for certain (sent once, then acked or held)
        std::set<Key> retried;    ///< lines on their way that went out more than once (backing off)
        double window = kInitialWindow;
        double threshold = kMaxWindow;  ///< where doubling stops
        std::optional<Duration> smoothed;  ///< the round trip, smoothed
        Duration variation{};
        TimePoint cutUntil;            ///< a loss before this is the one that cut the window already
        std::uint32_t ackedStream = 0;  ///< the stream and position of the last ack
        std::uint64_t ackedSeq = 0;
        int repeats = 0;               ///< how often that ack came again, moving nothing
        TimePoint probeAt = TimePoint::max();  ///< when to probe if the peer stays silent (no line unheard: max)
        int probes = 0;                ///< probes sent since the peer was last heard
    };

    /// A line's wake-up in _schedule: live while the line's generation is the same.
    struct Wake
    {
        TimePoint due;
        Key key;
        std::uint64_t generation = 0;
    };

    void track(OutboxEntry entry, Phase phase, TimePoint now);
    /// The tracked line at key; nullptr when there is none.
    Line* lineAt(const Key& key);
    const Line* lineAt(const Key& key) const;
    void schedule(const Key& key, Line& line, TimePoint due);
    void unschedule(Line& line);
    /// True when wake is the live wake-up of its line.
    bool live(const Wake& wake) const;
    /// Drops wake-ups that are not live from the top of _schedule, and rebuilds
    /// it when most of it is such (a line rescheduled leaves its old wake-up behind).
    void tidySchedule() const;
    /// Takes line out of its phase's bookkeeping (before it changes phase or goes).
    void leave(const Key& key, Line& line, Flow& flow);
    void send(const Key& key, Line& line, Flow& flow, TimePoint now);
    /// Counts line as gone out (again) at now.
    void goOut(const Key& key, Line& line, Flow& flow, TimePoint now);
    /// The peer has line (acked or held).
    void arrived(Line& line, Flow& flow, TimePoint now) const;
    /// Marks the lines of first's stream in held as held by the peer.
    void markHeld(const Key& first, const std::vector<SeqRange>& held, Flow& flow, TimePoint now);
    /// The line an unheard entry stands for, while it is still on its way unheard of under that order.
    Line* unheard(const std::pair<std::uint64_t, Key>& entry);
    /// The first waiting line of flow (in Key order), with its key; nullptr when none waits.
    Line* firstWaiting(std::uint32_t peer, Flow& flow, Key& key);
    /// The key before the first line of peer's stream; nullopt when neither was ever tracked.
    std::optional<Key> find(const std::string& peer, const std::string& stream) const;
    /// The id of a peer's or a stream's name, made on first use (never many: a few streams per peer).
    std::uint32_t intern(const std::string& name);
    /// The id of a name, if it was ever interned.
    std::optional<std::uint32_t> idOf(const std::string& name) const;
    /// peer's flow; nullptr when it has none.
    const Flow* flowOf(const std::string& peer) const;
    /// Makes every line that went out kReordered sends or more before one the peer has due at once.
    void resendLost(Flow& flow, TimePoint now);
    /// line is lost: it is due at once, with the round trip's timeout after that.
    void resendNow(const Key& key, Line& line, Flow& flow, TimePoint now);
    void cutWindow(Flow& flow, TimePoint now) const;
    /// A waiting line of flow may have room from now on.
    void mayOpen(const Flow& flow, TimePoint now);
    /// True when the window of flow has room for one more line.
    static bool hasRoom(const Flow& flow);
    /// Counts line (on its way) as held by the peer, or no longer held.
    static void setHeld(Line& line, Flow& flow, bool held);
    void measure(Flow& flow, Duration sample) const;
    /// The peer was heard (an ack) or a line went out at now: the probe timer starts over.
    void armProbe(Flow& flow, TimePoint now, bool heard) const;
    /// Sends the newest line of flow the peer has not been heard to have, if the probe is due; its key goes in resend.
    void probe(Flow& flow, TimePoint now, std::vector<Key>& resend);
    /// The retransmit timeout: the measured one, at least Timing::first.
    std::chrono::milliseconds timeout(const Flow& flow) const;
    /// The measured retransmit timeout alone (Timing::first before any measure).
    std::chrono::milliseconds recoveryTimeout(const Flow& flow) const;

    Timing _timing;
    std::size_t _size = 0;
    /// Wake-ups of lines sent, and of waiting lines not yet failed, as a heap
    /// by due time (the earliest on top); a line rescheduled leaves its old
    /// one behind, skipped (see live()). Tidied by the const nextDue() too.
    mutable std::vector<Wake> _schedule;
    std::size_t _scheduled = 0;  ///< lines with a live wake-up
    /// Given out to every wake-up and cancel, never twice: a line tracked
    /// again under the key of one gone cannot take an old wake-up for its own.
    std::uint64_t _generations = 0;
    std::map<std::string, std::uint32_t> _ids;
    std::map<std::uint32_t, Flow> _flows;  ///< by peer id
    /// Since when a waiting line has had room in its window (poll() sends it); nullopt: none has.
    std::optional<TimePoint> _ready;
};

} // namespace peerchat
