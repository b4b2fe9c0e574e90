// Every datagram the UDP codec accepts prints back to bytes it accepts again,
// in the same encoding, as the same message. New verbs are covered as soon as
// the codec knows them.
#include "FuzzCheck.h"
#include "Protocol.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using peerchat::Protocol;
    using peerchat::fuzz::require;

    const auto inbound = Protocol::decodeDatagram(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!inbound) {
        require(!inbound.error().empty(), "a refusal says why");
        return 0;
    }
    const std::string encoded = Protocol::encodeDatagram(inbound->message, inbound->encoding);
    require(encoded.size() <= Protocol::kMaxDatagramBytes, "an accepted message encodes within the datagram limit");
    const auto again = Protocol::decodeDatagram(encoded);
    require(again.ok(), "an accepted message, encoded, decodes again");
    require(again->encoding == inbound->encoding, "the encoding survives a round trip");
    require(Protocol::verb(again->message) == Protocol::verb(inbound->message), "the verb survives a round trip");
    require(Protocol::encodeDatagram(again->message, again->encoding) == encoded,
            "a round trip encodes to the same bytes");
    return 0;
}
