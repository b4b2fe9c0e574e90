#pragma once

#include "CryptoTypes.h"
#include "Endpoint.h"
#include "Roster.h"

#include <cstdint>
#include <optional>
#include <string>

namespace peerchat::test {

/// The endpoint written as text; the text must be a valid endpoint.
inline Endpoint endpoint(const std::string& text)
{
    return Endpoint::parse(text).value();
}

/// A key whose bytes all are fill: distinct fills, distinct keys.
inline PublicKey key(std::uint8_t fill)
{
    PublicKey k{};
    k.fill(fill);
    return k;
}

/// A roster peer at the endpoint written as text.
inline Roster::Peer peer(const std::string& text, Dialect dialect = Dialect::Peerchat,
                         std::optional<PeerKeys> keys = std::nullopt)
{
    return Roster::Peer{endpoint(text), dialect, keys};
}

} // namespace peerchat::test
