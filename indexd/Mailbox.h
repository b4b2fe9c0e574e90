#pragma once

#include "IndexDatabase.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace peerchat {

/// indexd's offline mailbox: messages held for peerchat users until they ack
/// them, in indexd's SQLite file so they outlive indexd (kill -9 included).
/// Each is an OfflineBox its sender sealed to the recipient's identity key:
/// indexd keeps ciphertext only, keyed by (TO, FROM, STREAM, SEQ); at most
/// `limit` wait per recipient. Knows nothing of sockets or of who is online.
/// Database errors surface as Poco exceptions.
class Mailbox
{
public:
    /// One message waiting for a recipient.
    struct Letter
    {
        std::string from;
        std::string stream;
        std::uint64_t seq = 0;
        std::string box;  ///< the OfflineBox, raw bytes
    };

    /// What store() did.
    enum class StoreResult
    {
        Stored,     ///< kept
        Duplicate,  ///< that (TO, FROM, STREAM, SEQ) already waits; nothing changed
        Full        ///< TO already has `limit` letters waiting; nothing changed
    };

    /// A mailbox in database (which must outlive it).
    Mailbox(IndexDatabase& database, std::size_t limit);

    /// Keeps letter for to, unless it is already there or to's letters reached the limit.
    StoreResult store(const std::string& to, const Letter& letter);

    /// Every letter waiting for to, by sender, stream and sequence number.
    std::vector<Letter> waitingFor(const std::string& to);

    /// Removes to's letters of stream up to and including seq (acks are
    /// cumulative); returns how many went.
    std::size_t acknowledge(const std::string& to, const std::string& stream, std::uint64_t seq);

    /// How many letters wait for to.
    std::size_t countFor(const std::string& to);

private:
    Poco::Data::Session& _session;
    std::size_t _limit;
};

} // namespace peerchat
