#pragma once

#include "StoreChange.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace peerchat {

/// Folds the changes the writer applies in one transaction into fewer row
/// operations that leave the database exactly as applying them one by one
/// does. Under load a batch holds hundreds of changes whose operations
/// overwrite or undo each other: every line sets its conversation's
/// counters and its stream's last seq, and every ack the delivered mark
/// (only the last counts), and every line trims the one that fell past the
/// history limit (one DELETE for the batch does). A state class: it never
/// touches the database.
///
/// Exactness rests on what the operations are: every one is a blind write
/// (none reads a row), but for the trims, which spare the lines still
/// queued, so read their states; and each table is written by its own
/// kinds only. So of the writes that replace a whole row by its key
/// (counters, streams, delivered marks, key pins) only the last matters; a
/// trim may wait until the end of the batch, or merge with a later one that
/// reaches as far and spares no more, unless a line it would delete is put
/// after it or a line's state changes after it; an outbox row of an old
/// peerd's redo log put and dropped in the batch, and never moved, is absent
/// at the end either way.
class StoreBatch
{
public:
    /// Adds the operations of one change, after those added before.
    void add(const StoreChange& change);

    /// Calls apply with each folded operation, in the order to apply them,
    /// then done() while the operations are still held (apply may keep
    /// references to them until then), then empties the batch, keeping its
    /// room for the next one: a batch that is kept costs no allocation per
    /// operation.
    template <typename Apply, typename Done>
    void drain(Apply&& apply, Done&& done)
    {
        finish();
        for (std::size_t i = 0; i < _ops.size(); ++i) {
            if (!_dropped[i]) apply(_ops[i]);
        }
        done();
        clear();
    }

    /// Forgets every operation added (those of a batch that failed before it was drained).
    void clear();

private:
    /// The ops of a peer's outbox rows by seq, in the seq's order. The seqs
    /// of a batch come in rising order nearly always, so that a put is an
    /// append: a map node per row cost an allocation and a rebalance each.
    class Positions
    {
    public:
        using Item = std::pair<std::uint64_t, std::size_t>;  ///< number, op
        using Iterator = std::vector<Item>::const_iterator;

        /// op is the put of number now (replacing an earlier one of the same number).
        void put(std::uint64_t number, std::size_t op);
        /// The first item of a number at least number.
        Iterator from(std::uint64_t number) const;
        Iterator end() const { return _items.end(); }
        /// Calls f with each op of a number up to upTo, then forgets them.
        template <typename F>
        void takeUpTo(std::uint64_t upTo, F&& f)
        {
            while (_first < _items.size() && _items[_first].first <= upTo) f(_items[_first++].second);
        }

    private:
        std::vector<Item> _items;
        std::size_t _first = 0;  ///< the items before it are forgotten
    };

    /// What the batch has written for one peer (or sender, or key pin name).
    struct Rows
    {
        std::size_t conversation = kNone;    ///< the last PutConversation
        std::size_t outgoingStream = kNone;  ///< the last PutOutgoingStream
        std::size_t keyPin = kNone;          ///< the last PutKeyPin
        std::size_t delivered = kNone;       ///< the last MarkDelivered
        std::map<std::string_view, std::size_t> incomingStreams;  ///< the last PutIncomingStream by stream
        /// A TrimUnqueued up to trimTo, sparing queued lines past trimDelivered, waits (trimTo 0: none).
        std::uint64_t trimTo = 0;
        std::uint64_t trimDelivered = 0;
        /// PutOutbox not yet dropped nor moved, by stream and seq.
        std::map<std::string_view, Positions> outbox;
    };
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

    /// Appends the trims that waited for the end.
    void finish();
    void fold(store::Op op);
    Rows& rowsOf(std::string_view name);
    void append(store::Op op);
    /// Makes the op just appended the only one of its row: the one before it (at kept) goes.
    void replace(std::size_t& kept);
    /// A trim of peer's lines up to upTo that spares the queued ones past delivered.
    void trim(Rows& rows, std::string_view peer, std::uint64_t upTo, std::uint64_t delivered);
    /// Appends the trim of peer that waits, if any.
    void appendTrim(Rows& rows, std::string_view peer);
    /// The outbox rows of stream up to upTo put in this batch need not be written.
    void drop(Rows& rows, std::string_view stream, std::uint64_t upTo);

    std::vector<store::Op> _ops;
    std::vector<bool> _dropped;
    /// By the names in the batch's ops: the views live as long as the batch.
    std::unordered_map<std::string_view, Rows> _rows;
    Rows* _last = nullptr;  ///< the rows rowsOf() found last (elements of _rows stay where they are)
    std::string_view _lastName;
};

} // namespace peerchat
