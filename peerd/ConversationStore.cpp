#include "ConversationStore.h"

#include <cstdio>
#include <limits>
#include <random>
#include <utility>

namespace peerchat {

namespace {

std::string randomStreamId()
{
    std::random_device device;
    const std::uint64_t value = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

} // namespace

ConversationStore::ConversationStore(std::size_t historyLimit) : _historyLimit(historyLimit)
{
}

local::ChatLine ConversationStore::addIncoming(const std::string& peer, std::string sentTime,
                                               std::int64_t receivedAtMs, std::string text)
{
    Conversation& conversation = _conversations[peer];
    if (conversation.unread < std::numeric_limits<std::uint32_t>::max()) ++conversation.unread;
    return append(local::ChatLine{0, peer, false, peer, std::move(sentTime), receivedAtMs, std::move(text),
                                  local::LineState::Received});
}

local::ChatLine ConversationStore::addOutgoing(const std::string& peer, const std::string& self,
                                               std::string sentTime, std::int64_t receivedAtMs, std::string text,
                                               local::LineState state)
{
    return append(local::ChatLine{0, peer, true, self, std::move(sentTime), receivedAtMs, std::move(text), state});
}

OutboxEntry ConversationStore::enqueue(const std::string& peer, const std::string& self, std::string sentTime,
                                       std::int64_t receivedAtMs, std::string text)
{
    auto stream = _outgoingStreams.find(peer);
    if (stream == _outgoingStreams.end()) stream = _outgoingStreams.emplace(peer, std::make_pair(randomStreamId(), 0)).first;
    const local::ChatLine line = addOutgoing(peer, self, sentTime, receivedAtMs, text, local::LineState::Pending);
    OutboxEntry entry{peer, line.id, stream->second.first, ++stream->second.second, std::move(sentTime), std::move(text)};
    _outbox.push_back(entry);
    return entry;
}

std::vector<OutboxEntry> ConversationStore::outbox() const
{
    return _outbox;
}

std::vector<std::uint64_t> ConversationStore::acknowledge(const std::string& peer, const std::string& stream,
                                                          std::uint64_t seq)
{
    std::vector<std::uint64_t> changed;
    for (auto it = _outbox.begin(); it != _outbox.end();) {
        if (it->peer == peer && it->stream == stream && it->seq <= seq) {
            setState(peer, it->lineId, local::LineState::Delivered);
            changed.push_back(it->lineId);
            it = _outbox.erase(it);
        } else {
            ++it;
        }
    }
    return changed;
}

bool ConversationStore::setState(const std::string& peer, std::uint64_t id, local::LineState state)
{
    const auto it = _conversations.find(peer);
    if (it == _conversations.end()) return false;
    for (auto& line : it->second.lines) {
        if (line.id == id) {
            line.state = state;
            return true;
        }
    }
    return false;
}

std::uint64_t ConversationStore::delivered(const std::string& sender, const std::string& stream) const
{
    const auto it = _incomingStreams.find({sender, stream});
    return it == _incomingStreams.end() ? 0 : it->second;
}

local::ChatLine ConversationStore::deliver(const std::string& sender, const std::string& stream, std::uint64_t seq,
                                           std::string sentTime, std::int64_t receivedAtMs, std::string text)
{
    _incomingStreams[{sender, stream}] = seq;
    return addIncoming(sender, std::move(sentTime), receivedAtMs, std::move(text));
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
