#include "ConversationStore.h"

#include <limits>
#include <utility>

namespace peerchat {

ConversationStore::ConversationStore(std::size_t historyLimit) : _historyLimit(historyLimit)
{
}

local::ChatLine ConversationStore::addIncoming(const std::string& peer, std::string sentTime,
                                               std::int64_t receivedAtMs, std::string text)
{
    Conversation& conversation = _conversations[peer];
    if (conversation.unread < std::numeric_limits<std::uint32_t>::max()) ++conversation.unread;
    return append(local::ChatLine{0, peer, false, peer, std::move(sentTime), receivedAtMs, std::move(text)});
}

local::ChatLine ConversationStore::addOutgoing(const std::string& peer, const std::string& self,
                                               std::string sentTime, std::int64_t receivedAtMs, std::string text)
{
    return append(local::ChatLine{0, peer, true, self, std::move(sentTime), receivedAtMs, std::move(text)});
}

local::ChatLine ConversationStore::append(local::ChatLine line)
{
    Conversation& conversation = _conversations[line.peer];
    line.id = ++conversation.lastId;
    conversation.lines.push_back(line);
    while (conversation.lines.size() > _historyLimit) conversation.lines.pop_front();
    return line;
}

std::vector<local::ChatLine> ConversationStore::history(const std::string& peer) const
{
    const auto it = _conversations.find(peer);
    if (it == _conversations.end()) return {};
    return {it->second.lines.begin(), it->second.lines.end()};
}

std::vector<local::ChatLine> ConversationStore::search(const std::string& peer, const std::string& text,
                                                       std::size_t limit) const
{
    std::vector<local::ChatLine> found;
    const auto it = _conversations.find(peer);
    if (it == _conversations.end()) return found;
    for (auto line = it->second.lines.rbegin(); line != it->second.lines.rend() && found.size() < limit; ++line) {
        if (line->text.find(text) != std::string::npos) found.push_back(*line);
    }
    return {found.rbegin(), found.rend()};
}

std::uint32_t ConversationStore::unread(const std::string& peer) const
{
    const auto it = _conversations.find(peer);
    return it == _conversations.end() ? 0 : it->second.unread;
}

std::map<std::string, std::uint32_t> ConversationStore::unreadCounts() const
{
    std::map<std::string, std::uint32_t> counts;
    for (const auto& [peer, conversation] : _conversations) {
        if (conversation.unread > 0) counts.emplace(peer, conversation.unread);
    }
    return counts;
}

void ConversationStore::markRead(const std::string& peer)
{
    const auto it = _conversations.find(peer);
    if (it != _conversations.end()) it->second.unread = 0;
}

} // namespace peerchat
