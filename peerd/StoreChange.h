#pragma once

#include "Parsed.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace peerchat {

/// The changes the stores (PeerStore) make to their database, one row operation
/// each, with every value it writes spelled out (no "add one"), so that a
/// change applied twice leaves what applying it once does. A StoreChange is
/// what one call of the store changes, and goes into the redo log whole
/// (RedoLog), to be applied to the database in one transaction.
///
/// The operations of the chat path hold their text as views, not copies: a
/// change is built, encoded and dropped within one call of the store, over
/// strings that call holds, and a decoded change is applied while the
/// record it was read from is still queued. Copying them was a third of the
/// allocations a line cost each peerd (docs/PERFORMANCE.md). Only the keys
/// of the rare key pins are owned: they are text computed on the way.
namespace store {

/// INSERT a line (key empty: none).
struct PutLine
{
    std::string_view peer;
    std::uint64_t id = 0;
    bool outgoing = false;
    std::string_view from;
    std::string_view sentTime;
    std::int64_t receivedAtMs = 0;
    std::string_view text;
    std::string_view state;
    bool verified = false;
    std::string_view key;
};
/// Sets a conversation's counters.
struct PutConversation { std::string_view peer; std::uint64_t lastId = 0; std::uint64_t unread = 0; };
/// Deletes peer's lines with ids up to upTo (written by peerds before TrimUnqueued; still applied from their redo
/// logs).
struct TrimLines { std::string_view peer; std::uint64_t upTo = 0; };
/// Sets the outgoing stream to peer.
struct PutOutgoingStream { std::string_view peer; std::string_view stream; std::uint64_t lastSeq = 0; };
/// The outbox operations that follow (PutOutbox to DropAckedOutbox) are
/// written by peerds before schema 7, which kept queued lines in a table of
/// their own; they are still applied from those peerds' redo logs to that
/// table, whose rows the store then turns into queued lines (see
/// StoreDatabase::adoptOutbox). Adds a line to the outbox.
struct PutOutbox
{
    std::string_view peer;
    std::uint64_t lineId = 0;
    std::string_view stream;
    std::uint64_t seq = 0;
    std::string_view sentTime;
    std::string_view text;
};
/// Moves an outbox line to another stream and seq.
struct MoveOutbox { std::string_view peer; std::uint64_t lineId = 0; std::string_view stream; std::uint64_t seq = 0; };
/// Takes the lines of a stream up to seq out of the outbox (written by peerds before DropAckedOutbox; still
/// applied from their redo logs).
struct DropOutbox { std::string_view peer; std::string_view stream; std::uint64_t upTo = 0; };
/// Takes the lines of a stream up to seq out of the outbox, none of which has an id past lastLineId (the
/// bound lets the delete walk the outbox's key, peer and line id, from the first of peer's lines to it).
struct DropAckedOutbox
{
    std::string_view peer;
    std::string_view stream;
    std::uint64_t upTo = 0;
    std::uint64_t lastLineId = 0;
};
/// Sets the state of a line (written by peerds before SetLineStates; still applied from their redo logs).
struct SetLineState { std::string_view peer; std::uint64_t id = 0; std::string_view state; };
/// Sets the state of peer's lines firstId..lastId, in one statement.
struct SetLineStates { std::string_view peer; std::uint64_t firstId = 0; std::uint64_t lastId = 0; std::string_view state; };
/// Sets how far an incoming stream is delivered.
struct PutIncomingStream { std::string_view sender; std::string_view stream; std::uint64_t delivered = 0; };
/// Sets a peer's key pin (keys as base64url text, as the table holds them).
struct PutKeyPin
{
    std::string_view name;
    std::string pinned;
    std::optional<std::string> offered;
    std::optional<std::string> keyless;
};
/// Sets indexd's pinned key for an endpoint.
struct PutIndexKey { std::string_view endpoint; std::string key; };

/// Every line queued to peer up to lineId has left the outbox: those of
/// them still pending, stored or failed read as delivered, and the queued
/// lines past it are the outbox.
struct MarkDelivered { std::string_view peer; std::uint64_t lineId = 0; };
/// Deletes peer's lines with ids up to upTo but those still queued: outgoing,
/// pending, stored or failed, with ids past delivered (the MarkDelivered of
/// peer when the trim was made).
struct TrimUnqueued { std::string_view peer; std::uint64_t upTo = 0; std::uint64_t delivered = 0; };

/// Sets a user's row of the contact table (ContactRecord, tokens as the table holds them).
struct PutContact
{
    std::string_view name;
    std::string_view relation;
    bool blocked = false;
    std::string_view note;
    std::int64_t sinceMs = 0;
    std::string_view inStream;
    std::uint64_t inSeq = 0;
    std::string_view outKind;
    std::uint64_t outSeq = 0;
    bool outPending = false;
};
/// Sets one of the identity's settings.
struct PutSetting { std::string_view key; std::string_view value; };
/// Sets the member list held for a group (GroupMembership, encoded).
struct PutGroup { std::string_view id; std::string_view membership; };

/// A kind's place in the list is its tag in the redo log: new kinds go at the end.
using Op = std::variant<PutLine, PutConversation, TrimLines, PutOutgoingStream, PutOutbox, MoveOutbox, DropOutbox,
                        SetLineState, PutIncomingStream, PutKeyPin, PutIndexKey, SetLineStates, DropAckedOutbox,
                        MarkDelivered, TrimUnqueued, PutContact, PutSetting, PutGroup>;

} // namespace store

/// One call's changes, applied all or none.
using StoreChange = std::vector<store::Op>;

/// The bytes of a StoreChange in the redo log, and back.
class StoreChangeCodec
{
public:
    static std::string encode(const StoreChange& change);
    /// encode(change) into out, in place of what it held: a caller that
    /// keeps out writes the next change into the room this one had.
    static void encode(const StoreChange& change, std::string& out);
    /// Refuses bytes encode() did not write (damage, or a newer peerd's record).
    /// The change's views point into bytes, which must outlive it.
    static Parsed<StoreChange> decode(std::string_view bytes);
    /// decode(bytes) into change, in place of what it held (a caller that
    /// keeps change decodes the next record into the room this one had);
    /// returns how many operations it read.
    static Parsed<std::size_t> decode(std::string_view bytes, StoreChange& change);
};

} // namespace peerchat
