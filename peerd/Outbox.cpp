#include "Outbox.h"

#include <algorithm>

namespace peerchat {

Outbox::Outbox(Timing timing) : _timing(timing)
{
}

void Outbox::sent(const OutboxEntry& entry, TimePoint now)
{
    track(entry, now + _timing.first, now + _timing.giveUp, std::min(_timing.first * 2, _timing.longest), false);
}

void Outbox::queue(const OutboxEntry& entry, TimePoint now)
{
    track(entry, now, now + _timing.giveUp, _timing.first, false);
}

void Outbox::rest(const OutboxEntry& entry)
{
    track(entry, TimePoint::max(), TimePoint::max(), _timing.first, true);
}

void Outbox::track(const OutboxEntry& entry, TimePoint due, TimePoint giveUpAt, std::chrono::milliseconds interval,
                   bool resting)
{
    const Key key{entry.peer, entry.stream, entry.seq};
    if (_lines.count(key) != 0) return;
    Line& line = _lines[key];
    ++_counts[entry.peer];
    line.entry = entry;
    line.giveUpAt = giveUpAt;
    line.interval = interval;
    line.resting = resting;
    if (!resting) schedule(key, line, due);
}

void Outbox::schedule(const Key& key, Line& line, TimePoint due)
{
    // A line not yet failed also wakes at its give-up time, so failure is reported on time.
    line.due = line.failed ? due : std::min(due, line.giveUpAt);
    _schedule.emplace(line.due, key);
}

void Outbox::unschedule(const Key& key, const Line& line)
{
    if (!line.resting) _schedule.erase({line.due, key});
}

std::size_t Outbox::acknowledge(const std::string& peer, const std::string& stream, std::uint64_t seq,
                                TimePoint now)
{
    std::size_t forgotten = 0;
    auto it = _lines.lower_bound(Key{peer, stream, 0});
    while (it != _lines.end() && std::get<0>(it->first) == peer && std::get<1>(it->first) == stream &&
           std::get<2>(it->first) <= seq) {
        unschedule(it->first, it->second);
        it = _lines.erase(it);
        ++forgotten;
    }
    if (forgotten == 0) return 0;
    uncount(peer, forgotten);
    for (; it != _lines.end() && std::get<0>(it->first) == peer && std::get<1>(it->first) == stream; ++it) {
        Line& line = it->second;
        if (line.resting || line.failed || line.due <= now + _timing.first) continue;
        unschedule(it->first, line);
        line.interval = std::min(_timing.first * 2, _timing.longest);
        schedule(it->first, line, now + _timing.first);
    }
    return forgotten;
}

bool Outbox::hold(const std::string& peer, const std::string& stream, std::uint64_t seq)
{
    const auto it = _lines.find(Key{peer, stream, seq});
    if (it == _lines.end()) return false;
    unschedule(it->first, it->second);
    it->second.resting = true;
    return true;
}

void Outbox::restart(const std::string& peer, TimePoint now)
{
    for (auto it = _lines.lower_bound(Key{peer, "", 0}); it != _lines.end() && std::get<0>(it->first) == peer; ++it) {
        Line& line = it->second;
        unschedule(it->first, line);
        line.resting = false;
        line.failed = false;
        line.giveUpAt = now + _timing.giveUp;
        line.interval = _timing.first;
        schedule(it->first, line, now);
    }
}

std::vector<OutboxEntry> Outbox::takeAll(const std::string& peer)
{
    std::vector<OutboxEntry> taken;
    auto it = _lines.lower_bound(Key{peer, "", 0});
    while (it != _lines.end() && std::get<0>(it->first) == peer) {
        unschedule(it->first, it->second);
        taken.push_back(std::move(it->second.entry));
        it = _lines.erase(it);
    }
    uncount(peer, taken.size());
    return taken;
}

const OutboxEntry* Outbox::find(const std::string& peer, const std::string& stream, std::uint64_t seq) const
{
    const auto it = _lines.find(Key{peer, stream, seq});
    return it == _lines.end() ? nullptr : &it->second.entry;
}

Outbox::Due Outbox::poll(TimePoint now)
{
    std::vector<Key> dueKeys;
    for (auto it = _schedule.begin(); it != _schedule.end() && it->first <= now; ++it) dueKeys.push_back(it->second);
    std::sort(dueKeys.begin(), dueKeys.end());

    Due due;
    for (const Key& key : dueKeys) {
        Line& line = _lines.at(key);
        unschedule(key, line);
        if (!line.failed && now >= line.giveUpAt) {
            line.failed = true;
            line.interval = _timing.giveUp;
            due.failed.push_back(line.entry);
        }
        due.resend.push_back(line.entry);
        const std::chrono::milliseconds wait = line.interval;
        if (!line.failed) line.interval = std::min(line.interval * 2, _timing.longest);
        schedule(key, line, now + wait);
    }
    return due;
}

std::size_t Outbox::count(const std::string& peer) const
{
    const auto it = _counts.find(peer);
    return it == _counts.end() ? 0 : it->second;
}

void Outbox::uncount(const std::string& peer, std::size_t lines)
{
    const auto it = _counts.find(peer);
    if (it == _counts.end()) return;
    it->second -= std::min(it->second, lines);
    if (it->second == 0) _counts.erase(it);
}

std::optional<Outbox::TimePoint> Outbox::nextDue() const
{
    if (_schedule.empty()) return std::nullopt;
    return _schedule.begin()->first;
}

} // namespace peerchat
