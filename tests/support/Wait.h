#pragma once

#include <chrono>
#include <thread>

namespace peerchat::test {

/// Polls condition until it holds or timeout passes; true when it held.
/// The only way tests wait: always on a condition, always with a deadline.
template <typename Condition>
bool waitUntil(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10))
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

/// What is left until deadline, in whole milliseconds rounded up, for a
/// wait that takes milliseconds (poll(2), Poco's timespans): 0 once it has
/// passed, and never 0 before, so a wait of under a millisecond still waits.
inline std::chrono::milliseconds timeLeft(std::chrono::steady_clock::time_point deadline)
{
    const auto left = deadline - std::chrono::steady_clock::now();
    return left <= left.zero() ? std::chrono::milliseconds(0) : std::chrono::ceil<std::chrono::milliseconds>(left);
}

} // namespace peerchat::test
