#include "ChannelData.h"

namespace peerchat {

Parsed<ChannelData> ChannelData::decode(std::string_view bytes)
{
    if (bytes.size() < kHeaderBytes) return Parsed<ChannelData>::refuse("shorter than a ChannelData header");
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
    const auto channel = static_cast<std::uint16_t>((byte(0) << 8) | byte(1));
    const std::size_t length = static_cast<std::size_t>((byte(2) << 8) | byte(3));
    if (channel < kFirstChannel || channel > kLastChannel)
        return Parsed<ChannelData>::refuse("channel number outside 0x4000-0x4FFF");
    const std::size_t rest = bytes.size() - kHeaderBytes;
    if (rest < length) return Parsed<ChannelData>::refuse("shorter than its length field says");
    if (rest - length > 3) return Parsed<ChannelData>::refuse("more than padding after the data");
    return ChannelData{channel, std::string(bytes.substr(kHeaderBytes, length))};
}

std::string ChannelData::encode() const
{
    std::string out;
    out.reserve(kHeaderBytes + payload.size());
    out.push_back(static_cast<char>(channel >> 8));
    out.push_back(static_cast<char>(channel & 0xFF));
    out.push_back(static_cast<char>((payload.size() >> 8) & 0xFF));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
    out += payload;
    return out;
}

} // namespace peerchat
