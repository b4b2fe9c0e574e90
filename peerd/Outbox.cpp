#include "Outbox.h"

#include <algorithm>
#include <utility>

namespace peerchat {

namespace {

// The least the window is cut to: the first window. A chat path loses
// datagrams far more often to a radio or a NAT than to a queue it fills, and
// below this a lossy path crawls: each lost line holds its place in the
// window until it is sent again (with cumulative acks only, as from a peer
// before selective acks, a window of 32 moved 30 lines/s at 30 % loss in
// ReliabilityTest's bad network, one of 256 moved 500). It was 256 while
// each line had a datagram of its own; in bundles of about nine, that was 28
// datagrams on their way, and under 5 % loss ThroughputBench moved 0.43 to
// 0.54 of its lossless rate (the window sits at the floor, cut in nearly
// every round trip); 512 moved 0.66 in the same runs. Once the loops got
// cheaper, 512 fell to 0.38-0.52 of a faster lossless rate and 1,024 (up to
// 2,048) held 0.64-0.75 (docs/PERFORMANCE.md, sixth step).
// Lines past what a receiver holds ahead of a gap (Inbox::kDefaultWindow,
// 4,096) are lost to a single gap, which collapsed the rate under loss:
// kMostAhead keeps every line within it. Until the twelfth step held lines
// counted in the window, so that a window of 2,048 stayed within it; then a
// loss stopped the stream for as long as its retry took, and a lost retry
// for its whole timeout (0.31 to 0.91 of the lossless rate in one session's
// runs; 0.77 to 1.05 since).
constexpr double kMinWindow = Outbox::kInitialWindow;
// Repeats of one ack that say the line after its position is missing.
constexpr int kRepeatsForLoss = 3;

} // namespace

Outbox::Outbox(Timing timing) : _timing(timing)
{
}

void Outbox::sent(OutboxEntry entry, TimePoint now)
{
    track(std::move(entry), Phase::Sent, now);
}

void Outbox::queue(OutboxEntry entry, TimePoint now)
{
    track(std::move(entry), Phase::Waiting, now);
}

void Outbox::rest(OutboxEntry entry)
{
    track(std::move(entry), Phase::Resting, TimePoint::max());
}

void Outbox::track(OutboxEntry entry, Phase phase, TimePoint now)
{
    const Key key{intern(entry.peer), intern(entry.stream), entry.seq};
    Flow& flow = _flows[key.peer];
    const auto [found, newStream] = flow.streams.try_emplace(key.stream);
    Stream& stream = found->second;
    if (newStream || stream.slots.empty()) {
        stream.first = key.seq;
        stream.waitFrom = 0;
    }
    if (key.seq < stream.first) {
        const auto before = static_cast<std::size_t>(stream.first - key.seq);
        stream.slots.insert(stream.slots.begin(), before, Line{});
        stream.first = key.seq;
        stream.waitFrom += before;
    }
    const auto index = static_cast<std::size_t>(key.seq - stream.first);
    if (index >= stream.slots.size()) stream.slots.resize(index + 1);
    Line& line = stream.slots[index];
    if (line.tracked) return;
    line = Line{};
    line.tracked = true;
    ++flow.lines;
    ++_size;
    line.entry = std::move(entry);
    line.giveUpAt = phase == Phase::Resting ? TimePoint::max() : now + _timing.giveUp;
    line.phase = Phase::Resting;
    if (phase == Phase::Sent) {
        send(key, line, flow, now);
    } else if (phase == Phase::Waiting) {
        line.phase = Phase::Waiting;
        ++flow.waiting;
        stream.waitFrom = std::min(stream.waitFrom, index);
        schedule(key, line, line.giveUpAt);
        mayOpen(flow, now);
    }
}

Outbox::Line* Outbox::lineAt(const Key& key)
{
    return const_cast<Line*>(std::as_const(*this).lineAt(key));
}

const Outbox::Line* Outbox::lineAt(const Key& key) const
{
    const auto flow = _flows.find(key.peer);
    if (flow == _flows.end()) return nullptr;
    const auto stream = flow->second.streams.find(key.stream);
    if (stream == flow->second.streams.end() || key.seq < stream->second.first) return nullptr;
    const std::uint64_t index = key.seq - stream->second.first;
    if (index >= stream->second.slots.size()) return nullptr;
    const Line& line = stream->second.slots[static_cast<std::size_t>(index)];
    return line.tracked ? &line : nullptr;
}

void Outbox::mayOpen(const Flow& flow, TimePoint now)
{
    if (flow.waiting == 0 || !hasRoom(flow)) return;
    _ready = _ready ? std::min(*_ready, now) : now;
}

bool Outbox::hasRoom(const Flow& flow)
{
    return static_cast<double>(flow.sent - flow.held) < flow.window;
}

void Outbox::setHeld(Line& line, Flow& flow, bool held)
{
    if (line.held == held) return;
    line.held = held;
    if (held) {
        ++flow.held;
    } else {
        --flow.held;
    }
}

namespace {

// The heap's order: the earliest wake-up on top, lines of one due time in Key order.
template <typename Wake>
bool wakesLater(const Wake& a, const Wake& b)
{
    if (a.due != b.due) return a.due > b.due;
    return b.key < a.key;
}

} // namespace

void Outbox::schedule(const Key& key, Line& line, TimePoint due)
{
    // A line not yet failed also wakes at its give-up time, so failure is reported on time.
    line.due = line.failed ? due : std::min(due, line.giveUpAt);
    if (!line.scheduled) ++_scheduled;
    line.scheduled = true;
    line.generation = ++_generations;
    _schedule.push_back(Wake{line.due, key, line.generation});
    std::push_heap(_schedule.begin(), _schedule.end(), wakesLater<Wake>);
}

void Outbox::unschedule(Line& line)
{
    if (!line.scheduled) return;
    line.scheduled = false;
    line.generation = ++_generations;
    --_scheduled;
}

bool Outbox::live(const Wake& wake) const
{
    const Line* line = lineAt(wake.key);
    return line != nullptr && line->scheduled && line->generation == wake.generation;
}

void Outbox::tidySchedule() const
{
    // Rebuilt when more than half is left behind: memory stays within twice
    // the lines scheduled, and each rebuild is paid for by the wake-ups it drops.
    if (_schedule.size() > 2 * _scheduled + 64) {
        std::vector<Wake> kept;
        kept.reserve(_scheduled);
        for (const Wake& wake : _schedule) {
            if (live(wake)) kept.push_back(wake);
        }
        _schedule = std::move(kept);
        std::make_heap(_schedule.begin(), _schedule.end(), wakesLater<Wake>);
    }
    while (!_schedule.empty() && !live(_schedule.front())) {
        std::pop_heap(_schedule.begin(), _schedule.end(), wakesLater<Wake>);
        _schedule.pop_back();
    }
}

void Outbox::leave(const Key& key, Line& line, Flow& flow)
{
    unschedule(line);
    if (line.phase == Phase::Sent) {
        setHeld(line, flow, false);
        --flow.sent;
        flow.retried.erase(key);
    }
    if (line.phase == Phase::Waiting) --flow.waiting;
    line.phase = Phase::Resting;
}

// Puts line on its way at now (the caller sends it).
void Outbox::send(const Key& key, Line& line, Flow& flow, TimePoint now)
{
    leave(key, line, flow);
    line.phase = Phase::Sent;
    ++flow.sent;
    line.sends = 1;
    goOut(key, line, flow, now);
    if (line.failed) {
        line.interval = _timing.giveUp;
        schedule(key, line, now + _timing.giveUp);
        return;
    }
    const std::chrono::milliseconds wait = timeout(flow);
    line.interval = std::min(wait * 2, _timing.longest);
    schedule(key, line, now + wait);
}

void Outbox::goOut(const Key& key, Line& line, Flow& flow, TimePoint now)
{
    setHeld(line, flow, false);
    line.probe = false;
    line.order = ++flow.sends;
    flow.unheard.emplace_back(line.order, key);
    // Entries left behind by lines heard of since go once they outnumber the lines on their way.
    if (flow.unheard.size() > 2 * flow.sent + 64) {
        std::deque<std::pair<std::uint64_t, Key>> kept;
        for (const auto& entry : flow.unheard) {
            if (unheard(entry) != nullptr) kept.push_back(entry);
        }
        flow.unheard = std::move(kept);
    }
    line.sentAt = now;
    armProbe(flow, now, false);
}

void Outbox::armProbe(Flow& flow, TimePoint now, bool heard) const
{
    if (heard) flow.probes = 0;
    // Before a round trip is measured the retry timeout is as soon as a probe would be.
    if (!flow.smoothed) return;
    const Duration timeout = std::max<Duration>(2 * *flow.smoothed, kLeastProbe);
    flow.probeAt = now + timeout * (1 << std::min(flow.probes, 6));
}

void Outbox::probe(Flow& flow, TimePoint now, std::vector<Key>& resend)
{
    if (flow.probeAt > now) return;
    flow.probeAt = TimePoint::max();
    for (auto entry = flow.unheard.rbegin(); entry != flow.unheard.rend(); ++entry) {
        Line* line = unheard(*entry);
        if (line == nullptr) continue;
        // Gone out in this poll already, or given up on: no probe.
        if (line->sentAt == now || line->failed) return;
        const Key key = entry->second;
        // It goes out a probe timeout after every line unheard of: past any
        // reordering, so its arrival says each of them is lost.
        flow.sends += kReordered;
        ++flow.probes;
        ++line->sends;
        flow.retried.insert(key);
        goOut(key, *line, flow, now);
        line->probe = true;
        resend.push_back(key);
        return;
    }
}

Outbox::Line* Outbox::unheard(const std::pair<std::uint64_t, Key>& entry)
{
    Line* line = lineAt(entry.second);
    if (line == nullptr || line->phase != Phase::Sent || line->held || line->order != entry.first) return nullptr;
    return line;
}

void Outbox::arrived(Line& line, Flow& flow, TimePoint now) const
{
    // Karn: a line sent more than once says nothing certain of the round
    // trip, nor of which of its sends arrived. A probe went out as the
    // newest line unheard of: every line unheard of went out before either of
    // its sends, so its arrival says they are lost once later lines arrive.
    if (line.probe) flow.newestArrived = std::max(flow.newestArrived, line.order);
    if (line.sends != 1) return;
    measure(flow, now - line.sentAt);
    flow.newestArrived = std::max(flow.newestArrived, line.order);
}

void Outbox::markHeld(const Key& first, const std::vector<SeqRange>& held, Flow& flow, TimePoint now)
{
    const auto found = flow.streams.find(first.stream);
    if (found == flow.streams.end()) return;
    Stream& stream = found->second;
    const std::uint64_t end = stream.first + stream.slots.size();
    for (const SeqRange& range : held) {
        // The ranges come from the peer: only the seqs this stream holds are looked at.
        for (std::uint64_t seq = std::max(range.first, stream.first); seq <= range.last && seq < end; ++seq) {
            Line& line = stream.slots[static_cast<std::size_t>(seq - stream.first)];
            if (!line.tracked || line.phase != Phase::Sent || line.held) continue;
            const Key key{first.peer, first.stream, seq};
            arrived(line, flow, now);
            flow.retried.erase(key);
            setHeld(line, flow, true);
            unschedule(line);
            line.interval = _timing.longest;
            schedule(key, line, now + _timing.longest);
        }
    }
}

void Outbox::resendLost(Flow& flow, TimePoint now)
{
    while (!flow.unheard.empty() && unheard(flow.unheard.front()) == nullptr) flow.unheard.pop_front();
    for (const auto& entry : flow.unheard) {
        if (entry.first + kReordered > flow.newestArrived) break;
        Line* line = unheard(entry);
        if (line == nullptr || line->failed || line->due <= now) continue;
        resendNow(entry.second, *line, flow, now);
    }
}

void Outbox::resendNow(const Key& key, Line& line, Flow& flow, TimePoint now)
{
    cutWindow(flow, now);
    unschedule(line);
    // Known lost, not merely late: if the retry is lost too, waiting out the
    // retransmit timeout's floor (--retransmit-ms) would stall the window
    // full of lines the peer holds. So the retry's own timeout is the round
    // trip's (srtt + 4 x variation), backing off from there.
    line.interval = std::min(recoveryTimeout(flow), line.interval);
    schedule(key, line, now);
}

std::chrono::milliseconds Outbox::recoveryTimeout(const Flow& flow) const
{
    if (!flow.smoothed) return _timing.first;
    const auto estimate =
        std::chrono::ceil<std::chrono::milliseconds>(*flow.smoothed + 4 * flow.variation);
    return std::clamp(estimate, std::chrono::milliseconds(1), _timing.longest);
}

std::chrono::milliseconds Outbox::timeout(const Flow& flow) const
{
    return std::max(recoveryTimeout(flow), _timing.first);
}

// A round trip measured: RFC 6298's smoothing.
void Outbox::measure(Flow& flow, Duration sample) const
{
    if (!flow.smoothed) {
        flow.smoothed = sample;
        flow.variation = sample / 2;
        return;
    }
    const Duration difference = *flow.smoothed > sample ? *flow.smoothed - sample : sample - *flow.smoothed;
    flow.variation = (3 * flow.variation + difference) / 4;
    flow.smoothed = (7 * *flow.smoothed + sample) / 8;
}

// A line was lost: the window halves, once for all losses within a round trip.
void Outbox::cutWindow(Flow& flow, TimePoint now) const
{
    if (now < flow.cutUntil) return;
    flow.threshold = std::max(flow.window / 2, kMinWindow);
    flow.window = flow.threshold;
    flow.cutUntil = now + timeout(flow);
}

std::size_t Outbox::acknowledge(const std::string& peer, const std::string& stream, std::uint64_t seq,
                                const std::vector<SeqRange>& held, TimePoint now)
{
    // A stream never tracked has no lines to forget, nor a place in the flow's ack state.
    const auto first = find(peer, stream);
    if (!first) return 0;
    const auto found = _flows.find(first->peer);
    if (found == _flows.end()) return 0;
    Flow& flow = found->second;
    std::size_t forgotten = 0;
    std::size_t arrivedLines = 0;
    if (const auto acked = flow.streams.find(first->stream); acked != flow.streams.end()) {
        Stream& lines = acked->second;
        std::size_t taken = 0;
        while (!lines.slots.empty() && lines.first <= seq) {
            Line& line = lines.slots.front();
            if (line.tracked) {
                if (line.phase == Phase::Sent) {
                    ++arrivedLines;
                    if (!line.held) arrived(line, flow, now);
                }
                leave(Key{first->peer, first->stream, lines.first}, line, flow);
                ++forgotten;
            }
            lines.slots.pop_front();
            ++lines.first;
            ++taken;
        }
        lines.waitFrom = lines.waitFrom > taken ? lines.waitFrom - taken : 0;
        flow.lines -= forgotten;
        _size -= forgotten;
    }
    markHeld(*first, held, flow, now);
    resendLost(flow, now);
    armProbe(flow, now, true);
    const bool ackedBefore = first->stream == flow.ackedStream;
    // An ack overtaken by a later one says nothing new.
    if (forgotten == 0 && ackedBefore && seq < flow.ackedSeq) return 0;
    const Key next{first->peer, first->stream, seq + 1};
    Line* missing = lineAt(next);
    const bool repeated = forgotten == 0 && ackedBefore && seq == flow.ackedSeq;
    flow.ackedStream = first->stream;
    flow.ackedSeq = seq;
    if (repeated) {
        // A peer that names what it holds said which lines are lost. One that
        // does not says only that it has later lines, not the next one: lost, when it says so
        // often enough; and lost again if it still says so a round trip after
        // the line went out again (on a lossy path the retry is lost too, and
        // waiting out its backoff would stall the stream).
        ++flow.repeats;
        if (held.empty() && flow.repeats >= kRepeatsForLoss && missing != nullptr && missing->phase == Phase::Sent &&
            !missing->failed && now - missing->sentAt >= flow.smoothed.value_or(Duration::zero())) {
            resendNow(next, *missing, flow, now);
            flow.repeats = 0;
        }
        return 0;
    }
    flow.repeats = 0;
    if (forgotten == 0) return 0;
    const double grown = flow.window < flow.threshold ? flow.window + static_cast<double>(arrivedLines)
                                                       : flow.window + static_cast<double>(arrivedLines) / flow.window;
    flow.window = std::min(grown, kMaxWindow);
    const std::chrono::milliseconds wait = timeout(flow);
    const auto dueWithin = [&](const Key& key, Line& line, TimePoint due) {
        if (line.phase != Phase::Sent || line.failed || line.due <= due) return;
        unschedule(line);
        line.interval = std::min(wait * 2, _timing.longest);
        schedule(key, line, due);
    };
    // Only lines that went out more than once can be backing off past the timeout.
    for (auto retried = flow.retried.lower_bound(*first);
         retried != flow.retried.end() && retried->stream == first->stream; ++retried) {
        if (Line* line = lineAt(*retried)) dueWithin(*retried, *line, now + wait);
    }
    // Moving on but not past what went out before a cut: the next line is
    // missing too (a peer that names what it holds said so already).
    if (held.empty() && missing != nullptr && now < flow.cutUntil && missing->sentAt + wait < flow.cutUntil)
        dueWithin(next, *missing, now);
    mayOpen(flow, now);
    return forgotten;
}

bool Outbox::hold(const std::string& peer, const std::string& stream, std::uint64_t seq)
{
    const auto first = find(peer, stream);
    if (!first) return false;
    const Key key{first->peer, first->stream, seq};
    Line* line = lineAt(key);
    if (line == nullptr) return false;
    Flow& flow = _flows.at(first->peer);
    const bool wasSent = line->phase == Phase::Sent;
    leave(key, *line, flow);
    // Its place in the window is free since it went out.
    if (wasSent) mayOpen(flow, line->sentAt);
    return true;
}

void Outbox::restart(const std::string& peer, TimePoint now)
{
    const auto id = idOf(peer);
    if (!id) return;
    const auto found = _flows.find(*id);
    if (found == _flows.end()) return;
    Flow& flow = found->second;
    flow.window = kInitialWindow;
    flow.threshold = kMaxWindow;
    flow.repeats = 0;
    flow.probes = 0;
    for (auto& [streamId, stream] : flow.streams) {
        stream.waitFrom = 0;
        for (std::size_t i = 0; i < stream.slots.size(); ++i) {
            Line& line = stream.slots[i];
            if (!line.tracked) continue;
            const Key key{*id, streamId, stream.first + i};
            leave(key, line, flow);
            line.failed = false;
            line.giveUpAt = now + _timing.giveUp;
            line.phase = Phase::Waiting;
            ++flow.waiting;
            schedule(key, line, line.giveUpAt);
        }
    }
    mayOpen(flow, now);
}

std::vector<OutboxEntry> Outbox::takeAll(const std::string& peer)
{
    std::vector<OutboxEntry> taken;
    const auto id = idOf(peer);
    if (!id) return taken;
    const auto found = _flows.find(*id);
    if (found == _flows.end()) return taken;
    for (auto& [streamId, stream] : found->second.streams) {
        for (Line& line : stream.slots) {
            if (!line.tracked) continue;
            unschedule(line);
            taken.push_back(std::move(line.entry));
        }
    }
    _size -= found->second.lines;
    _flows.erase(found);
    return taken;
}

const OutboxEntry* Outbox::find(const std::string& peer, const std::string& stream, std::uint64_t seq) const
{
    const auto first = find(peer, stream);
    if (!first) return nullptr;
    const Line* line = lineAt(Key{first->peer, first->stream, seq});
    return line == nullptr ? nullptr : &line->entry;
}

std::optional<Outbox::Key> Outbox::find(const std::string& peer, const std::string& stream) const
{
    const auto peerId = idOf(peer);
    const auto streamId = idOf(stream);
    if (!peerId || !streamId) return std::nullopt;
    return Key{*peerId, *streamId, 0};
}

std::optional<std::uint32_t> Outbox::idOf(const std::string& name) const
{
    const auto it = _ids.find(name);
    if (it == _ids.end()) return std::nullopt;
    return it->second;
}

const Outbox::Flow* Outbox::flowOf(const std::string& peer) const
{
    const auto id = idOf(peer);
    const auto it = id ? _flows.find(*id) : _flows.end();
    return it == _flows.end() ? nullptr : &it->second;
}

std::uint32_t Outbox::intern(const std::string& name)
{
    // Found first: emplace() builds its node (a copy of name) before it looks, and every line interns two names.
    if (const auto known = _ids.find(name); known != _ids.end()) return known->second;
    return _ids.emplace(name, static_cast<std::uint32_t>(_ids.size() + 1)).first->second;
}

Outbox::Line* Outbox::firstWaiting(std::uint32_t peer, Flow& flow, Key& key)
{
    for (auto& [streamId, stream] : flow.streams) {
        for (; stream.waitFrom < stream.slots.size(); ++stream.waitFrom) {
            Line& line = stream.slots[stream.waitFrom];
            if (line.tracked && line.phase == Phase::Waiting) {
                key = Key{peer, streamId, stream.first + stream.waitFrom};
                return &line;
            }
        }
    }
    return nullptr;
}

Outbox::Due Outbox::poll(TimePoint now)
{
    std::vector<Key> dueKeys;
    tidySchedule();
    while (!_schedule.empty() && _schedule.front().due <= now) {
        const Wake wake = _schedule.front();
        std::pop_heap(_schedule.begin(), _schedule.end(), wakesLater<Wake>);
        _schedule.pop_back();
        if (live(wake)) dueKeys.push_back(wake.key);
    }

    Due due;
    std::vector<Key> resend;
    for (const Key& key : dueKeys) {
        Line& line = *lineAt(key);
        Flow& flow = _flows.at(key.peer);
        const bool fails = !line.failed && now >= line.giveUpAt;
        if (fails) due.failed.push_back(line.entry);
        if (line.phase == Phase::Waiting) {
            // Its give-up time passed before its turn came: reported, and it waits on.
            unschedule(line);
            line.failed = true;
            continue;
        }
        unschedule(line);
        if (fails) {
            line.failed = true;
            line.interval = _timing.giveUp;
        }
        cutWindow(flow, now);
        resend.push_back(key);
        flow.retried.insert(key);
        ++line.sends;
        goOut(key, line, flow, now);
        const std::chrono::milliseconds wait = line.interval;
        if (!line.failed) line.interval = std::min(line.interval * 2, _timing.longest);
        schedule(key, line, now + wait);
    }
    for (auto& [peer, flow] : _flows) {
        probe(flow, now, resend);
        while (flow.waiting > 0 && hasRoom(flow)) {
            Key key;
            Line* line = firstWaiting(peer, flow, key);
            if (line == nullptr || key.seq - flow.streams.at(key.stream).first >= kMostAhead) break;
            send(key, *line, flow, now);
            resend.push_back(key);
        }
    }
    _ready.reset();
    std::sort(resend.begin(), resend.end());
    due.resend.reserve(resend.size());
    for (const Key& key : resend) due.resend.push_back(lineAt(key)->entry);
    return due;
}

std::size_t Outbox::count(const std::string& peer) const
{
    const Flow* flow = flowOf(peer);
    return flow == nullptr ? 0 : flow->lines;
}

double Outbox::window(const std::string& peer) const
{
    const Flow* flow = flowOf(peer);
    return flow == nullptr ? kInitialWindow : flow->window;
}

std::optional<Outbox::TimePoint> Outbox::nextDue() const
{
    tidySchedule();
    std::optional<TimePoint> next = _ready;
    const auto earliest = [&next](TimePoint due) { next = next ? std::min(*next, due) : due; };
    if (!_schedule.empty()) earliest(_schedule.front().due);
    for (const auto& [peer, flow] : _flows) {
        if (flow.sent > flow.held && flow.probeAt != TimePoint::max()) earliest(flow.probeAt);
    }
    return next;
}

} // namespace peerchat
