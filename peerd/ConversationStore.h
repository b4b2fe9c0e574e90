#pragma once

#include "ContactRecord.h"
#include "CryptoTypes.h"
#include "LocalProtocol.h"
#include "RedoLog.h"
#include "StoreBatch.h"
#include "StoreChange.h"
#include "WriteBehind.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Data {
class Session;
}

struct sqlite3;

namespace peerchat {

// Thrown by a ConversationStore write that failed because the disk holding the
// database is full; its message says so for a person ("the disk holding PATH
// is full"). Nothing of the write was kept, and the store takes writes again
// as soon as there is room.
POCO_DECLARE_EXCEPTION(, DiskFullException, Poco::IOException)

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

/// The identity keys held for one peer (see KeyPins).
struct KeyPin
{
    /// What became of the pin since the name was presented without a key (a seed or .NET login).
    enum class Keyless
    {
        None,      ///< not presented without a key since the key was pinned
        Offered,   ///< presented without a key, until the user accepts that (or the key comes back)
        Accepted   ///< the user accepted it: a seed user now; the pin stays to compare a later key with
    };

    PublicKey pinned{};               ///< pinned at first sight, or trusted since
    std::optional<PublicKey> offered; ///< the different key indexd presents, until the user trusts it
    Keyless keyless = Keyless::None;
};

/// Every conversation of this identity: per peer, the lines in the order they
/// were stored (ids from 1), at most historyLimit of them (the oldest are
/// dropped, but for lines still queued), and how many incoming lines are
/// unread; the outbox of lines not yet acked (the queued lines themselves:
/// outgoing, pending, stored or failed, past the peer's delivered mark, which
/// an ack moves), with the outgoing stream to each peer; and how far each
/// incoming stream has been delivered; the identity keys pinned for peers
/// and for indexd (read and written through KeyPins); and the contacts
/// (Contacts) and the identity's settings. State only, kept in an
/// SQLite database behind a redo log (WriteBehind): every call that changes
/// something has put the whole change in the redo log before it returns, so
/// it survives a crash of peerd from then on and a crash never keeps half of
/// it; the database takes it within a moment on a thread of its own, and
/// what a crash left in the log goes into the database at the next open.
/// Everything but the lines is cached, so only reading lines (history,
/// search, a repeated send key) waits for the database. A change the redo
/// log cannot take (the disk is full, an I/O error) is refused whole, cached
/// state included, with Poco::IOException (DiskFullException for a full
/// disk); so is every change while the database itself fails, until it takes
/// writes again. Failing writes are logged when they start, when their
/// reason changes and when writes work again, not one by one.
/// An outgoing line may carry the key its client sent it with (LocalProtocol's
/// SendRequest::key), unique in its conversation while the line is kept.
class ConversationStore
{
public:
    /// The schema version this peerd writes (PRAGMA user_version).
    static constexpr int kSchemaVersion = 8;

    /// Opens (creating it, and its directory with mode 0700, when missing;
    /// the file with mode 0600) the database at path, or a private one in
    /// memory for ":memory:", migrates it to kSchemaVersion, applies what its
    /// redo log (path + "-redo" and "-redo2") still holds, and holds it
    /// exclusively until destroyed. Throws Poco::IOException with a message
    /// for a person ("cannot open PATH: ...") when it cannot be opened, is
    /// in use by another process, or was written by a newer peerd.
    ConversationStore(const std::string& path, std::size_t historyLimit);

    /// Sets SQLite up for this process before its first database: no locks
    /// of its own around each call (a store's connection is only ever used
    /// by one thread at a time, under WriteBehind's lock, so they were work
    /// for nothing: a few per cent of a line's writes) and no count of its
    /// memory (a lock on every allocation). The store's constructor calls
    /// it; SQLite ignores it once a database was opened before, and then
    /// keeps locking, which is safe.
    static void configureSqlite();

    /// A store in memory only (":memory:"), for tests.
    explicit ConversationStore(std::size_t historyLimit);

    ~ConversationStore();
    ConversationStore(const ConversationStore&) = delete;
    ConversationStore& operator=(const ConversationStore&) = delete;

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

    /// Stores a line self writes to a peerchat peer, as Pending, with key
    /// unless it is empty, and puts it in the outbox with the next number of
    /// the outgoing stream to peer (the stream gets a random id on first use),
    /// in one step; returns its outbox entry.
    OutboxEntry enqueue(const std::string& peer, const std::string& self, std::string sentTime,
                        std::int64_t receivedAtMs, std::string text, const std::string& key = {});

