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

} // namespace peerchat::test
