#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace peerchat {

/// A limit on the offline letters indexd holds.
enum class MailLimit : std::uint8_t
{
    Pair,       ///< one sender's letters for one recipient (lines or bytes)
    Sender,     ///< one sender's letters for everyone (lines or bytes)
    Recipient,  ///< the letters from everyone for one recipient (lines)
    Total       ///< the bytes of every letter held
};

/// What the offline mailbox holds, tallied in memory so that checking a new
/// letter against every limit costs a few lookups, not a query, however fast
/// a logged-in sender posts: lines and bytes (a letter's bytes are its box's)
/// per sender and recipient, per sender, lines per recipient, and bytes in
/// all. The owner (Mailbox) adds and removes letters as its table changes. A
/// state class: no database, no clock.
class MailBudget
{
public:
    /// The limits (IndexSettings reads them); a letter is held only if every
    /// tally stays within them with it, so 0 holds none.
    struct Limits
    {
        std::size_t pairLines = 0;
        std::uint64_t pairBytes = 0;
        std::size_t senderLines = 0;
        std::uint64_t senderBytes = 0;
        std::size_t recipientLines = 0;
        std::uint64_t totalBytes = 0;
    };

    explicit MailBudget(const Limits& limits);

    /// The first limit a letter of bytes from sender to recipient would pass,
    /// checked in the order of MailLimit; nullopt when it fits.
    std::optional<MailLimit> exceeded(const std::string& sender, const std::string& recipient,
                                      std::uint64_t bytes) const;

    /// Counts a letter now held.
    void add(const std::string& sender, const std::string& recipient, std::uint64_t bytes);
    /// Stops counting a letter no longer held; one never counted changes nothing.
    void remove(const std::string& sender, const std::string& recipient, std::uint64_t bytes);

    /// Letters held for recipient.
    std::size_t linesFor(const std::string& recipient) const;
    /// Letters held in all.
    std::size_t lines() const { return _lines; }
    /// Bytes of every letter held.
    std::uint64_t bytes() const { return _bytes; }

private:
    struct Tally
    {
        std::size_t lines = 0;
        std::uint64_t bytes = 0;
    };

    /// Takes a letter of bytes out of the tally at it, and the entry with it
    /// when it was the last.
    template <typename Map>
    static void takeOut(Map& tallies, typename Map::iterator it, std::uint64_t bytes);

    Limits _limits;
    std::map<std::pair<std::string, std::string>, Tally> _byPair;
    std::unordered_map<std::string, Tally> _bySender;
    std::unordered_map<std::string, Tally> _byRecipient;
    std::size_t _lines = 0;
    std::uint64_t _bytes = 0;
};

} // namespace peerchat
