#pragma once

#include "LineStore.h"
#include "LocalProtocol.h"
#include "StoreDatabase.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

namespace peerchat {

/// How far each peerchat stream that came to this identity has been
/// delivered, by sender and stream id, and the delivery of its lines into
/// LineStore, each in one step with the stream's new position. State only,
/// in StoreDatabase, and cached whole.
class IncomingStreams
{
public:
    IncomingStreams(StoreDatabase& database, LineStore& lines);

    /// How far the stream from sender has been delivered: every seq up to the
    /// result (0: none yet).
    std::uint64_t delivered(const std::string& sender, const std::string& stream) const;

    /// Stores seq of sender's stream, which must be delivered(sender, stream)
    /// + 1, as a Received line counted unread, and moves the stream on to it,
    /// in one step; returns the line.
    local::ChatLine deliver(const std::string& sender, const std::string& stream, std::uint64_t seq,
                            std::string sentTime, std::int64_t receivedAtMs, std::string text);

    /// Moves sender's stream on to seq, which must be delivered(sender,
    /// stream) + 1, storing no line: a line from a sender whose lines are not
    /// kept (blocked, or a stranger while strangers are refused) is passed over.
    void pass(const std::string& sender, const std::string& stream, std::uint64_t seq);

    /// Every peer a peerchat stream came from (its lines delivered or passed over), by name.
    std::set<std::string> senders() const;

private:
    StoreDatabase& _database;
    LineStore& _lines;
    /// Delivered position per (sender, stream).
    std::map<std::pair<std::string, std::string>, std::uint64_t> _positions;
};

} // namespace peerchat
