#pragma once

#include "Parsed.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace peerchat {

/// A TURN ChannelData message (RFC 8656 12.4): a peer's datagram behind a
/// 4-byte header (channel number, length) instead of a 36-byte Send or Data
/// indication. Sent unpadded (UDP keeps the datagram's length); padding after
/// the data is accepted when it arrives.
struct ChannelData
{
    static constexpr std::uint16_t kFirstChannel = 0x4000;
    static constexpr std::uint16_t kLastChannel = 0x4FFF;
    static constexpr std::size_t kHeaderBytes = 4;

    std::uint16_t channel = kFirstChannel;
    std::string payload;

    /// Refuses a datagram shorter than its header says, a channel outside
    /// 0x4000-0x4FFF, or more than three bytes of padding.
    static Parsed<ChannelData> decode(std::string_view bytes);
    std::string encode() const;
};

} // namespace peerchat
