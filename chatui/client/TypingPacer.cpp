#include "TypingPacer.h"

namespace peerchat::chatui {

bool TypingPacer::due(Clock::time_point now)
{
    if (_lastSent && now - *_lastSent < kEvery) return false;
    _lastSent = now;
    return true;
}

} // namespace peerchat::chatui
