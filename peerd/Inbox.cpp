#include "Inbox.h"

#include <Poco/Exception.h>

#include <algorithm>
#include <utility>

namespace peerchat {

namespace {

// What a held message counts against kMaxHeldBytes: its text and a share for the rest.
std::size_t heldSize(const Msg& msg)
{
    return msg.text.size() + 128;
}

} // namespace

Inbox::Inbox(IncomingStreams& streams, const LineStore& lines, std::size_t window, Keeps keeps)
    : _streams(streams), _lines(lines), _window(window), _keeps(std::move(keeps))
{
}

Inbox::Result Inbox::receive(const Msg& msg, std::int64_t receivedAtMs)
{
    const StreamKey key{msg.from, msg.stream};
    Result result;
    result.position = _streams.delivered(msg.from, msg.stream);
    if (msg.seq > result.position + 1) {
        hold(key, result.position, msg, receivedAtMs);
    } else if (msg.seq == result.position + 1 && deliver(msg, receivedAtMs, result)) {
        deliverHeld(key, result);
    }
    listHeld(key, result);
    return result;
}

void Inbox::listHeld(const StreamKey& key, Result& result) const
{
    const auto stream = _held.find(key);
    if (stream == _held.end()) return;
    for (const auto& [first, last] : stream->second.runs) {
        if (result.held.size() == Protocol::kMaxAckRanges) return;
        result.held.push_back({first, last});
    }
}

void Inbox::HeldStream::addRun(std::uint64_t seq)
{
    auto next = runs.upper_bound(seq);
    const bool joinsNext = next != runs.end() && next->first == seq + 1;
    if (next != runs.begin()) {
        const auto before = std::prev(next);
        if (before->second + 1 == seq) {
            before->second = joinsNext ? next->second : seq;
            if (joinsNext) runs.erase(next);
            return;
        }
    }
    if (joinsNext) {
        const std::uint64_t last = next->second;
        runs.erase(next);
        runs.emplace(seq, last);
        return;
    }
    runs.emplace(seq, seq);
}

void Inbox::HeldStream::dropLowest(std::uint64_t seq)
{
    const auto first = runs.begin();
    const std::uint64_t last = first->second;
    runs.erase(first);
    if (last > seq) runs.emplace(seq + 1, last);
}

void Inbox::deliverHeld(const StreamKey& key, Result& result)
{
    const auto stream = _held.find(key);
    if (stream == _held.end()) return;
    auto& held = stream->second.lines;
    while (!held.empty() && held.begin()->first <= result.position + 1) {
        const Held& next = held.begin()->second;
        // A message the store refuses stays held: its sender sends it again anyway.
        if (next.msg.seq > result.position && !deliver(next.msg, next.receivedAtMs, result)) break;
        --_heldCount;
        _heldBytes -= heldSize(next.msg);
        stream->second.dropLowest(held.begin()->first);
        held.erase(held.begin());
    }
    if (held.empty()) _held.erase(stream);
}

bool Inbox::deliver(const Msg& msg, std::int64_t receivedAtMs, Result& result)
{
    try {
        if (_keeps && !_keeps(msg.from)) {
            _streams.pass(msg.from, msg.stream, msg.seq);
        } else {
            result.delivered.push_back(
                {_streams.deliver(msg.from, msg.stream, msg.seq, msg.time, receivedAtMs, msg.text),
                 _lines.unread(ConversationId::direct(msg.from))});
        }
    } catch (const Poco::Exception& e) {
        result.refusal = e.message();
        return false;
    }
    result.position = msg.seq;
    return true;
}

void Inbox::hold(const StreamKey& key, std::uint64_t position, const Msg& msg, std::int64_t receivedAtMs)
{
    if (msg.seq - position > _window) return;
    if (_heldBytes + heldSize(msg) > kMaxHeldBytes) return;
    if (_held.count(key) == 0) limitStreams(key.first);
    HeldStream& held = _held[key];
    if (!held.lines.emplace(msg.seq, Held{msg, receivedAtMs}).second) return;
    held.addRun(msg.seq);
    ++_heldCount;
    _heldBytes += heldSize(msg);
}

void Inbox::limitStreams(const std::string& sender)
{
    std::size_t streams = 0;
    auto idlest = _held.end();
    std::int64_t idlestAtMs = 0;
    for (auto it = _held.lower_bound(StreamKey{sender, ""}); it != _held.end() && it->first.first == sender; ++it) {
        ++streams;
        std::int64_t lastAtMs = 0;
        for (const auto& [seq, held] : it->second.lines) lastAtMs = std::max(lastAtMs, held.receivedAtMs);
        if (idlest == _held.end() || lastAtMs < idlestAtMs) {
            idlest = it;
            idlestAtMs = lastAtMs;
        }
    }
    if (streams < kMaxHeldStreamsPerSender) return;
    for (const auto& [seq, held] : idlest->second.lines) {
        --_heldCount;
        _heldBytes -= heldSize(held.msg);
    }
    _held.erase(idlest);
}

} // namespace peerchat
