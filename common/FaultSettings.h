#pragma once

#include "Parsed.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace peerchat {

/// How a UDP socket layer misbehaves on purpose, for tests on loopback (this
/// machine has no netem): the chance that an outgoing datagram is dropped,
/// sent twice, or held back so that later ones overtake it, a random delay,
/// and the seed that makes a run repeatable. Off by default.
struct FaultSettings
{
    double drop = 0;        ///< 0..1
    double duplicate = 0;   ///< 0..1
    double reorder = 0;     ///< 0..1
    std::chrono::milliseconds delay{0};  ///< each datagram waits 0..delay
    std::uint64_t seed = 1;

    bool enabled() const { return drop > 0 || duplicate > 0 || reorder > 0 || delay.count() > 0; }

    /// Parses "drop=0.3,dup=0.1,reorder=0.1,delay=20,seed=42" (any subset, in
    /// any order; empty or "off": no faults).
    static Parsed<FaultSettings> parse(std::string_view spec);

    /// The same form parse() reads, for logs.
    std::string toString() const;
};

} // namespace peerchat
