#include "EventLoop.h"
#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <atomic>
#include <fcntl.h>
#include <mutex>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using peerchat::EventLoop;
using peerchat::test::waitUntil;
using namespace std::chrono_literals;

namespace {

// Runs loop.run() on its own thread for the life of the object; stops and joins it on the way out.
class LoopThread
{
public:
    explicit LoopThread(EventLoop& loop) : _loop(loop), _thread([this] {
        _loop.run();
        _returned = true;
    })
    {
    }
    ~LoopThread()
    {
        _loop.stop();
        _thread.join();
    }
    LoopThread(const LoopThread&) = delete;
    LoopThread& operator=(const LoopThread&) = delete;

    bool returned() const { return _returned; }
    std::thread::id id() const { return _thread.get_id(); }

private:
    EventLoop& _loop;
    std::atomic<bool> _returned{false};
    std::thread _thread;
};

// Two connected descriptors (a socketpair or a pipe), closed on the way out unless already closed.
struct FdPair
{
    int fd[2] = {-1, -1};
    ~FdPair()
    {
        for (int f : fd) {
            if (f >= 0) ::close(f);
        }
    }
    void close(int i)
    {
        ::close(fd[i]);
        fd[i] = -1;
    }
};

void makeSocketPair(FdPair& pair)
{
    CPPUNIT_ASSERT_EQUAL(0, ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair.fd));
}

void makePipe(FdPair& pair)
{
    CPPUNIT_ASSERT_EQUAL(0, ::pipe2(pair.fd, O_NONBLOCK | O_CLOEXEC));
}

void writeAll(int fd, const std::string& bytes)
{
    CPPUNIT_ASSERT_EQUAL(static_cast<ssize_t>(bytes.size()), ::write(fd, bytes.data(), bytes.size()));
}

std::string readSome(int fd)
{
    char buffer[256];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

// Waits until a task posted now has run on the loop. After two of these, every
// fd that was ready has had a whole iteration in which to call its callback.
void roundTrip(EventLoop& loop)
{
    std::atomic<bool> ran{false};
    loop.post([&] { ran = true; });
    CPPUNIT_ASSERT(waitUntil([&] { return ran.load(); }));
}

// Quiets a logger for one scope: the tests below make the loop log failures on purpose.
class QuietLogger
{
public:
    explicit QuietLogger(const std::string& name) : _logger(Poco::Logger::get(name)), _level(_logger.getLevel())
    {
        _logger.setLevel(Poco::Message::PRIO_FATAL);
    }
    ~QuietLogger() { _logger.setLevel(_level); }
    QuietLogger(const QuietLogger&) = delete;
    QuietLogger& operator=(const QuietLogger&) = delete;

private:
    Poco::Logger& _logger;
    int _level;
};

} // namespace

class EventLoopTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(EventLoopTest);
    CPPUNIT_TEST(testCallReadableForSocketPair);
    CPPUNIT_TEST(testCallReadableForPipe);
    CPPUNIT_TEST(testReportHangUpAsReadable);
    CPPUNIT_TEST(testModifyWatchedEvents);
    CPPUNIT_TEST(testFireTimersInOrder);
    CPPUNIT_TEST(testCancelTimer);
    CPPUNIT_TEST(testCancelledTimersWakeNobody);
    CPPUNIT_TEST(testScheduleTimerFromCallback);
    CPPUNIT_TEST(testRunPostedTasksOnLoopThread);
    CPPUNIT_TEST(testStopFromAnotherThread);
    CPPUNIT_TEST(testStopFromCallback);
    CPPUNIT_TEST(testTurnEndRunsBeforeEachWaitAndWhenRunReturns);
    CPPUNIT_TEST(testRemovedTurnEndRunsNoMore);
    CPPUNIT_TEST(testKeepRunningAfterThrowingCallbacks);
    CPPUNIT_TEST(testUnwatchInsideOwnCallback);
    CPPUNIT_TEST(testUnwatchOtherReadyFdInsideCallback);
    CPPUNIT_TEST(testDropClosedFdAndKeepRunning);
    CPPUNIT_TEST(testWatchTheNumberOfAnFdClosedWhileWatched);
    CPPUNIT_TEST_SUITE_END();

