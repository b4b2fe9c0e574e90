// Every roster stream the codec accepts, in each of the two formats (the
// first input byte picks one), encodes to a stream it accepts again as the
// same roster.
#include "FuzzCheck.h"
#include "RosterCodec.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using peerchat::RosterCodec;
    using peerchat::RosterFormat;
    using peerchat::fuzz::require;

    if (size == 0) return 0;
    const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    constexpr RosterFormat kFormats[] = {RosterFormat::SeedText, RosterFormat::DotNet};
    const RosterFormat format = kFormats[data[0] % 2];

    const auto entries = RosterCodec::decode(stream, format);
    if (!entries) {
        require(!entries.error().empty(), "a refusal says why");
        return 0;
    }
    const std::string encoded = RosterCodec::encode(*entries, format);
    const auto again = RosterCodec::decode(encoded, format);
    require(again.ok(), "an accepted roster, encoded, decodes again");
    require(again->size() == entries->size(), "a round trip keeps every entry");
    require(RosterCodec::encode(*again, format) == encoded, "a round trip encodes to the same stream");
    return 0;
}
