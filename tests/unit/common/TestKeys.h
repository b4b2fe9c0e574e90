#pragma once

#include "Protocol.h"

#include <array>
#include <cstddef>
#include <cstdint>

namespace peerchat::test {

/// N bytes counting up from first: distinct keys, signatures and nonces for tests.
template <std::size_t N>
std::array<std::uint8_t, N> bytes(std::uint8_t first)
{
    std::array<std::uint8_t, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(first + i);
    return out;
}

/// Keys whose bytes count up from first (identity, then kx, then kxSig).
inline PeerKeys keys(std::uint8_t first)
{
    return PeerKeys{bytes<32>(first), bytes<32>(first + 32), bytes<64>(first + 64)};
}

} // namespace peerchat::test
