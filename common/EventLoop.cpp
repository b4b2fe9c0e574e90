#include "EventLoop.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <unistd.h>

namespace peerchat {

namespace {

Poco::Logger& logger() { return Poco::Logger::get("EventLoop"); }

// Runs one callback; an exception is logged once and swallowed so the loop,
// and every other connection on it, goes on.
template <typename F>
void guarded(const char* what, F&& f)
{
    try {
        f();
    } catch (const Poco::Exception& e) {
        logger().error("%s failed: %s", std::string(what), e.displayText());
    } catch (const std::exception& e) {
        logger().error("%s failed: %s", std::string(what), std::string(e.what()));
    } catch (...) {
        logger().error("%s failed with an unknown exception", std::string(what));
    }
}

} // namespace

EventLoop::EventLoop()
{
    _wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (_wakeFd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

EventLoop::~EventLoop()
{
    ::close(_wakeFd);
}

void EventLoop::watch(int fd, short events, FdCallback callback)
{
    _watches[fd] = Watch{events, std::move(callback)};
}

void EventLoop::modify(int fd, short events)
{
    auto it = _watches.find(fd);
    if (it != _watches.end()) it->second.events = events;
}

void EventLoop::unwatch(int fd)
{
    _watches.erase(fd);
}

Timers::TimePoint EventLoop::now() const
{
    return Clock::now();
}

std::int64_t EventLoop::wallMs() const
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

EventLoop::TimerId EventLoop::runAfter(std::chrono::milliseconds delay, Task task)
{
    const TimerId id = _nextTimer++;
    const auto due = Clock::now() + delay;
    _timers.emplace(id, std::make_pair(due, std::move(task)));
    _timerQueue.emplace(due, id);
    return id;
}

void EventLoop::cancel(TimerId id)
{
    _timers.erase(id);
}

void EventLoop::post(Task task)
{
    {
        std::lock_guard<std::mutex> lock(_postMutex);
        _posted.push_back(std::move(task));
    }
    wake();
}

void EventLoop::stop()
{
    _stopRequested = true;
    wake();
}

void EventLoop::wake()
{
    const std::uint64_t one = 1;
    // A full counter already means a wake-up is pending, so a failed write loses nothing.
    [[maybe_unused]] auto written = ::write(_wakeFd, &one, sizeof one);
}

void EventLoop::runPosted()
{
    std::uint64_t count;
    [[maybe_unused]] auto drained = ::read(_wakeFd, &count, sizeof count);
    std::vector<Task> tasks;
    {
        std::lock_guard<std::mutex> lock(_postMutex);
        tasks.swap(_posted);
    }
    for (auto& task : tasks) guarded("posted task", task);
}

void EventLoop::runDueTimers()
{
    const auto now = Clock::now();
    while (!_timerQueue.empty() && _timerQueue.begin()->first <= now) {
        const TimerId id = _timerQueue.begin()->second;
        _timerQueue.erase(_timerQueue.begin());
        auto it = _timers.find(id);
        if (it == _timers.end()) continue;
        Task task = std::move(it->second.second);
        _timers.erase(it);
        guarded("timer", task);
    }
}

int EventLoop::pollTimeoutMs()
{
    // cancel() leaves the timer's place in the queue; dropped here, it costs
    // no wake-up. (A timer re-armed at every line, as the retransmit timer is,
    // used to wake the loop once per line when each cancelled one came due.)
    while (!_timerQueue.empty() && _timers.count(_timerQueue.begin()->second) == 0)
        _timerQueue.erase(_timerQueue.begin());
    if (_timerQueue.empty()) return 1000;
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(_timerQueue.begin()->first - Clock::now());
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, std::min<std::chrono::milliseconds::rep>(wait.count() + 1, 1000)));
}

void EventLoop::run()
{
    std::vector<pollfd> fds;
    while (!_stopRequested) {
        fds.clear();
        fds.push_back(pollfd{_wakeFd, POLLIN, 0});
        for (const auto& [fd, w] : _watches) {
            short events = 0;
            if (w.events & Readable) events |= POLLIN;
            if (w.events & Writable) events |= POLLOUT;
            fds.push_back(pollfd{fd, events, 0});
        }
        ++_turns;
        const int ready = ::poll(fds.data(), fds.size(), pollTimeoutMs());
        if (ready < 0 && errno != EINTR) {
            logger().error("poll failed: %s", std::string(std::strerror(errno)));
            continue;
        }
        if (ready > 0) {
            if (fds[0].revents) runPosted();
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!fds[i].revents) continue;
                // The callback of an earlier fd may have unwatched this one.
                auto it = _watches.find(fds[i].fd);
                if (it == _watches.end()) continue;
                short events = 0;
                if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) events |= Readable;
                if (fds[i].revents & (POLLOUT | POLLERR)) events |= Writable;
                if (fds[i].revents & POLLNVAL) {
                    logger().error("fd %d was closed while watched; unwatching it", fds[i].fd);
                    _watches.erase(it);
                    continue;
                }
                FdCallback callback = it->second.callback;
                guarded("socket callback", [&] { callback(events); });
            }
        }
        runDueTimers();
    }
    _stopRequested = false;
}

} // namespace peerchat
