#pragma once

#include "LocalProtocol.h"
#include "StoreChange.h"
#include "StoreDatabase.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace peerchat {

/// The lines of every conversation of this identity: per peer, the lines in
/// the order they were stored (ids from 1), at most historyLimit of them
/// (the oldest are dropped, but for lines still queued), how many incoming
/// lines are unread, and the delivered mark: the newest line to the peer an
/// ack took out of the outbox (OutboxStore), past which an outgoing line
/// that is pending, stored or failed is still queued. An outgoing line may
/// carry the key its client sent it with (LocalProtocol's SendRequest::key),
/// unique in its conversation while the line is kept. State only, in
/// StoreDatabase; everything but the lines themselves is cached, so only
/// reading lines (history, search, a repeated send key) waits for the
/// database. A change that cannot be kept is refused whole, cache included.
class LineStore
{
public:
    /// Drops, at once, what the database keeps past historyLimit (a smaller
    /// limit than the database was kept with), and reads the counters.
    LineStore(StoreDatabase& database, std::size_t historyLimit);

    /// Stores a line someone else wrote to us and counts it unread; returns it
    /// with its id. verified is false for a line from plain seed talk, whose
    /// sender nothing proves.
    local::ChatLine addIncoming(const std::string& peer, std::string sentTime, std::int64_t receivedAtMs,
                                std::string text, bool verified);

    /// Stores a line this identity (self) sent to peer that needs no ack (to a
    /// seed client: state Sent), with key unless it is empty; returns it with
    /// its id.
    local::ChatLine addOutgoing(const std::string& peer, const std::string& self, std::string sentTime,
                                std::int64_t receivedAtMs, std::string text, const std::string& key = {});

    /// Stores line (its id is set to the next of its conversation's; unread:
    /// counted unread; with key unless it is empty) together with with, the
    /// changes of another store that go with it, in one step (what says what
    /// it is, for an error); returns the line with its id. The stores that
    /// number lines in streams (OutboxStore, IncomingStreams) store theirs here.
    local::ChatLine add(local::ChatLine line, bool unread, const std::string& key,
                        std::initializer_list<store::Op> with, const std::function<std::string()>& what);

    /// The line with peer stored with key, as it is now; nullopt when none is
    /// kept (never sent with that key, or dropped past historyLimit).
    std::optional<local::ChatLine> lineWithKey(const std::string& peer, const std::string& key) const;

    /// Sets the state of line id with peer; false when there is no such line.
    bool setState(const std::string& peer, std::uint64_t id, local::LineState state);

    /// The lines kept with peer, oldest first.
    std::vector<local::ChatLine> history(const std::string& peer) const;

    /// Up to limit lines with peer whose text contains text (case-sensitive,
    /// bytewise), the newest ones, oldest first.
    std::vector<local::ChatLine> search(const std::string& peer, const std::string& text, std::size_t limit) const;

    /// How many incoming lines from peer are unread.
    std::uint32_t unread(const std::string& peer) const;

    /// Every non-zero unread count, by peer.
    std::map<std::string, std::uint32_t> unreadCounts() const;

    /// The user has seen the conversation with peer: its unread count becomes 0.
    void markRead(const std::string& peer);

    /// The newest line to peer an ack took out of the outbox (0: none).
    std::uint64_t deliveredMark(const std::string& peer) const;

    /// Moves peer's delivered mark to lineId, together with with (another
    /// store's changes), in one step.
    void markDelivered(const std::string& peer, std::uint64_t lineId, StoreChange with,
                       const std::function<std::string()>& what);

private:
    struct Conversation
    {
        std::uint64_t lastId = 0;  ///< the newest id given out; ids go on after old lines are dropped
        std::uint32_t unread = 0;
    };
    /// A line as newLine() numbers it, for lineChange() and, once that is recorded, keep().
    struct StoredLine
    {
        local::ChatLine line;
        Conversation conversation;  ///< its conversation's counters with it
        std::string key;
    };
    /// The send keys of one conversation's kept lines, both ways.
    struct SendKeys
    {
        std::map<std::string, std::uint64_t> byKey;
        std::map<std::uint64_t, std::string> byId;
    };

    void load(Poco::Data::Session& session);
    /// line with the next id of its conversation (with key unless it is
    /// empty, which must not be in use) and the conversation's new counters.
    StoredLine newLine(local::ChatLine line, bool unread, const std::string& key) const;
    /// The insertion of stored, the drop of what falls past historyLimit and
    /// the conversation's new counters; its views point into stored.
    StoreChange lineChange(const StoredLine& stored) const;
    /// Caches what newLine() returned, once its change is recorded.
    void keep(const StoredLine& stored);
    /// True when line id with peer is kept (given out and not dropped past historyLimit).
    bool lineKept(const std::string& peer, std::uint64_t id) const;

    StoreDatabase& _database;
    std::size_t _historyLimit;
    // Changed only once the change that writes it is recorded.
    std::map<std::string, Conversation> _conversations;
    /// Per peer, the delivered mark (MarkDelivered).
    std::map<std::string, std::uint64_t> _delivered;
    std::map<std::string, SendKeys> _sendKeys;
};

} // namespace peerchat
