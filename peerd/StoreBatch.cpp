#include "StoreBatch.h"

#include <algorithm>
#include <utility>

namespace peerchat {

void StoreBatch::Positions::put(std::uint64_t number, std::size_t op)
{
    if (_items.size() == _first || _items.back().first < number) {
        _items.emplace_back(number, op);
        return;
    }
    const auto at = _items.begin() + (from(number) - _items.cbegin());
    if (at != _items.end() && at->first == number) {
        at->second = op;
    } else {
        _items.insert(at, Item{number, op});
    }
}

StoreBatch::Positions::Iterator StoreBatch::Positions::from(std::uint64_t number) const
{
    return std::lower_bound(_items.begin() + static_cast<std::ptrdiff_t>(_first), _items.end(), Item{number, 0},
                            [](const Item& a, const Item& b) { return a.first < b.first; });
}

void StoreBatch::add(StoreChange change)
{
    for (store::Op& op : change) fold(std::move(op));
}

void StoreBatch::finish()
{
    for (auto& [peer, rows] : _rows) {
        if (rows.trimTo != 0) append(store::TrimLines{peer, rows.trimTo});
    }
}

void StoreBatch::clear()
{
    _ops.clear();
    _dropped.clear();
    _rows.clear();
    _last = nullptr;
}

StoreBatch::Rows& StoreBatch::rowsOf(std::string_view name)
{
    // A batch's ops nearly all name one peer, several times each: the last one is looked at first.
    if (_last == nullptr || _lastName != name) {
        _last = &_rows[name];
        _lastName = name;
    }
    return *_last;
}

void StoreBatch::append(store::Op op)
{
    _ops.push_back(std::move(op));
    _dropped.push_back(false);
}

void StoreBatch::replace(std::size_t& kept)
{
    if (kept != kNone) _dropped[kept] = true;
    kept = _ops.size() - 1;
}

void StoreBatch::fold(store::Op op)
{
    if (auto* o = std::get_if<store::PutLine>(&op)) {
        Rows& rows = rowsOf(o->peer);
        // A line put after a trim that deletes it: the trim must come first.
        if (rows.trimTo != 0 && o->id <= rows.trimTo) {
            append(store::TrimLines{o->peer, rows.trimTo});
            rows.trimTo = 0;
        }
        rows.lines.put(o->id, _ops.size());
        append(std::move(op));
    } else if (auto* o = std::get_if<store::PutConversation>(&op)) {
        Rows& rows = rowsOf(o->peer);
        append(std::move(op));
        replace(rows.conversation);
    } else if (auto* o = std::get_if<store::TrimLines>(&op)) {
        Rows& rows = rowsOf(o->peer);
        if (o->upTo > rows.trimTo) rows.trimTo = o->upTo;
    } else if (auto* o = std::get_if<store::PutOutgoingStream>(&op)) {
        Rows& rows = rowsOf(o->peer);
        append(std::move(op));
        replace(rows.outgoingStream);
    } else if (auto* o = std::get_if<store::PutOutbox>(&op)) {
        rowsOf(o->peer).outbox[o->stream].put(o->seq, _ops.size());
        append(std::move(op));
    } else if (auto* o = std::get_if<store::MoveOutbox>(&op)) {
        // Rare (a key trusted anew): the peer's rows put so far simply stay.
        rowsOf(o->peer).outbox.clear();
        append(std::move(op));
    } else if (auto* o = std::get_if<store::DropOutbox>(&op)) {
        drop(rowsOf(o->peer), o->stream, o->upTo);
        append(std::move(op));
    } else if (auto* o = std::get_if<store::DropAckedOutbox>(&op)) {
        drop(rowsOf(o->peer), o->stream, o->upTo);
        append(std::move(op));
    } else if (auto* o = std::get_if<store::SetLineState>(&op)) {
        setStates(rowsOf(o->peer), o->peer, o->id, o->id, o->state);
    } else if (auto* o = std::get_if<store::SetLineStates>(&op)) {
        setStates(rowsOf(o->peer), o->peer, o->firstId, o->lastId, o->state);
    } else if (auto* o = std::get_if<store::PutIncomingStream>(&op)) {
        auto [slot, added] = rowsOf(o->sender).incomingStreams.try_emplace(o->stream, kNone);
        append(std::move(op));
        replace(slot->second);
    } else if (auto* o = std::get_if<store::PutKeyPin>(&op)) {
        Rows& rows = rowsOf(o->name);
        append(std::move(op));
        replace(rows.keyPin);
    } else {
        append(std::move(op));
    }
}

// The lines put in this batch take the state in their INSERT; the rest of
// first..last, runs of ids put earlier, get an UPDATE each, in this place.
void StoreBatch::setStates(Rows& rows, std::string_view peer, std::uint64_t first, std::uint64_t last,
                           std::string_view state)
{
    std::uint64_t next = first;
    for (auto it = rows.lines.from(first); it != rows.lines.end() && it->first <= last; ++it) {
        if (it->first > next) append(store::SetLineStates{peer, next, it->first - 1, state});
        std::get<store::PutLine>(_ops[it->second]).state = state;
        next = it->first + 1;
        if (next == 0) return;
    }
    if (next <= last) append(store::SetLineStates{peer, next, last, state});
}

void StoreBatch::drop(Rows& rows, std::string_view stream, std::uint64_t upTo)
{
    const auto found = rows.outbox.find(stream);
    if (found == rows.outbox.end()) return;
    found->second.takeUpTo(upTo, [this](std::size_t op) { _dropped[op] = true; });
}

} // namespace peerchat
