#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace peerchat {

/// The time and one-shot timers a state class runs on, injected: EventLoop
/// in the daemons, a hand-turned clock in unit tests (tests/support/ManualTimers.h),
/// so a test of a schedule runs in no time and the same way every time.
class Timers
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    using TimerId = std::uint64_t;
    using Task = std::function<void()>;

    virtual ~Timers() = default;

    /// The monotonic time: what timers are due against.
    virtual TimePoint now() const = 0;
    /// The wall clock in milliseconds since the Unix epoch: when a line was stored.
    virtual std::int64_t wallMs() const = 0;
    /// Runs task once after delay; returns an id for cancel().
    virtual TimerId runAfter(std::chrono::milliseconds delay, Task task) = 0;
    /// Forgets a timer that has not fired (an id that fired or was cancelled is ignored).
    virtual void cancel(TimerId id) = 0;
};

/// One timer that is armed or not: arming it again replaces the pending
/// task, and it is cancelled when it goes away, so its owner keeps no ids.
class Timer
{
public:
    explicit Timer(Timers& timers) : _timers(timers) {}
    ~Timer() { cancel(); }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    /// Runs task after delay, in place of anything pending; the timer is not
    /// armed while task runs, so task may arm it again.
    void start(std::chrono::milliseconds delay, Timers::Task task)
    {
        cancel();
        _id = _timers.runAfter(delay, [this, task = std::move(task)] {
            _id = 0;
            task();
        });
    }

    void cancel()
    {
        if (_id != 0) _timers.cancel(_id);
        _id = 0;
    }

    bool armed() const { return _id != 0; }

private:
    Timers& _timers;
    Timers::TimerId _id = 0;
};

} // namespace peerchat
