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

void StoreBatch::add(const StoreChange& change)
{
    for (const store::Op& op : change) fold(op);
}

void StoreBatch::finish()
{
    for (auto& [peer, rows] : _rows) appendTrim(rows, peer);
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
        if (o->id <= rows.trimTo) appendTrim(rows, o->peer);
        append(std::move(op));
    } else if (auto* o = std::get_if<store::PutConversation>(&op)) {
        Rows& rows = rowsOf(o->peer);
        append(std::move(op));
        replace(rows.conversation);
    } else if (auto* o = std::get_if<store::TrimLines>(&op)) {
        // Sparing nothing: every line up to upTo goes.
        trim(rowsOf(o->peer), o->peer, o->upTo, o->upTo);
    } else if (auto* o = std::get_if<store::TrimUnqueued>(&op)) {
        trim(rowsOf(o->peer), o->peer, o->upTo, o->delivered);
    } else if (auto* o = std::get_if<store::PutOutgoingStream>(&op)) {
        Rows& rows = rowsOf(o->peer);
        append(std::move(op));
        replace(rows.outgoingStream);
    } else if (auto* o = std::get_if<store::MarkDelivered>(&op)) {
        Rows& rows = rowsOf(o->peer);
        append(std::move(op));
        replace(rows.delivered);
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
        // A line that changes state may change whether a trim spares it.
        appendTrim(rowsOf(o->peer), o->peer);
        append(std::move(op));
    } else if (auto* o = std::get_if<store::SetLineStates>(&op)) {
        appendTrim(rowsOf(o->peer), o->peer);
        append(std::move(op));
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

// A later trim that reaches at least as far and spares no line the waiting
// one deletes takes its place; any other goes in after it.
void StoreBatch::trim(Rows& rows, std::string_view peer, std::uint64_t upTo, std::uint64_t delivered)
{
    if (rows.trimTo != 0 && (upTo < rows.trimTo || delivered < rows.trimDelivered)) appendTrim(rows, peer);
    rows.trimTo = upTo;
    rows.trimDelivered = delivered;
}

void StoreBatch::appendTrim(Rows& rows, std::string_view peer)
{
    if (rows.trimTo == 0) return;
    append(store::TrimUnqueued{peer, rows.trimTo, rows.trimDelivered});
    rows.trimTo = 0;
    rows.trimDelivered = 0;
}

void StoreBatch::drop(Rows& rows, std::string_view stream, std::uint64_t upTo)
{
    const auto found = rows.outbox.find(stream);
    if (found == rows.outbox.end()) return;
    found->second.takeUpTo(upTo, [this](std::size_t op) { _dropped[op] = true; });
}

} // namespace peerchat
