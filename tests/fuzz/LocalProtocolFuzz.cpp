// Every line of the local socket is read both ways, as a request (what peerd
// reads from a UI) and as an event (what chatui reads from peerd); whatever
// parses prints back to a line that parses again to the same line.
#include "FuzzCheck.h"
#include "LocalProtocol.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

template <typename Decode, typename Encode>
void roundTrip(std::string_view line, Decode decode, Encode encode)
{
    using peerchat::fuzz::require;
    const auto parsed = decode(line);
    if (!parsed) {
        require(!parsed.error().empty(), "a refusal says why");
        return;
    }
    const std::string encoded = encode(*parsed);
    require(!encoded.empty() && encoded.back() == '\n' && encoded.find('\n') == encoded.size() - 1,
            "an encoding is one line");
    const auto again = decode(encoded);
    require(again.ok(), "an accepted line, encoded, decodes again");
    require(encode(*again) == encoded, "a round trip encodes to the same line");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using peerchat::local::LocalProtocol;
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    roundTrip(line, LocalProtocol::decodeRequest, LocalProtocol::encodeRequest);
    roundTrip(line, LocalProtocol::decodeEvent, LocalProtocol::encodeEvent);
    return 0;
}
