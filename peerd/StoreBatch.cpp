#include "StoreBatch.h"

#include <utility>

namespace peerchat {

void StoreBatch::add(const StoreChange& change)
{
    for (const store::Op& op : change) fold(op);
}

void StoreBatch::finish()
{
    for (auto& [peer, rows] : _rows) {
        if (rows.trimTo != 0) appendMade(store::TrimLines{peer, rows.trimTo});
    }
}

void StoreBatch::clear()
{
    _ops.clear();
    _made.clear();
    _rows.clear();
}

void StoreBatch::append(const store::Op& op)
{
    _ops.push_back(&op);
}

void StoreBatch::appendMade(store::Op op)
{
    _made.push_back(std::move(op));
    _ops.push_back(&_made.back());
}

void StoreBatch::replace(std::size_t& kept)
{
    if (kept != kNone) _ops[kept] = nullptr;
    kept = _ops.size() - 1;
}

void StoreBatch::fold(const store::Op& op)
{
    if (const auto* o = std::get_if<store::PutLine>(&op)) {
        Rows& rows = _rows[o->peer];
        // A line put after a trim that deletes it: the trim must come first.
        if (rows.trimTo != 0 && o->id <= rows.trimTo) {
            appendMade(store::TrimLines{o->peer, rows.trimTo});
            rows.trimTo = 0;
        }
        rows.lines[o->id] = LinePut{_ops.size()};
        append(op);
    } else if (const auto* o = std::get_if<store::PutConversation>(&op)) {
        append(op);
        replace(_rows[o->peer].conversation);
    } else if (const auto* o = std::get_if<store::TrimLines>(&op)) {
        Rows& rows = _rows[o->peer];
        if (o->upTo > rows.trimTo) rows.trimTo = o->upTo;
    } else if (const auto* o = std::get_if<store::PutOutgoingStream>(&op)) {
        append(op);
        replace(_rows[o->peer].outgoingStream);
    } else if (const auto* o = std::get_if<store::PutOutbox>(&op)) {
        _rows[o->peer].outbox[o->stream][o->seq] = _ops.size();
        append(op);
    } else if (const auto* o = std::get_if<store::MoveOutbox>(&op)) {
        // Rare (a key trusted anew): the peer's rows put so far simply stay.
        _rows[o->peer].outbox.clear();
        append(op);
    } else if (const auto* o = std::get_if<store::DropOutbox>(&op)) {
        drop(_rows[o->peer], *o);
        append(op);
    } else if (const auto* o = std::get_if<store::SetLineState>(&op)) {
        setStates(_rows[o->peer], o->peer, o->id, o->id, o->state);
    } else if (const auto* o = std::get_if<store::SetLineStates>(&op)) {
        setStates(_rows[o->peer], o->peer, o->firstId, o->lastId, o->state);
    } else if (const auto* o = std::get_if<store::PutIncomingStream>(&op)) {
        auto slot = _rows[o->sender].incomingStreams.try_emplace(o->stream, kNone).first;
        append(op);
        replace(slot->second);
    } else if (const auto* o = std::get_if<store::PutKeyPin>(&op)) {
        append(op);
        replace(_rows[o->name].keyPin);
    } else {
        append(op);
    }
}

// The lines put in this batch take the state in their INSERT (a copy of the
// line's, made once); the rest of first..last, runs of ids put earlier, get
// an UPDATE each, in this place.
void StoreBatch::setStates(Rows& rows, const std::string& peer, std::uint64_t first, std::uint64_t last,
                           const std::string& state)
{
    std::uint64_t next = first;
    for (auto it = rows.lines.lower_bound(first); it != rows.lines.end() && it->first <= last; ++it) {
        if (it->first > next) appendMade(store::SetLineStates{peer, next, it->first - 1, state});
        LinePut& put = it->second;
        if (put.copy == nullptr) {
            _made.push_back(*_ops[put.slot]);
            _ops[put.slot] = &_made.back();
            put.copy = &std::get<store::PutLine>(_made.back());
        }
        put.copy->state = state;
        next = it->first + 1;
        if (next == 0) return;
    }
    if (next <= last) appendMade(store::SetLineStates{peer, next, last, state});
}

void StoreBatch::drop(Rows& rows, const store::DropOutbox& o)
{
    const auto stream = rows.outbox.find(o.stream);
    if (stream == rows.outbox.end()) return;
    std::map<std::uint64_t, std::size_t>& puts = stream->second;
    const auto end = puts.upper_bound(o.upTo);
    for (auto it = puts.begin(); it != end; ++it) _ops[it->second] = nullptr;
    puts.erase(puts.begin(), end);
}

} // namespace peerchat
