// Every roster stream the codec accepts, in each of the three formats (the
// first input byte picks one), encodes to a stream it accepts again as the same
// roster, with the same presence sequence number and signature; and every
// request line it accepts (the fourth choice) encodes to one it accepts again
// with the same nonce.
#include "FuzzCheck.h"
#include "RosterCodec.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using peerchat::RosterCodec;
using peerchat::RosterEntry;
using peerchat::RosterFormat;
using peerchat::RosterTrailer;

std::string encode(const std::vector<RosterEntry>& entries, RosterFormat format, const RosterTrailer& trailer)
{
    const std::string stream = RosterCodec::encode(entries, format, trailer.seq);
    return trailer.sig ? RosterCodec::withSignature(stream, *trailer.sig) : stream;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using peerchat::fuzz::require;

    if (size == 0) return 0;
    const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 4 == 3) {
        const auto request = RosterCodec::decodeRequest(stream);
        if (!request) {
            require(!request.error().empty(), "a refusal says why");
            return 0;
        }
        const std::string line = RosterCodec::encodeRequest(*request);
        require(line.size() <= RosterCodec::kMaxRequestBytes && line.back() == '\n', "a request is one short line");
        const auto again = RosterCodec::decodeRequest(std::string_view(line).substr(0, line.size() - 1));
        require(again.ok() && again->nonce == request->nonce, "a request, encoded, decodes to the same nonce");
        return 0;
    }
    constexpr RosterFormat kFormats[] = {RosterFormat::SeedText, RosterFormat::DotNet, RosterFormat::Peerchat};
    const RosterFormat format = kFormats[data[0] % 4];

    RosterTrailer trailer;
    const auto entries = RosterCodec::decode(stream, format, &trailer);
    if (!entries) {
        require(!entries.error().empty(), "a refusal says why");
        return 0;
    }
    const std::string encoded = encode(*entries, format, trailer);
    RosterTrailer trailerAgain;
    const auto again = RosterCodec::decode(encoded, format, &trailerAgain);
    require(again.ok(), "an accepted roster, encoded, decodes again");
    require(again->size() == entries->size(), "a round trip keeps every entry");
    require(trailerAgain.seq == trailer.seq && trailerAgain.sig == trailer.sig,
            "a round trip keeps the presence sequence number and the signature");
    require(encoded.compare(0, trailerAgain.signedPart.size(), trailerAgain.signedPart) == 0,
            "the signed part is where the stream starts");
    require(encode(*again, format, trailerAgain) == encoded, "a round trip encodes to the same stream");
    return 0;
}
