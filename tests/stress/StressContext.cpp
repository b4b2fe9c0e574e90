#include "StressContext.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>

namespace peerchat::stress {

namespace {

std::atomic<bool> stopRequested{false};

extern "C" void requestStop(int)
{
    stopRequested = true;
}

} // namespace

void StressContext::catchStopSignals()
{
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, requestStop);
}

bool StressContext::stopping()
{
    return stopRequested;
}

bool StressContext::sleep(std::chrono::milliseconds d)
{
    return sleepUntil(Clock::now() + d);
}

bool StressContext::sleepUntil(Clock::time_point t)
{
    // In slices, so that a stop request is seen within 50 ms.
    while (!stopping()) {
        const auto now = Clock::now();
        if (now >= t) return true;
        std::this_thread::sleep_for(std::min<Clock::duration>(t - now, std::chrono::milliseconds(50)));
    }
    return false;
}

} // namespace peerchat::stress
