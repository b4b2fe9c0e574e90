#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace peerchat::bench {

using Clock = std::chrono::steady_clock;

/// Percentiles of a set of durations in microseconds.
class Samples
{
public:
    void add(Clock::duration d) { _us.push_back(std::chrono::duration<double, std::micro>(d).count()); }
    std::size_t size() const { return _us.size(); }

    /// The p-th percentile (0..100), in microseconds.
    double percentile(double p)
    {
        if (_us.empty()) return 0;
        std::sort(_us.begin(), _us.end());
        const auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(_us.size() - 1));
        return _us[index];
    }

private:
    std::vector<double> _us;
};

/// Prints "label: p50 p90 p99 (n samples)".
inline void printLatency(const std::string& label, Samples& s)
{
    std::printf("  %-34s p50 %8.1f us   p90 %8.1f us   p99 %8.1f us   (%zu samples)\n", label.c_str(),
                s.percentile(50), s.percentile(90), s.percentile(99), s.size());
}

} // namespace peerchat::bench
