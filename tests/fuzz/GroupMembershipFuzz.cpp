// Every group member list the codec accepts round-trips through its encoding, and
// checking it as its own successor or its signature refuses without harm.
#include "FuzzCheck.h"
#include "GroupMembership.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using peerchat::GroupMembership;
    using peerchat::fuzz::require;

    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto list = GroupMembership::decode(text);
    if (!list) {
        require(!list.error().empty(), "a refusal says why");
        return 0;
    }
    const std::string encoded = list->encode();
    const auto again = GroupMembership::decode(encoded);
    require(again.ok() && again->encode() == encoded, "an accepted list round-trips");
    require(!list->successorRefusal(*list).empty(), "no list follows itself");
    if (!list->members.empty()) list->verifySignature(list->members.front().identity);
    return 0;
}
