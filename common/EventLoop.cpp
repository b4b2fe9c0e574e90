#include "EventLoop.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/epoll.h>
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

std::uint32_t epollEvents(short events)
{
    std::uint32_t wanted = 0;
    if (events & EventLoop::Readable) wanted |= EPOLLIN;
    if (events & EventLoop::Writable) wanted |= EPOLLOUT;
    return wanted;
}

// Watches fd for events in the epoll set: changes its entry, or adds one
// where it has none (a new fd; or a number whose fd was closed while
// watched, which left the set with its close, and came back as a new fd).
void setInterest(int epollFd, int fd, std::uint32_t events)
{
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(epollFd, EPOLL_CTL_MOD, fd, &event) == 0) return;
    if (errno == ENOENT && ::epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &event) == 0) return;
    throw std::runtime_error("cannot watch fd " + std::to_string(fd) + ": " + std::strerror(errno));
}

} // namespace

EventLoop::EventLoop()
{
    _epollFd = ::epoll_create1(EPOLL_CLOEXEC);
    if (_epollFd < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    _wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (_wakeFd < 0) {
        const int error = errno;
        ::close(_epollFd);
        throw std::runtime_error(std::string("eventfd: ") + std::strerror(error));
    }
    setInterest(_epollFd, _wakeFd, EPOLLIN);
}

EventLoop::~EventLoop()
{
    ::close(_wakeFd);
    ::close(_epollFd);
}

void EventLoop::watch(int fd, short events, FdCallback callback)
{
    setInterest(_epollFd, fd, epollEvents(events));
    _watches[fd] = Watch{events, std::move(callback)};
}

void EventLoop::modify(int fd, short events)
{
    auto it = _watches.find(fd);
    if (it == _watches.end() || it->second.events == events) return;
    setInterest(_epollFd, fd, epollEvents(events));
    it->second.events = events;
}

void EventLoop::unwatch(int fd)
{
    if (_watches.erase(fd) == 0) return;
    // Fails only for an fd closed already, which left the set with its close.
    [[maybe_unused]] const int removed = ::epoll_ctl(_epollFd, EPOLL_CTL_DEL, fd, nullptr);
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

std::uint64_t EventLoop::onTurnEnd(Task hook)
{
    _turnEnds.emplace_back(_nextTurnEnd, std::move(hook));
    return _nextTurnEnd++;
}

void EventLoop::removeTurnEnd(std::uint64_t id)
{
    _turnEnds.erase(std::remove_if(_turnEnds.begin(), _turnEnds.end(), [id](const auto& hook) { return hook.first == id; }),
                    _turnEnds.end());
}

void EventLoop::runTurnEnds()
{
    for (auto& hook : _turnEnds) guarded("end of turn", hook.second);
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

int EventLoop::waitTimeoutMs()
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
    // Level-triggered, as poll(2) was: a callback that leaves data unread is called again next turn.
    std::array<epoll_event, kMostEventsPerTurn> events;
    while (!_stopRequested) {
        runTurnEnds();
        ++_turns;
        const int ready = ::epoll_wait(_epollFd, events.data(), static_cast<int>(events.size()), waitTimeoutMs());
        if (ready < 0 && errno != EINTR) {
            logger().error("epoll_wait failed: %s", std::string(std::strerror(errno)));
            continue;
        }
        for (int i = 0; i < ready; ++i) {
            const epoll_event& event = events[static_cast<std::size_t>(i)];
            if (event.data.fd == _wakeFd) {
                runPosted();
                continue;
            }
            // The callback of an earlier fd may have unwatched this one.
            auto it = _watches.find(event.data.fd);
            if (it == _watches.end()) continue;
            short happened = 0;
            if (event.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) happened |= Readable;
            if (event.events & (EPOLLOUT | EPOLLERR)) happened |= Writable;
            FdCallback callback = it->second.callback;
            guarded("socket callback", [&] { callback(happened); });
        }
        runDueTimers();
    }
    runTurnEnds();
    _stopRequested = false;
}

} // namespace peerchat
