#pragma once

#include "Endpoint.h"
#include "Parsed.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

/// One online user as the roster lists it.
struct RosterEntry
{
    std::string name;
    Endpoint endpoint;
};

/// The two ways indexd frames the roster on its TCP ports, for seed and .NET
/// clients (legacy mode).
enum class RosterFormat
{
    SeedText,  ///< `name1,ep1;name2,ep2;...;end` in UTF-8
    DotNet     ///< the same text as one .NET BinaryReader string: 7-bit varint length, UTF-8 bytes
};

/// The roster codec: the whole stream indexd writes before it closes.
class RosterCodec
{
public:
    /// Largest roster stream a reader accepts.
    static constexpr std::size_t kMaxStreamBytes = 16 * 1024 * 1024;

    /// The stream of a roster.
    static std::string encode(const std::vector<RosterEntry>& entries, RosterFormat format);

    /// Parses a complete stream; refuses truncated or malformed ones.
    static Parsed<std::vector<RosterEntry>> decode(std::string_view stream, RosterFormat format);
};

} // namespace peerchat