public:
    void testCallReadableForSocketPair()
    {
        FdPair pair;
        makeSocketPair(pair);
        EventLoop loop;
        std::mutex mutex;
        std::string received;
        std::atomic<short> events{0};
        loop.watch(pair.fd[0], EventLoop::Readable, [&](short ready) {
            events |= ready;
            std::lock_guard<std::mutex> lock(mutex);
            received += readSome(pair.fd[0]);
        });
        LoopThread thread(loop);
        writeAll(pair.fd[1], "ping 天涯");
        CPPUNIT_ASSERT(waitUntil([&] {
            std::lock_guard<std::mutex> lock(mutex);
            return received == "ping 天涯";
        }));
        CPPUNIT_ASSERT(events & EventLoop::Readable);
        writeAll(pair.fd[1], "!");
        CPPUNIT_ASSERT(waitUntil([&] {
            std::lock_guard<std::mutex> lock(mutex);
            return received == "ping 天涯!";
        }));
    }

    void testCallReadableForPipe()
    {
        FdPair pipe;
        makePipe(pipe);
        EventLoop loop;
        std::atomic<int> calls{0};
        loop.watch(pipe.fd[0], EventLoop::Readable, [&](short ready) {
            if ((ready & EventLoop::Readable) && readSome(pipe.fd[0]) == "x") ++calls;
        });
        LoopThread thread(loop);
        writeAll(pipe.fd[1], "x");
        CPPUNIT_ASSERT(waitUntil([&] { return calls == 1; }));
    }

    void testReportHangUpAsReadable()
    {
        FdPair pair;
        makeSocketPair(pair);
        EventLoop loop;
        std::atomic<bool> sawEnd{false};
        loop.watch(pair.fd[0], EventLoop::Readable, [&](short ready) {
            char byte;
            if ((ready & EventLoop::Readable) && ::read(pair.fd[0], &byte, 1) == 0) {
                sawEnd = true;
                loop.unwatch(pair.fd[0]);
            }
        });
        LoopThread thread(loop);
        pair.close(1);
        CPPUNIT_ASSERT(waitUntil([&] { return sawEnd.load(); }));
    }

    void testModifyWatchedEvents()
    {
        FdPair pair;
        makeSocketPair(pair);
        EventLoop loop;
        std::atomic<int> writable{0};
        std::atomic<int> readable{0};
        // A fresh socket is writable at once; after the first call we only want to hear of input.
        loop.watch(pair.fd[0], EventLoop::Writable, [&](short ready) {
            if (ready & EventLoop::Writable) {
                ++writable;
                loop.modify(pair.fd[0], EventLoop::Readable);
            }
            if ((ready & EventLoop::Readable) && !readSome(pair.fd[0]).empty()) ++readable;
        });
        LoopThread thread(loop);
        CPPUNIT_ASSERT(waitUntil([&] { return writable == 1; }));
        roundTrip(loop);
        roundTrip(loop);
        CPPUNIT_ASSERT_EQUAL(1, writable.load());
        CPPUNIT_ASSERT_EQUAL(0, readable.load());
        writeAll(pair.fd[1], "data");
        CPPUNIT_ASSERT(waitUntil([&] { return readable == 1; }));
        CPPUNIT_ASSERT_EQUAL(1, writable.load());
    }

    void testFireTimersInOrder()
    {
        EventLoop loop;
        std::mutex mutex;
        std::vector<std::string> fired;
        const auto start = std::chrono::steady_clock::now();
        bool early = false;
        auto timer = [&](std::chrono::milliseconds delay, std::string name) {
            loop.runAfter(delay, [&, delay, name] {
                std::lock_guard<std::mutex> lock(mutex);
                if (std::chrono::steady_clock::now() - start < delay) early = true;
                fired.push_back(name);
            });
        };
        timer(60ms, "60ms");
        timer(20ms, "20ms first");
        timer(0ms, "0ms");
        timer(40ms, "40ms");
        timer(20ms, "20ms second");
        LoopThread thread(loop);
        CPPUNIT_ASSERT(waitUntil([&] {
            std::lock_guard<std::mutex> lock(mutex);
            return fired.size() == 5;
        }));
        std::lock_guard<std::mutex> lock(mutex);
        CPPUNIT_ASSERT((fired == std::vector<std::string>{"0ms", "20ms first", "20ms second", "40ms", "60ms"}));
        CPPUNIT_ASSERT_MESSAGE("a timer fired before its delay", !early);
    }

    void testCancelTimer()
    {
        EventLoop loop;
        std::atomic<bool> cancelledRan{false};
        std::atomic<bool> cancelledInCallbackRan{false};
        std::atomic<bool> last{false};
        const auto cancelled = loop.runAfter(10ms, [&] { cancelledRan = true; });
        loop.cancel(cancelled);
        loop.cancel(987654); // unknown ids are ignored
        const auto victim = loop.runAfter(40ms, [&] { cancelledInCallbackRan = true; });
        loop.runAfter(20ms, [&] { loop.cancel(victim); });
        // Due after both cancelled timers would have been: once it has run, they would have too.
        loop.runAfter(60ms, [&] { last = true; });
        LoopThread thread(loop);
        CPPUNIT_ASSERT(waitUntil([&] { return last.load(); }));
        CPPUNIT_ASSERT(!cancelledRan);
        CPPUNIT_ASSERT(!cancelledInCallbackRan);
    }

    void testCancelledTimersWakeNobody()
    {
        EventLoop loop;
        // Fifty timers due 2 ms apart, all cancelled, as a timer re-armed at every line leaves them.
        for (int i = 1; i <= 50; ++i) loop.cancel(loop.runAfter(std::chrono::milliseconds(2 * i), [] {}));
        std::uint64_t turns = 0;
        loop.runAfter(120ms, [&] {
            turns = loop.turns();
            loop.stop();
        });
        loop.run();
        // One wait for the live timer, and one more should poll() return a moment before it is due.
        CPPUNIT_ASSERT(turns <= 3);
    }

    void testScheduleTimerFromCallback()
    {
        EventLoop loop;
        std::atomic<int> ticks{0};
        std::function<void()> tick = [&] {
            if (++ticks < 5) loop.runAfter(1ms, tick);
        };
        LoopThread thread(loop);
        loop.post([&] { loop.runAfter(0ms, tick); });
        CPPUNIT_ASSERT(waitUntil([&] { return ticks == 5; }));
    }

    void testRunPostedTasksOnLoopThread()
    {
        EventLoop loop;
        LoopThread thread(loop);
        std::mutex mutex;
        std::vector<std::thread::id> ranOn;
        std::vector<int> order;
        std::thread poster([&] {
            for (int i = 0; i < 1000; ++i) {
                loop.post([&, i] {
                    std::lock_guard<std::mutex> lock(mutex);
                    ranOn.push_back(std::this_thread::get_id());
                    order.push_back(i);
                });
            }
        });
        const auto posterId = poster.get_id();
        poster.join();
        CPPUNIT_ASSERT(waitUntil([&] {
            std::lock_guard<std::mutex> lock(mutex);
            return order.size() == 1000;
        }));
        std::lock_guard<std::mutex> lock(mutex);
        for (std::size_t i = 0; i < order.size(); ++i) {
            CPPUNIT_ASSERT_EQUAL(static_cast<int>(i), order[i]);
            CPPUNIT_ASSERT(ranOn[i] == thread.id());
            CPPUNIT_ASSERT(ranOn[i] != posterId);
        }
    }

    void testStopFromAnotherThread()
    {
        EventLoop loop;
        LoopThread thread(loop);
        roundTrip(loop); // run() is under way
        std::thread stopper([&] { loop.stop(); });
        stopper.join();
        CPPUNIT_ASSERT(waitUntil([&] { return thread.returned(); }));
    }

    void testStopFromCallback()
    {
        EventLoop loop;
        LoopThread thread(loop);
        loop.post([&] { loop.stop(); });
        CPPUNIT_ASSERT(waitUntil([&] { return thread.returned(); }));
    }

    void testTurnEndRunsBeforeEachWaitAndWhenRunReturns()
    {
        EventLoop loop;
        std::vector<std::string> order;
        loop.onTurnEnd([&] { order.push_back("end"); });
        loop.post([&] {
            order.push_back("first");
            // Posted from a posted task: it runs in the next turn.
            loop.post([&] {
                order.push_back("second");
                loop.stop();
            });
        });
        loop.run();
        // Before the first wait; after the turn of the first task; after the
        // second's turn, as run() returns.
        const std::vector<std::string> expected{"end", "first", "end", "second", "end"};
        CPPUNIT_ASSERT(order == expected);
    }

    void testRemovedTurnEndRunsNoMore()
    {
        EventLoop loop;
        int kept = 0;
        int removed = 0;
        loop.onTurnEnd([&] { ++kept; });
        const std::uint64_t id = loop.onTurnEnd([&] { ++removed; });
        loop.removeTurnEnd(id);
        loop.post([&] { loop.stop(); });
        loop.run();
        CPPUNIT_ASSERT_EQUAL(0, removed);
        CPPUNIT_ASSERT(kept >= 2);
    }

    void testKeepRunningAfterThrowingCallbacks()
    {
        QuietLogger quiet("EventLoop");
        FdPair pair;
        makeSocketPair(pair);
        EventLoop loop;
        std::atomic<int> fdCalls{0};
        std::atomic<int> timersRun{0};
        loop.watch(pair.fd[0], EventLoop::Readable, [&](short) {
            readSome(pair.fd[0]);
            if (++fdCalls == 1) throw std::runtime_error("first read fails");
        });
        loop.runAfter(0ms, [] { throw Poco::IOException("timer fails"); });
        loop.runAfter(1ms, [&] { ++timersRun; });
        LoopThread thread(loop);
        loop.post([] { throw std::logic_error("task fails"); });
        loop.post([] { throw Poco::NullPointerException("task fails"); });
        loop.post([] { throw 42; });
        std::atomic<bool> after{false};
        loop.post([&] { after = true; });
        CPPUNIT_ASSERT(waitUntil([&] { return after.load(); }));
        CPPUNIT_ASSERT(waitUntil([&] { return timersRun == 1; }));

        writeAll(pair.fd[1], "a");
        CPPUNIT_ASSERT(waitUntil([&] { return fdCalls == 1; }));
        writeAll(pair.fd[1], "b");
        CPPUNIT_ASSERT(waitUntil([&] { return fdCalls == 2; }));
        CPPUNIT_ASSERT(!thread.returned());
    }

    void testUnwatchInsideOwnCallback()
    {
        FdPair pair;
        makeSocketPair(pair);
        EventLoop loop;
        std::atomic<int> calls{0};
        // The data is never read, so the fd stays ready: a watch that survived would be called again.
        loop.watch(pair.fd[0], EventLoop::Readable, [&](short) {
            ++calls;
            loop.unwatch(pair.fd[0]);
        });
        LoopThread thread(loop);
        writeAll(pair.fd[1], "stays unread");
        CPPUNIT_ASSERT(waitUntil([&] { return calls == 1; }));
        roundTrip(loop);
        roundTrip(loop);
        CPPUNIT_ASSERT_EQUAL(1, calls.load());
    }

    void testUnwatchOtherReadyFdInsideCallback()
    {
        FdPair a;
        FdPair b;
        makeSocketPair(a);
        makeSocketPair(b);
        writeAll(a.fd[1], "x");
        writeAll(b.fd[1], "x");
        EventLoop loop;
        std::atomic<int> calls{0};
        // Both are ready in the same iteration; whichever runs first closes the other, like a
        // connection whose handler tears down its partner.
        auto closeBoth = [&](short) {
            ++calls;
            loop.unwatch(a.fd[0]);
            loop.unwatch(b.fd[0]);
            a.close(0);
            b.close(0);
        };
        loop.watch(a.fd[0], EventLoop::Readable, closeBoth);
        loop.watch(b.fd[0], EventLoop::Readable, closeBoth);
        LoopThread thread(loop);
        CPPUNIT_ASSERT(waitUntil([&] { return calls >= 1; }));
        roundTrip(loop);
        roundTrip(loop);
        CPPUNIT_ASSERT_EQUAL(1, calls.load());
    }

    void testDropClosedFdAndKeepRunning()
    {
        QuietLogger quiet("EventLoop");
        FdPair pair;
        makeSocketPair(pair);
        EventLoop loop;
        std::atomic<int> calls{0};
        loop.watch(pair.fd[0], EventLoop::Readable, [&](short) { ++calls; });
        // Closed while still watched, a programming error the loop must survive.
        pair.close(0);
        LoopThread thread(loop);
        roundTrip(loop);
        roundTrip(loop);
        CPPUNIT_ASSERT_EQUAL(0, calls.load());
        CPPUNIT_ASSERT(!thread.returned());
    }

    // The kernel forgets a closed fd's watch; the loop still had it, and a new
    // fd under the same number must be watched all the same.
    void testWatchTheNumberOfAnFdClosedWhileWatched()
    {
        FdPair first;
        makeSocketPair(first);
        EventLoop loop;
        loop.watch(first.fd[0], EventLoop::Readable, [](short) {});
        const int number = first.fd[0];
        first.close(0);
        FdPair second;
        makeSocketPair(second);
        if (second.fd[0] != number) {
            CPPUNIT_ASSERT_EQUAL(number, ::dup3(second.fd[0], number, O_CLOEXEC));
            second.close(0);
            second.fd[0] = number;
        }
        std::atomic<int> calls{0};
        loop.watch(number, EventLoop::Readable, [&](short) {
            readSome(number);
            ++calls;
        });
        LoopThread thread(loop);
        writeAll(second.fd[1], "again");
        CPPUNIT_ASSERT(waitUntil([&] { return calls.load() > 0; }));
        loop.post([&] { loop.unwatch(number); });
        roundTrip(loop);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EventLoopTest);
