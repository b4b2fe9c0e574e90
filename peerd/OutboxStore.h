#pragma once

#include "LineStore.h"
#include "StoreChange.h"
#include "StoreDatabase.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace peerchat {

/// A line to a peerchat peer that waits in the outbox until that peer acks it.
struct OutboxEntry
{
    std::string peer;
    std::uint64_t lineId = 0;  ///< the line's id in the conversation with peer
    std::string stream;        ///< this identity's outgoing stream to peer
    std::uint64_t seq = 0;     ///< the line's place in that stream, from 1
    std::string sentTime;
    std::string text;
};

/// The outbox: the lines to peerchat peers not yet acked, and the outgoing
/// stream to each peer they are numbered in. A queued line is the line
/// itself (LineStore): outgoing, pending, stored or failed, past its
/// conversation's delivered mark, which an ack moves; the queued lines to a
/// peer are the last of its stream. State only, in StoreDatabase; only the
/// queued lines' ids are cached.
class OutboxStore
{
public:
    OutboxStore(StoreDatabase& database, LineStore& lines);

    /// Stores a line self writes to a peerchat peer, as Pending, with key
    /// unless it is empty, and puts it in the outbox with the next number of
    /// the outgoing stream to peer (the stream gets a random id on first use),
    /// in one step; returns its outbox entry.
    OutboxEntry enqueue(const std::string& peer, const std::string& self, std::string sentTime,
                        std::int64_t receivedAtMs, std::string text, const std::string& key = {});

    /// Every line waiting for an ack: per peer, in stream order. Read from
    /// the database (only their ids are kept in memory): for a start and for
    /// the rare moves of the queue, not for every line.
    std::vector<OutboxEntry> outbox() const;
    /// The lines waiting for peer's ack, in stream order, read as outbox() is.
    std::vector<OutboxEntry> outboxTo(const std::string& peer) const;

    /// How many lines to peer wait for an ack.
    std::size_t queuedTo(const std::string& peer) const;

    /// Gives peer a new outgoing stream and moves the lines still waiting
    /// for it there, in order, numbered from 1, together with with (another
    /// store's changes), in one step (outboxTo() lists them as they are
    /// now). For a new installation of peer, which never saw the old stream.
    void newStream(const std::string& peer, const StoreChange& with, const std::function<std::string()>& what);

    /// peer has its copy of stream up to seq: those lines leave the outbox and
    /// take state (Delivered; Sent for plain talk to a seed or .NET client,
    /// which cannot ack). Returns the ids of the lines that changed.
    std::vector<std::uint64_t> acknowledge(const std::string& peer, const std::string& stream, std::uint64_t seq,
                                           local::LineState state = local::LineState::Delivered);

private:
    void load(Poco::Data::Session& session);
    /// The queued lines as the database holds them, numbered in their streams,
    /// those to peer only unless it is empty (no name is); throws
    /// Poco::DataFormatException when they cannot be numbered (a damaged database).
    std::vector<OutboxEntry> readOutbox(Poco::Data::Session& session, const std::string& peer) const;

    StoreDatabase& _database;
    LineStore& _lines;
    // Changed only once the change that writes it is recorded.
    /// Outgoing stream per peer: its id and the last seq given out.
    std::map<std::string, std::pair<std::string, std::uint64_t>> _outgoingStreams;
    /// Per peer, the ids of the lines queued, oldest first: its outgoing
    /// lines, pending, stored or failed, past its delivered mark, which are
    /// the last of its outgoing stream.
    std::map<std::string, std::deque<std::uint64_t>> _queued;
};

} // namespace peerchat
