#pragma once

#include "IndexDatabase.h"
#include "MailBudget.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace peerchat {

/// indexd's offline mailbox: messages held for peerchat users until they ack
/// them or they expire, in indexd's SQLite file so they outlive indexd (kill
/// -9 included). Each is an OfflineBox its sender sealed to the recipient's
/// identity key: indexd keeps ciphertext only, keyed by (TO, FROM, STREAM,
/// SEQ), with the time it was stored. A MailBudget, loaded from the table at
/// open and kept in step with it, bounds what it takes. Knows nothing of
/// sockets, clocks or who is online. Database errors surface as Poco
/// exceptions, and leave the mailbox as it was.
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
    struct StoreResult
    {
        enum class Kind
        {
            Stored,     ///< kept
            Duplicate,  ///< that (TO, FROM, STREAM, SEQ) already waits; nothing changed
            Refused     ///< it would pass limit; nothing changed
        };
        Kind kind = Kind::Stored;
        MailLimit limit = MailLimit::Total;  ///< the limit that refused it (Refused only)
    };

    /// A mailbox in database (which must outlive it), within limits.
    Mailbox(IndexDatabase& database, const MailBudget::Limits& limits);

    /// Keeps letter for to, stamped storedAtMs (milliseconds since 1970),
    /// unless it is already there or would pass a limit.
    StoreResult store(const std::string& to, const Letter& letter, std::uint64_t storedAtMs);

    /// Every letter waiting for to, by sender, stream and sequence number.
    std::vector<Letter> waitingFor(const std::string& to);

    /// Removes to's letters of stream up to and including seq (acks are
    /// cumulative); returns how many went.
    std::size_t acknowledge(const std::string& to, const std::string& stream, std::uint64_t seq);

    /// Removes every letter stored before cutoffMs; returns how many went.
    std::size_t expireBefore(std::uint64_t cutoffMs);

    /// How many letters wait for to.
    std::size_t countFor(const std::string& to) const { return _budget.linesFor(to); }

    /// What the mailbox holds, in lines and bytes.
    const MailBudget& budget() const { return _budget; }

private:
    Poco::Data::Session& _session;
    MailBudget _budget;
};

} // namespace peerchat
