#pragma once

#include "Endpoint.h"
#include "Parsed.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

/// One online user as the roster lists it. `dialect` is the dialect token
/// ("seed", "dotnet", "peerchat/1") in the peerchat format, empty otherwise.
struct RosterEntry
{
    std::string name;
    Endpoint endpoint;
    std::string dialect;
};

/// The three ways indexd frames the roster on its TCP ports.
enum class RosterFormat
{
    SeedText,  ///< `name1,ep1;name2,ep2;...;end` in UTF-8
    DotNet,    ///< the same text as one .NET BinaryReader string: 7-bit varint length, UTF-8 bytes
    Peerchat   ///< `name1,ep1,dialect1;...;end[,SEQ]` in UTF-8; SEQ: indexd's presence sequence number
};

/// The roster codec: the whole stream indexd writes before it closes.
class RosterCodec
{
public:
    /// Largest roster stream a reader accepts.
    static constexpr std::size_t kMaxStreamBytes = 16 * 1024 * 1024;

    /// presenceSeq is written only in the Peerchat format, and only when not 0.
    static std::string encode(const std::vector<RosterEntry>& entries, RosterFormat format,
                              std::uint64_t presenceSeq = 0);

    /// Parses a complete stream; refuses truncated or malformed ones.
    /// presenceSeq, when given, receives the Peerchat format's SEQ (0 when absent).
    static Parsed<std::vector<RosterEntry>> decode(std::string_view stream, RosterFormat format,
                                                   std::uint64_t* presenceSeq = nullptr);
};

} // namespace peerchat