    /// The line with peer stored with key, as it is now; nullopt when none is
    /// kept (never sent with that key, or dropped past historyLimit).
    std::optional<local::ChatLine> lineWithKey(const std::string& peer, const std::string& key) const;

    /// Every line waiting for an ack: per peer, in stream order. Read from
    /// the database (the store keeps only their ids in memory): for a start
    /// and for the rare moves of the queue, not for every line.
    std::vector<OutboxEntry> outbox() const;
    /// The lines waiting for peer's ack, in stream order, read as outbox() is.
    std::vector<OutboxEntry> outboxTo(const std::string& peer) const;

    /// How many lines to peer wait for an ack.
    std::size_t queuedTo(const std::string& peer) const;

    /// The user trusts peer's new identity key: stores keys as peer's (as
    /// saveKeyPin does) and, since the new key belongs to a new installation
    /// that never saw the outgoing stream to peer, gives peer a new stream and
    /// moves the lines still waiting for it there, in order, numbered from 1,
    /// all in one step (outboxTo() lists them as they are now).
    void trustKey(const std::string& peer, const KeyPin& keys);

    /// peer has its copy of stream up to seq: those lines leave the outbox and
    /// take state (Delivered; Sent for plain talk to a seed or .NET client,
    /// which cannot ack). Returns the ids of the lines that changed.
    std::vector<std::uint64_t> acknowledge(const std::string& peer, const std::string& stream, std::uint64_t seq,
                                           local::LineState state = local::LineState::Delivered);

    /// Sets the state of line id with peer; false when there is no such line.
    bool setState(const std::string& peer, std::uint64_t id, local::LineState state);

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

    /// The lines kept with peer, oldest first.
    std::vector<local::ChatLine> history(const std::string& peer) const;

    /// Up to limit lines with peer whose text contains text (case-sensitive,
    /// bytewise), the newest ones, oldest first.
    std::vector<local::ChatLine> search(const std::string& peer, const std::string& text, std::size_t limit) const;

    /// Every peer a peerchat stream came from (its lines delivered or passed over), by name.
    std::set<std::string> senders() const;

    /// How many incoming lines from peer are unread.
    std::uint32_t unread(const std::string& peer) const;

    /// Every non-zero unread count, by peer.
    std::map<std::string, std::uint32_t> unreadCounts() const;

    /// The user has seen the conversation with peer: its unread count becomes 0.
    void markRead(const std::string& peer);

    /// Every peer's pinned (and offered) identity key, by name, as stored.
    std::map<std::string, KeyPin> keyPins() const;

    /// Stores keys as name's, replacing what was stored.
    void saveKeyPin(const std::string& name, const KeyPin& keys);

    /// indexd's pinned key per index endpoint, as stored.
    std::map<std::string, PublicKey> indexKeys() const;

    /// Stores key as the pin for indexEndpoint, replacing what was stored.
    void saveIndexKey(const std::string& indexEndpoint, const PublicKey& key);

    /// Every user peerd keeps a contact row for, by name, as stored.
    std::map<std::string, ContactRecord> contacts() const;

    /// Stores contact as name's row, replacing what was stored.
    void saveContact(const std::string& name, const ContactRecord& contact);

    /// The identity's settings, by key, as stored.
    std::map<std::string, std::string> settings() const;

    /// Stores value as the setting key, replacing what was stored.
    void saveSetting(const std::string& key, const std::string& value);
    /// Stores each of settings (key, value) the same way, all or none.
    void saveSettings(const std::vector<std::pair<std::string, std::string>>& settings);

    /// Returns once every change so far is in the database; throws what the
    /// database fails with (Poco::IOException, DiskFullException).
    void flush();

    /// Lets the database grow to at most pages pages (PRAGMA max_page_count):
    /// past that a write fails as on a full disk. A full disk without one, for tests.
    void limitPages(std::uint64_t pages);

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
    struct Statements;

