#include "ConversationId.h"

#include <algorithm>

namespace peerchat {

namespace {

constexpr std::string_view kGroupPrefix = "group:";

} // namespace

std::string ConversationId::key() const
{
    return isGroup() ? std::string(kGroupPrefix) + _name : _name;
}

std::optional<ConversationId> ConversationId::fromKey(std::string_view key)
{
    if (key.substr(0, kGroupPrefix.size()) == kGroupPrefix) {
        const std::string_view id = key.substr(kGroupPrefix.size());
        if (!isGroupId(id)) return std::nullopt;
        return group(std::string(id));
    }
    if (key.empty()) return std::nullopt;
    return direct(std::string(key));
}

bool ConversationId::isGroupId(std::string_view id)
{
    return id.size() == kGroupIdDigits &&
           std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string ConversationId::describe() const
{
    return isGroup() ? "group " + _name : _name;
}

} // namespace peerchat
