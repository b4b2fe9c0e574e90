#pragma once

#include "Timers.h"

#include <map>
#include <utility>

namespace peerchat::test {

/// Timers on a clock that moves only when the test turns it: advance() runs
/// every timer that falls due on the way, in order of due time (and of
/// arming, for the same time), each with now() at its due time.
class ManualTimers : public Timers
{
public:
    TimePoint now() const override { return _now; }
    std::int64_t wallMs() const override
    {
        return kWallStartMs + std::chrono::duration_cast<std::chrono::milliseconds>(_now - TimePoint{}).count();
    }

    TimerId runAfter(std::chrono::milliseconds delay, Task task) override
    {
        const TimerId id = _next++;
        _due.emplace(std::make_pair(_now + delay, id), std::move(task));
        return id;
    }

    void cancel(TimerId id) override
    {
        for (auto it = _due.begin(); it != _due.end(); ++it) {
            if (it->first.second == id) {
                _due.erase(it);
                return;
            }
        }
    }

    /// Moves the clock by step, running what falls due on the way (also
    /// timers those timers arm, when they fall within step).
    void advance(std::chrono::milliseconds step)
    {
        const TimePoint end = _now + step;
        while (!_due.empty() && _due.begin()->first.first <= end) {
            auto first = _due.begin();
            _now = first->first.first;
            Task task = std::move(first->second);
            _due.erase(first);
            task();
        }
        _now = end;
    }

    /// How many timers are armed.
    std::size_t pending() const { return _due.size(); }

    /// 2026-01-01T00:00:00Z: wallMs() at the start of the test's clock.
    static constexpr std::int64_t kWallStartMs = 1767225600000;

private:
    TimePoint _now{};
    TimerId _next = 1;
    std::map<std::pair<TimePoint, TimerId>, Task> _due;
};

} // namespace peerchat::test
