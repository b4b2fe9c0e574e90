#include "Inbox.h"

namespace peerchat {

namespace {

// What a held message counts against kMaxHeldBytes: its text and a share for the rest.
std::size_t heldSize(const Msg& msg)
{
    return msg.text.size() + 128;
}

} // namespace

Inbox::Inbox(ConversationStore& store, std::size_t window) : _store(store), _window(window)
{
}

Inbox::Result Inbox::receive(const Msg& msg, std::int64_t receivedAtMs)
{
    const StreamKey key{msg.from, msg.stream};
    Result result;
    result.position = _store.delivered(msg.from, msg.stream);
    if (msg.seq <= result.position) return result;
    if (msg.seq > result.position + 1) {
        hold(key, result.position, msg, receivedAtMs);
        return result;
    }

    result.delivered.push_back(
        {_store.deliver(msg.from, msg.stream, msg.seq, msg.time, receivedAtMs, msg.text), _store.unread(msg.from)});
    result.position = msg.seq;

    const auto stream = _held.find(key);
    if (stream == _held.end()) return result;
    auto& held = stream->second;
    while (!held.empty() && held.begin()->first <= result.position + 1) {
        const Held next = std::move(held.begin()->second);
        held.erase(held.begin());
        --_heldCount;
        _heldBytes -= heldSize(next.msg);
        if (next.msg.seq <= result.position) continue;
        result.delivered.push_back({_store.deliver(msg.from, msg.stream, next.msg.seq, next.msg.time,
                                                   next.receivedAtMs, next.msg.text),
                                    _store.unread(msg.from)});
        result.position = next.msg.seq;
    }
    if (held.empty()) _held.erase(stream);
    return result;
}

void Inbox::hold(const StreamKey& key, std::uint64_t position, const Msg& msg, std::int64_t receivedAtMs)
{
    if (msg.seq - position > _window) return;
    if (_heldBytes + heldSize(msg) > kMaxHeldBytes) return;
    auto& held = _held[key];
    if (!held.emplace(msg.seq, Held{msg, receivedAtMs}).second) return;
    ++_heldCount;
    _heldBytes += heldSize(msg);
}

} // namespace peerchat
