#include "ReplayWindow.h"

namespace peerchat {

// Bit i of _seen stands for counter _highest - i, so moving the window up is a shift.

bool ReplayWindow::fresh(std::uint64_t counter) const
{
    if (counter == 0) return false;
    if (counter > _highest) return true;
    const std::uint64_t behind = _highest - counter;
    return behind < kSize && !_seen.test(behind);
}

bool ReplayWindow::accept(std::uint64_t counter)
{
    if (!fresh(counter)) return false;
    if (counter > _highest) {
        const std::uint64_t ahead = counter - _highest;
        if (ahead >= kSize)
            _seen.reset();
        else
            _seen <<= ahead;
        _highest = counter;
        _seen.set(0);
    } else {
        _seen.set(_highest - counter);
    }
    return true;
}

} // namespace peerchat
