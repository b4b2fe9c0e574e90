#pragma once

#include "ConversationId.h"
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

/// The lines of every conversation of this identity (ConversationId: a peer
/// or a group): per conversation, the lines in
/// the order they were stored (ids from 1), at most historyLimit of them
/// (the oldest are dropped, but for lines still queued), how many incoming
/// lines are unread, and the delivered mark: the newest line an ack took
/// out of the outbox (OutboxStore), past which an outgoing line that is
/// pending, stored or failed is still queued. An outgoing line may
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

    /// Stores a line peer wrote to us in the direct chat with peer and counts
    /// it unread; returns it with its id. verified is false for a line from
    /// plain seed talk, whose sender nothing proves.
    local::ChatLine addIncoming(const std::string& peer, std::string sentTime, std::int64_t receivedAtMs,
                                std::string text, bool verified);

    /// Stores a line this identity (self) wrote that needs no ack (to a seed
    /// client: state Sent), with key unless it is empty; returns it with its id.
    local::ChatLine addOutgoing(const ConversationId& conversation, const std::string& self, std::string sentTime,
                                std::int64_t receivedAtMs, std::string text, const std::string& key = {});

    /// Stores line (its id is set to the next of its conversation's; unread:
    /// counted unread; with key unless it is empty) together with with, the
    /// changes of another store that go with it, in one step (what says what
    /// it is, for an error); returns the line with its id. The stores that
    /// number lines in streams (OutboxStore, IncomingStreams) store theirs here.
    local::ChatLine add(local::ChatLine line, bool unread, const std::string& key,
                        std::initializer_list<store::Op> with, const std::function<std::string()>& what);

    /// The line of conversation stored with key, as it is now; nullopt when
    /// none is kept (never sent with that key, or dropped past historyLimit).
    std::optional<local::ChatLine> lineWithKey(const ConversationId& conversation, const std::string& key) const;

    /// Sets the state of line id of conversation; false when there is no such line.
    bool setState(const ConversationId& conversation, std::uint64_t id, local::LineState state);

    /// The lines kept of conversation, oldest first.
    std::vector<local::ChatLine> history(const ConversationId& conversation) const;

    /// Up to limit lines of conversation whose text contains text
    /// (case-sensitive, bytewise), the newest ones, oldest first.
    std::vector<local::ChatLine> search(const ConversationId& conversation, const std::string& text,
                                        std::size_t limit) const;

    /// How many incoming lines of conversation are unread.
    std::uint32_t unread(const ConversationId& conversation) const;

    /// Every non-zero unread count, by conversation.
    std::map<ConversationId, std::uint32_t> unreadCounts() const;

    /// The user has seen conversation: its unread count becomes 0.
    void markRead(const ConversationId& conversation);

    /// The newest line of conversation an ack took out of the outbox (0: none).
    std::uint64_t deliveredMark(const ConversationId& conversation) const;

    /// Moves the delivered mark of conversation to lineId, together with
    /// with (another store's changes), in one step.
    void markDelivered(const ConversationId& conversation, std::uint64_t lineId, StoreChange with,
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
        std::string conversationKey;  ///< line.conversation.key(), for the change's views
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
    /// True when line id of conversation is kept (given out and not dropped past historyLimit).
    bool lineKept(const ConversationId& conversation, std::uint64_t id) const;
    /// The conversation a key in the database names; throws
    /// Poco::DataFormatException for one no peerd writes.
    static ConversationId conversationOf(const std::string& key);

    StoreDatabase& _database;
    std::size_t _historyLimit;
    // Changed only once the change that writes it is recorded.
    std::map<ConversationId, Conversation> _conversations;
    /// Per conversation, the delivered mark (MarkDelivered).
    std::map<ConversationId, std::uint64_t> _delivered;
    std::map<ConversationId, SendKeys> _sendKeys;
};

} // namespace peerchat
