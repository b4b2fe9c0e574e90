#pragma once

#include "Timers.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

namespace peerchat {

/// A single-threaded epoll(7) loop: file descriptors, timers, and work posted
/// from other threads. Every callback runs on the loop's thread, so the state
/// they touch needs no locks. A callback that throws is logged and the loop
/// goes on. Its timers are the Timers the daemons' state classes run on.
class EventLoop : public Timers
{
public:
    enum : short { Readable = 1, Writable = 2 };
    using FdCallback = std::function<void(short events)>;

    EventLoop();
    ~EventLoop() override;
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    /// Calls callback with Readable/Writable (or both, also on error or hang-up)
    /// when fd is ready for any of events. Replaces an earlier watch of fd.
    void watch(int fd, short events, FdCallback callback);
    /// Changes which events fd is watched for.
    void modify(int fd, short events);
    /// Stops watching fd (safe from inside its own callback).
    void unwatch(int fd);

    TimePoint now() const override;
    std::int64_t wallMs() const override;
    TimerId runAfter(std::chrono::milliseconds delay, Task task) override;
    void cancel(TimerId id) override;

    /// Runs task on the loop's thread soon; safe from any thread.
    void post(Task task);

    /// Calls hook at the end of every turn, once the turn's callbacks and
    /// timers have run and before the loop waits again (so also before the
    /// first wait, and once more when run() returns): where work gathered
    /// during a turn goes out together (UdpChannel's sends). Unlike a 0 ms
    /// Timer (how UiSession and Delivery gather a turn's work), it runs
    /// after the turn's timers, so what they send goes in the same turn, not
    /// a wait later. Loop's thread only, and not from inside a hook; returns
    /// the id removeTurnEnd takes.
    std::uint64_t onTurnEnd(Task hook);
    void removeTurnEnd(std::uint64_t id);

    /// Runs until stop(); call from the thread that owns the loop.
    void run();
    /// How many times run() has waited for a socket or a timer: what a
    /// wake-up costs is paid this often. For tests; read it on the loop's thread.
    std::uint64_t turns() const { return _turns; }

    /// Makes run() return after the current iteration; safe from any thread.
    /// A stop() that comes before run() starts makes that run() return at once.
    void stop();

private:
    struct Watch { short events; FdCallback callback; };
    using Clock = std::chrono::steady_clock;

    void runPosted();
    void runDueTimers();
    void runTurnEnds();
    int waitTimeoutMs();
    void wake();

    /// Ready fds taken from the kernel per wait; more wait for the next turn.
    static constexpr std::size_t kMostEventsPerTurn = 64;

    int _epollFd = -1;
    int _wakeFd = -1;
    std::unordered_map<int, Watch> _watches;
    std::multimap<Clock::time_point, TimerId> _timerQueue;
    std::unordered_map<TimerId, std::pair<Clock::time_point, Task>> _timers;
    TimerId _nextTimer = 1;
    std::uint64_t _turns = 0;
    std::vector<std::pair<std::uint64_t, Task>> _turnEnds;
    std::uint64_t _nextTurnEnd = 1;
    std::mutex _postMutex;
    std::vector<Task> _posted;
    std::atomic<bool> _stopRequested{false};
};

} // namespace peerchat
