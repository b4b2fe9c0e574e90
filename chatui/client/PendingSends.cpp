#include "PendingSends.h"

#include "Base64.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace peerchat::chatui {

local::SendRequest PendingSends::add(const ConversationId& conversation, std::string text)
{
    _sends.push_back(local::SendRequest{conversation, std::move(text), randomKey()});
    return _sends.back();
}

std::optional<local::SendRequest> PendingSends::answer(const local::Event& event)
{
    std::string key;
    if (const auto* sent = std::get_if<local::SentEvent>(&event)) {
        key = sent->key;
    } else if (const auto* error = std::get_if<local::ErrorEvent>(&event)) {
        if (error->op == "send") key = error->key;
    }
    if (key.empty()) return std::nullopt;
    const auto found = std::find_if(_sends.begin(), _sends.end(),
                                    [&](const local::SendRequest& send) { return send.key == key; });
    if (found == _sends.end()) return std::nullopt;
    local::SendRequest answered = std::move(*found);
    _sends.erase(found);
    return answered;
}

std::string PendingSends::randomKey()
{
    std::array<std::uint8_t, 16> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    return Base64::encode(bytes);
}

} // namespace peerchat::chatui
