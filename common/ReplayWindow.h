#pragma once

#include <bitset>
#include <cstdint>

namespace peerchat {

/// Which datagram counters of one session were already taken (the sliding
/// window of RFC 4303 section 3.4.3): a counter is accepted once; one more
/// than kSize below the highest accepted is refused as too old; 0 is never
/// valid. A pure state class.
class ReplayWindow
{
public:
    static constexpr std::uint64_t kSize = 1024;

    /// True, and remembered, when counter is new and inside the window.
    /// Call only after the datagram proved authentic.
    bool accept(std::uint64_t counter);
    /// True when accept(counter) would succeed; changes nothing (a cheap
    /// check before decrypting).
    bool fresh(std::uint64_t counter) const;

private:
    std::uint64_t _highest = 0;
    std::bitset<kSize> _seen;
};

} // namespace peerchat
