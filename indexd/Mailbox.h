#pragma once

#include "Protocol.h"

#include <Poco/Data/Session.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace peerchat {

/// indexd's offline mailbox: chat lines held for peerchat users until they
/// ack them, in a SQLite file so they outlive indexd (kill -9 included). Each
/// line is a `msg` as its sender wrote it, keyed by (TO, FROM, STREAM, SEQ);
/// at most `limit` lines wait per recipient. Knows nothing of sockets or of
/// who is online. Database errors after opening surface as Poco exceptions.
class Mailbox
{
public:
    /// What store() did.
    enum class StoreResult
    {
        Stored,     ///< kept
        Duplicate,  ///< that (TO, FROM, STREAM, SEQ) already waits; nothing changed
        Full        ///< TO already has `limit` lines waiting; nothing changed
    };

    /// The schema this code reads and writes, kept in `PRAGMA user_version`.
    static constexpr int kSchemaVersion = 1;

    /// Opens the database at path (":memory:" for one that lives only as long
    /// as the object), creating or migrating its schema. Throws
    /// Poco::IOException, its message naming the path and the reason, when the
    /// file cannot be opened, is not a database, or was written by a newer
    /// indexd.
    Mailbox(const std::string& path, std::size_t limit);

    /// Keeps msg for to, unless it is already there or to's lines reached the limit.
    StoreResult store(const std::string& to, const Msg& msg);

    /// Every line waiting for to, by sender, stream and sequence number.
    std::vector<Msg> waitingFor(const std::string& to);

    /// Removes to's lines of stream up to and including seq (acks are
    /// cumulative); returns how many went.
    std::size_t acknowledge(const std::string& to, const std::string& stream, std::uint64_t seq);

    /// How many lines wait for to.
    std::size_t countFor(const std::string& to);

private:
    void migrate();

    Poco::Data::Session _session;
    std::size_t _limit;
};

} // namespace peerchat
