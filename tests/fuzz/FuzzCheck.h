#pragma once

#include <cstdio>
#include <cstdlib>

namespace peerchat::fuzz {

/// Ends the run as a crash libFuzzer records (with the input that caused it)
/// when a property of the codec does not hold; what says which one.
inline void require(bool holds, const char* what)
{
    if (holds) return;
    std::fprintf(stderr, "fuzz check failed: %s\n", what);
    std::abort();
}

} // namespace peerchat::fuzz
