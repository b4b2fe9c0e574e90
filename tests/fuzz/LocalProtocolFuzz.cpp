// Every line of the local socket is read both ways, as a request (what peerd
// reads from a UI) and as an event (what chatui reads from peerd); whatever
// parses prints back, with its request id, to a line that parses again to
// the same line and id.
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
    std::string req;
    const auto parsed = decode(line, req);
    require(req.empty() || peerchat::local::LocalProtocol::isRequestId(req), "a request id read is one");
    if (!parsed) {
        require(!parsed.error().empty(), "a refusal says why");
        return;
    }
    const std::string encoded = encode(*parsed, req);
    require(!encoded.empty() && encoded.back() == '\n' && encoded.find('\n') == encoded.size() - 1,
            "an encoding is one line");
    std::string reqAgain;
    const auto again = decode(encoded, reqAgain);
    require(again.ok(), "an accepted line, encoded, decodes again");
    require(reqAgain == req, "the request id survives the round trip");
    require(encode(*again, reqAgain) == encoded, "a round trip encodes to the same line");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using peerchat::local::LocalProtocol;
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    using peerchat::local::Event;
    using peerchat::local::Request;
    roundTrip(
        line, [](std::string_view text, std::string& req) { return LocalProtocol::decodeRequest(text, req); },
        [](const Request& request, const std::string& req) { return LocalProtocol::encodeRequest(request, req); });
    roundTrip(
        line, [](std::string_view text, std::string& req) { return LocalProtocol::decodeEvent(text, req); },
        [](const Event& event, const std::string& req) {
            std::string out;
            LocalProtocol::appendEvent(out, event, req);
            return out;
        });
    return 0;
}
