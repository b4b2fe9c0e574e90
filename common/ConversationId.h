#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// Whom a conversation is with: one peer (a direct chat, named by the peer's
/// user name) or a group (named by its id: kGroupIdDigits lowercase hex
/// digits). peerd's store keys lines, unread counts and delivered marks by
/// it (key()); the local protocol names it with a "peer" (or "to") field for
/// a direct chat and a "group" field for a group (LocalProtocol).
class ConversationId
{
public:
    enum class Kind : std::uint8_t { Direct, Group };

    /// How many hex digits a group's id has (128 bits).
    static constexpr std::size_t kGroupIdDigits = 32;

    /// A direct chat with no one (an empty name), for a value to assign later.
    ConversationId() = default;

    static ConversationId direct(std::string peer) { return ConversationId(Kind::Direct, std::move(peer)); }
    static ConversationId group(std::string id) { return ConversationId(Kind::Group, std::move(id)); }

    Kind kind() const { return _kind; }
    bool isGroup() const { return _kind == Kind::Group; }
    /// The peer's name, or the group's id.
    const std::string& name() const { return _name; }

    /// The text the store keys the conversation by: the peer's name for a
    /// direct chat (what every store before groups held), "group:" + id for a
    /// group. A user name never holds ':', so the two never meet.
    std::string key() const;
    /// The conversation key() names: a group for "group:" and a valid group
    /// id, else a direct chat with key (names are checked where they come
    /// in, and a store keeps what earlier rules let in); nullopt for an
    /// empty key or "group:" without a valid id.
    static std::optional<ConversationId> fromKey(std::string_view key);

    /// True when id is a group's id: kGroupIdDigits of 0-9 a-f.
    static bool isGroupId(std::string_view id);

    /// For people: "bob", or "group 0123...".
    std::string describe() const;

    bool operator==(const ConversationId& other) const { return _kind == other._kind && _name == other._name; }
    bool operator!=(const ConversationId& other) const { return !(*this == other); }
    /// Direct chats first, then groups; each by name.
    bool operator<(const ConversationId& other) const
    {
        return _kind != other._kind ? _kind < other._kind : _name < other._name;
    }

private:
    ConversationId(Kind kind, std::string name) : _kind(kind), _name(std::move(name)) {}

    Kind _kind = Kind::Direct;
    std::string _name;
};

} // namespace peerchat
