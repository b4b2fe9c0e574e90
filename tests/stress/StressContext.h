#pragma once

#include <chrono>
#include <cstdint>

namespace peerchat::stress {

/// What every scenario is given: how long its flood lasts, and whether the
/// run was asked to stop (SIGINT, SIGTERM, SIGHUP), which every loop checks so
/// that the daemons, threads and mounts of a scenario are cleaned up by their
/// owners rather than left behind.
class StressContext
{
public:
    using Clock = std::chrono::steady_clock;

    explicit StressContext(std::chrono::seconds flood) : _flood(flood) {}

    /// How long each scenario floods (STRESS_SECONDS).
    std::chrono::seconds flood() const { return _flood; }
    double floodSeconds() const { return static_cast<double>(_flood.count()); }
    /// When a flood that starts now ends.
    Clock::time_point floodEnd() const { return Clock::now() + _flood; }

    /// Installs the handlers that turn SIGINT, SIGTERM and SIGHUP into a stop request.
    static void catchStopSignals();
    static bool stopping();

    /// Waits d, or less when a stop is requested; true when the whole of d passed.
    static bool sleep(std::chrono::milliseconds d);
    /// Waits until t, or less when a stop is requested; true when t was reached.
    static bool sleepUntil(Clock::time_point t);

    /// Seconds from t to now.
    static double secondsSince(Clock::time_point t)
    {
        return std::chrono::duration<double>(Clock::now() - t).count();
    }

    /// amount measured over seconds of flood, scaled to 30 s: the bounds of
    /// issue 9 are per 30 s, and a short development run is scaled up to them.
    static double per30s(double amount, double seconds) { return seconds > 0 ? amount * 30.0 / seconds : amount; }

private:
    std::chrono::seconds _flood;
};

} // namespace peerchat::stress
