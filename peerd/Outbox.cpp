#include "Outbox.h"

#include <algorithm>

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
// The most on their way, 2,048 lines, stays within what a receiver holds
// ahead of a gap (Inbox::kDefaultWindow, 4,096): a window past what it holds
// loses every line beyond to a single gap, and collapsed under loss.
constexpr double kMinWindow = Outbox::kInitialWindow;
// Repeats of one ack that say the line after its position is missing.
constexpr int kRepeatsForLoss = 3;

} // namespace

Outbox::Outbox(Timing timing) : _timing(timing)
{
}

void Outbox::sent(const OutboxEntry& entry, TimePoint now)
{
    track(entry, Phase::Sent, now);
}

void Outbox::queue(const OutboxEntry& entry, TimePoint now)
{
    track(entry, Phase::Waiting, now);
}

void Outbox::rest(const OutboxEntry& entry)
{
    track(entry, Phase::Resting, TimePoint::max());
}

void Outbox::track(const OutboxEntry& entry, Phase phase, TimePoint now)
{
    const Key key{intern(entry.peer), intern(entry.stream), entry.seq};
    const auto [tracked, added] = _lines.try_emplace(key);
    if (!added) return;
    Line& line = tracked->second;
    Flow& flow = _flows[key.peer];
    ++flow.lines;
    line.entry = entry;
    line.giveUpAt = phase == Phase::Resting ? TimePoint::max() : now + _timing.giveUp;
    line.phase = Phase::Resting;
    if (phase == Phase::Sent) {
        send(key, line, flow, now);
    } else if (phase == Phase::Waiting) {
        line.phase = Phase::Waiting;
        flow.waiting.insert(key);
        schedule(key, line, line.giveUpAt);
        mayOpen(flow, now);
    }
}

void Outbox::mayOpen(const Flow& flow, TimePoint now)
{
    if (flow.waiting.empty() || static_cast<double>(flow.sent) >= flow.window) return;
    _ready = _ready ? std::min(*_ready, now) : now;
}

void Outbox::schedule(const Key& key, Line& line, TimePoint due)
{
    // A line not yet failed also wakes at its give-up time, so failure is reported on time.
    line.due = line.failed ? due : std::min(due, line.giveUpAt);
    _schedule.emplace(line.due, key);
}

void Outbox::unschedule(const Key& key, const Line& line)
{
    if (line.phase == Phase::Sent || (line.phase == Phase::Waiting && !line.failed))
        _schedule.erase({line.due, key});
}

void Outbox::leave(const Key& key, Line& line, Flow& flow)
{
    unschedule(key, line);
    if (line.phase == Phase::Sent) {
        --flow.sent;
        flow.retried.erase(key);
        flow.unheard.erase(line.order);
    }
    if (line.phase == Phase::Waiting) flow.waiting.erase(key);
    line.phase = Phase::Resting;
    line.held = false;
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
    flow.unheard.erase(line.order);
    line.held = false;
    line.order = ++flow.sends;
    flow.unheard.emplace(line.order, key);
    line.sentAt = now;
}

void Outbox::arrived(Line& line, Flow& flow, TimePoint now) const
{
    // Karn: a line sent more than once says nothing certain of the round
    // trip, nor of which of its sends arrived.
    if (line.sends != 1) return;
    measure(flow, now - line.sentAt);
    flow.newestArrived = std::max(flow.newestArrived, line.order);
}

void Outbox::markHeld(const Key& first, const std::vector<SeqRange>& held, Flow& flow, TimePoint now)
{
    for (const SeqRange& range : held) {
        for (auto it = _lines.lower_bound(Key{first.peer, first.stream, range.first});
             it != _lines.end() && sameStream(it->first, first) && it->first.seq <= range.last; ++it) {
            Line& line = it->second;
            if (line.phase != Phase::Sent || line.held) continue;
            arrived(line, flow, now);
            flow.unheard.erase(line.order);
            flow.retried.erase(it->first);
            line.held = true;
            unschedule(it->first, line);
            line.interval = _timing.longest;
            schedule(it->first, line, now + _timing.longest);
        }
    }
}

void Outbox::resendLost(Flow& flow, TimePoint now)
{
    for (auto it = flow.unheard.begin(); it != flow.unheard.end() && it->first + kReordered <= flow.newestArrived;
         ++it) {
        Line& line = _lines.at(it->second);
        if (line.failed || line.due <= now) continue;
        resendNow(it->second, line, flow, now);
    }
}

