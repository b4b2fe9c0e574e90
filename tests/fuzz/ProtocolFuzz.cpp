// Every datagram the UDP codec accepts prints back to bytes it accepts again,
// in the same encoding, as the same message. New verbs are covered as soon as
// the codec knows them. The same bytes read as a seal's plaintext (a bundle)
// give one part per NUL-separated piece, each as decode() reads it.
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

    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto parts = Protocol::decodeBundle(bytes);
    std::size_t separators = 0;
    for (char c : bytes) separators += c == Protocol::kBundleSeparator ? 1 : 0;
    require(parts.size() == separators + 1, "a bundle has one part more than it has separators");
    if (separators == 0) require(parts[0].ok() == Protocol::decode(bytes).ok(), "a bundle of one is one message");

    const auto inbound = Protocol::decodeDatagram(bytes);
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
