#pragma once

#include "LocalProtocol.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace peerchat {

/// Every conversation of this identity for the life of peerd: per peer, the
/// lines in the order they were stored (ids from 1), at most historyLimit of
/// them (the oldest are dropped), and how many incoming lines are unread.
/// State only.
class ConversationStore
{
public:
    explicit ConversationStore(std::size_t historyLimit);

    /// Stores a line someone else wrote to us and counts it unread; returns it with its id.
    local::ChatLine addIncoming(const std::string& peer, std::string sentTime, std::int64_t receivedAtMs,
                                std::string text);

    /// Stores a line this identity (self) sent to peer; returns it with its id.
    local::ChatLine addOutgoing(const std::string& peer, const std::string& self, std::string sentTime,
                                std::int64_t receivedAtMs, std::string text);

    /// The lines kept with peer, oldest first.
    std::vector<local::ChatLine> history(const std::string& peer) const;

    /// Up to limit lines with peer whose text contains text (case-sensitive,
    /// bytewise), the newest ones, oldest first.
    std::vector<local::ChatLine> search(const std::string& peer, const std::string& text, std::size_t limit) const;

    /// How many incoming lines from peer are unread.
    std::uint32_t unread(const std::string& peer) const;

    /// Every non-zero unread count, by peer.
    std::map<std::string, std::uint32_t> unreadCounts() const;

    /// The user has seen the conversation with peer: its unread count becomes 0.
    void markRead(const std::string& peer);

private:
    struct Conversation
    {
        std::deque<local::ChatLine> lines;
        std::uint64_t lastId = 0;
        std::uint32_t unread = 0;
    };

    local::ChatLine append(local::ChatLine line);

    std::size_t _historyLimit;
    std::map<std::string, Conversation> _conversations;
};

} // namespace peerchat