void Outbox::resendNow(const Key& key, Line& line, Flow& flow, TimePoint now)
{
    cutWindow(flow, now);
    unschedule(key, line);
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
    auto it = _lines.lower_bound(*first);
    while (it != _lines.end() && sameStream(it->first, *first) && it->first.seq <= seq) {
        Line& line = it->second;
        if (line.phase == Phase::Sent) {
            ++arrivedLines;
            if (!line.held) arrived(line, flow, now);
        }
        leave(it->first, line, flow);
        it = _lines.erase(it);
        ++forgotten;
    }
    markHeld(*first, held, flow, now);
    resendLost(flow, now);
    const bool ackedBefore = first->stream == flow.ackedStream;
    // An ack overtaken by a later one says nothing new.
    if (forgotten == 0 && ackedBefore && seq < flow.ackedSeq) return 0;
    const Key next{first->peer, first->stream, seq + 1};
    const auto missing = _lines.find(next);
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
        if (held.empty() && flow.repeats >= kRepeatsForLoss && missing != _lines.end() && missing->second.phase == Phase::Sent &&
            !missing->second.failed && now - missing->second.sentAt >= flow.smoothed.value_or(Duration::zero())) {
            resendNow(next, missing->second, flow, now);
            flow.repeats = 0;
        }
        return 0;
    }
    flow.repeats = 0;
    if (forgotten == 0) return 0;
    flow.lines -= forgotten;
    const double grown = flow.window < flow.threshold ? flow.window + static_cast<double>(arrivedLines)
                                                       : flow.window + static_cast<double>(arrivedLines) / flow.window;
    flow.window = std::min(grown, kMaxWindow);
    const std::chrono::milliseconds wait = timeout(flow);
    const auto dueWithin = [&](const Key& key, Line& line, TimePoint due) {
        if (line.phase != Phase::Sent || line.failed || line.due <= due) return;
        unschedule(key, line);
        line.interval = std::min(wait * 2, _timing.longest);
        schedule(key, line, due);
    };
    // Only lines that went out more than once can be backing off past the timeout.
    for (auto retried = flow.retried.lower_bound(*first);
         retried != flow.retried.end() && retried->stream == first->stream; ++retried) {
        dueWithin(*retried, _lines.at(*retried), now + wait);
    }
    // Moving on but not past what went out before a cut: the next line is
    // missing too (a peer that names what it holds said so already).
    if (held.empty() && missing != _lines.end() && now < flow.cutUntil && missing->second.sentAt + wait < flow.cutUntil)
        dueWithin(next, missing->second, now);
    mayOpen(flow, now);
    return forgotten;
}

bool Outbox::hold(const std::string& peer, const std::string& stream, std::uint64_t seq)
{
    const auto first = find(peer, stream);
    if (!first) return false;
    const auto it = _lines.find(Key{first->peer, first->stream, seq});
    if (it == _lines.end()) return false;
    Flow& flow = _flows.at(first->peer);
    const bool wasSent = it->second.phase == Phase::Sent;
    leave(it->first, it->second, flow);
    // Its place in the window is free since it went out.
    if (wasSent) mayOpen(flow, it->second.sentAt);
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
    for (auto it = _lines.lower_bound(Key{*id, 0, 0}); it != _lines.end() && it->first.peer == *id; ++it) {
        Line& line = it->second;
        leave(it->first, line, flow);
        line.failed = false;
        line.giveUpAt = now + _timing.giveUp;
        line.phase = Phase::Waiting;
        flow.waiting.insert(it->first);
        schedule(it->first, line, line.giveUpAt);
    }
    mayOpen(flow, now);
}

std::vector<OutboxEntry> Outbox::takeAll(const std::string& peer)
{
    std::vector<OutboxEntry> taken;
    const auto id = idOf(peer);
    if (!id) return taken;
    auto it = _lines.lower_bound(Key{*id, 0, 0});
    while (it != _lines.end() && it->first.peer == *id) {
        unschedule(it->first, it->second);
        taken.push_back(std::move(it->second.entry));
        it = _lines.erase(it);
    }
    _flows.erase(*id);
    return taken;
}

const OutboxEntry* Outbox::find(const std::string& peer, const std::string& stream, std::uint64_t seq) const
{
    const auto first = find(peer, stream);
    if (!first) return nullptr;
    const auto it = _lines.find(Key{first->peer, first->stream, seq});
    return it == _lines.end() ? nullptr : &it->second.entry;
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

Outbox::Due Outbox::poll(TimePoint now)
{
    std::vector<Key> dueKeys;
    for (auto it = _schedule.begin(); it != _schedule.end() && it->first <= now; ++it) dueKeys.push_back(it->second);

    Due due;
    std::vector<Key> resend;
    for (const Key& key : dueKeys) {
        Line& line = _lines.at(key);
        Flow& flow = _flows.at(key.peer);
        const bool fails = !line.failed && now >= line.giveUpAt;
        if (fails) due.failed.push_back(line.entry);
        if (line.phase == Phase::Waiting) {
            // Its give-up time passed before its turn came: reported, and it waits on.
            unschedule(key, line);
            line.failed = true;
            continue;
        }
        unschedule(key, line);
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
        while (!flow.waiting.empty() && static_cast<double>(flow.sent) < flow.window) {
            const Key key = *flow.waiting.begin();
            send(key, _lines.at(key), flow, now);
            resend.push_back(key);
        }
    }
    _ready.reset();
    std::sort(resend.begin(), resend.end());
    due.resend.reserve(resend.size());
    for (const Key& key : resend) due.resend.push_back(_lines.at(key).entry);
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
    if (_schedule.empty()) return _ready;
    const TimePoint scheduled = _schedule.begin()->first;
    return _ready ? std::min(*_ready, scheduled) : scheduled;
}

} // namespace peerchat