    void open();
    void migrate();
    std::uint64_t replay(std::unique_ptr<RedoLog>& log);
    /// Turns the rows of the outbox table of peerds before schema 7 into queued lines.
    void adoptOutbox();
    /// The queued lines as the database holds them, numbered in their streams,
    /// those to peer only unless it is empty (no name is); throws
    /// Poco::DataFormatException when they cannot be numbered (a damaged database).
    std::vector<OutboxEntry> readOutbox(const std::string& peer) const;
    void load();
    /// Runs write in one transaction and commits it. A failure rolls back
    /// whatever SQLite did not roll back itself and throws DiskFullException
    /// when the disk is full, else rethrows what failed.
    template <typename Write>
    void transact(Write&& write);
    /// Runs sql, throwing Poco::Data::SQLite's exception for SQLite's error.
    void execute(const char* sql);
    /// Writes batch to the database in one transaction (WriteBehind::Database::apply).
    /// A failure is noted (noteFailure) and thrown as DiskFullException when
    /// the disk is full, else as Poco::IOException with the reason.
    void apply(const WriteBehind::Batch& batch);
    void checkpoint();
    /// Puts change in the redo log; throws, with nothing kept, DiskFullException
    /// when the disk is full, else Poco::IOException saying what could not be
    /// done (what() says it, asked only then: a line is stored far more often
    /// than a message is needed) and why.
    void record(const std::function<std::string()>& what, const StoreChange& change);
    /// Rolls back the open transaction, if any; never throws.
    void rollBack() noexcept;
    /// True when failure, just thrown by SQLite, means the disk is full.
    bool diskFull(const Poco::Exception& failure) const;
    /// Why opening failed, for a person, when the disk is full.
    std::string cannotOpenFull() const;
    /// Counts a failed write; logs it when writes start failing, or fail for
    /// another reason than the one logged last. Called from either thread.
    void noteFailure(const std::string& reason, bool full);
    /// Logs that writes work again after some failed.
    void noteSuccess();
    /// line with the next id of its conversation (with key unless it is
    /// empty, which must not be in use) and the conversation's new counters.
    StoredLine newLine(local::ChatLine line, bool unread, const std::string& key = {}) const;
    /// The insertion of stored, the drop of what falls past historyLimit and
    /// the conversation's new counters; its views point into stored.
    StoreChange lineChange(const StoredLine& stored) const;
    /// Caches what newLine() returned, once its change is recorded.
    void keep(const StoredLine& stored);
    /// True when line id with peer is kept (given out and not dropped past historyLimit).
    bool lineKept(const std::string& peer, std::uint64_t id) const;
    /// The newest line to peer an ack took out of the outbox (0: none).
    std::uint64_t deliveredMark(const std::string& peer) const;
    static store::PutKeyPin pinChange(const std::string& name, const KeyPin& keys);

    std::string _path;
    std::size_t _historyLimit;
    std::unique_ptr<Poco::Data::Session> _session;
    sqlite3* _db = nullptr;  ///< _session's connection, for what Poco does not pass on
    // What the database holds, but the lines, cached for the wire's frequent
    // reads; changed only after the transaction that writes it has committed.
    std::map<std::string, Conversation> _conversations;
    /// Outgoing stream per peer: its id and the last seq given out.
    std::map<std::string, std::pair<std::string, std::uint64_t>> _outgoingStreams;
    /// Per peer, the ids of the lines queued, oldest first: its outgoing
    /// lines, pending, stored or failed, past its delivered mark, which are
    /// the last of its outgoing stream.
    std::map<std::string, std::deque<std::uint64_t>> _queued;
    /// Per peer, the delivered mark (MarkDelivered).
    std::map<std::string, std::uint64_t> _delivered;
    /// Delivered position per (sender, stream).
    std::map<std::pair<std::string, std::string>, std::uint64_t> _incomingStreams;
    std::map<std::string, SendKeys> _sendKeys;
    std::mutex _noteMutex;            ///< guards the two that follow
    std::uint64_t _failedWrites = 0;  ///< writes refused since the last that worked
    std::string _loggedFailure;       ///< the reason of the last failed write logged
    Poco::Logger& _logger;
    std::unique_ptr<Statements> _statements;
    /// The batch the database is given, and the record decoded last: kept
    /// with their room from one batch to the next (used with the database held).
    StoreBatch _folded;
    StoreChange _decoded;
    /// The next change's record is encoded here (a buffer WriteBehind handed back).
    std::string _encoded;
    /// Last: it goes first, applying what is queued with everything above.
    std::unique_ptr<WriteBehind> _writer;
};

} // namespace peerchat
