#include "StoreWrites.h"

#include "SqlStatement.h"
#include "StoreSchema.h"

#include <sqlite3.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

namespace {

// Rows of one kind, one INSERT statement for kRowsPerInsert of them: SQLite
// runs a statement's program, its setup and its end for every execution, and
// a row of the chat path cost 38 % fewer instructions put sixteen at a time
// (docs/PERFORMANCE.md, ninth step). The rows wait until put() has that many
// or flush() is called; the caller flushes before any statement that reads
// or changes the same table, and the ops stay alive until then.
template <typename Row>
class GroupedInsert
{
public:
    static constexpr std::size_t kRowsPerInsert = 16;

    /// sqlPrefix: "INSERT INTO t (columns) VALUES "; columns: how many; bind binds a row's values in order.
    GroupedInsert(sqlite3* db, const std::string& sqlPrefix, std::size_t columns,
                  void (*bind)(SqlStatement&, const Row&))
        : _one(db, sqlPrefix + values(columns, 1)), _many(db, sqlPrefix + values(columns, kRowsPerInsert)), _bind(bind)
    {
        _pending.reserve(kRowsPerInsert);
    }

    void put(const Row& row)
    {
        _pending.push_back(&row);
        if (_pending.size() < kRowsPerInsert) return;
        for (const Row* pending : _pending) _bind(_many, *pending);
        _pending.clear();
        _many.run();
    }

    void flush()
    {
        for (const Row* row : _pending) {
            _bind(_one, *row);
            _one.run();
        }
        _pending.clear();
    }

    /// Forgets the rows waiting (their batch failed before they all went in).
    void discard() { _pending.clear(); }

private:
    static std::string values(std::size_t columns, std::size_t rows)
    {
        std::string row = "(?";
        for (std::size_t i = 1; i < columns; ++i) row += ", ?";
        row += ")";
        std::string all = row;
        for (std::size_t i = 1; i < rows; ++i) all += ", " + row;
        return all;
    }

    SqlStatement _one;
    SqlStatement _many;
    void (*_bind)(SqlStatement&, const Row&);
    std::vector<const Row*> _pending;
};

void bindLine(SqlStatement& statement, const store::PutLine& o)
{
    const std::optional<std::string_view> key = o.key.empty() ? std::nullopt : std::optional<std::string_view>(o.key);
    statement.bind(o.peer).bind(o.id).bind(o.outgoing).bind(o.from).bind(o.sentTime).bind(o.receivedAtMs);
    statement.bind(o.text).bind(o.state).bind(o.verified).bind(key);
}

void bindOutbox(SqlStatement& statement, const store::PutOutbox& o)
{
    statement.bind(o.peer).bind(o.lineId).bind(o.stream).bind(o.seq).bind(o.sentTime).bind(o.text);
}

} // namespace

// The writes of the hot path, prepared once (see SqlStatement). Lines and
// outbox rows go in groups; each flushes before another statement on its table.
struct StoreWrites::Statements
{
    explicit Statements(sqlite3* db)
        : putLine(db, "INSERT INTO line (peer, " + storeschema::kLineColumns + ", send_key) VALUES ", 10, bindLine),
          putConversation(db, "INSERT OR REPLACE INTO conversation (peer, last_id, unread) VALUES (?, ?, ?)"),
          trimUnqueued(db, "DELETE FROM line WHERE peer = ?1 AND id <= ?2 AND NOT " + storeschema::queuedLine("?3")),
          putOutgoingStream(db, "INSERT OR REPLACE INTO outgoing_stream (peer, stream, last_seq) VALUES (?, ?, ?)"),
          putOutbox(db, "INSERT INTO outbox (peer, line_id, stream, seq, sent_time, text) VALUES ", 6, bindOutbox),
          moveOutbox(db, "UPDATE outbox SET stream = ?, seq = ? WHERE peer = ? AND line_id = ?"),
          dropOutbox(db, "DELETE FROM outbox WHERE peer = ? AND stream = ? AND seq <= ?"),
          dropAckedOutbox(db, "DELETE FROM outbox WHERE peer = ? AND line_id <= ? AND stream = ? AND seq <= ?"),
          setLineState(db, "UPDATE line SET state = ? WHERE peer = ? AND id = ?"),
          setLineStates(db, "UPDATE line SET state = ? WHERE peer = ? AND id BETWEEN ? AND ?"),
          putIncomingStream(db,
                            "INSERT OR REPLACE INTO incoming_stream (sender, stream, delivered) VALUES (?, ?, ?)"),
          putKeyPin(db, "INSERT OR REPLACE INTO keys (name, pinned, offered, keyless) VALUES (?, ?, ?, ?)"),
          putIndexKey(db, "INSERT OR REPLACE INTO index_keys (endpoint, key) VALUES (?, ?)"),
          markDelivered(db, "INSERT OR REPLACE INTO delivered (peer, line_id) VALUES (?, ?)"),
          putContact(db, "INSERT OR REPLACE INTO contact (name, relation, blocked, note, since_ms, in_stream, in_seq, "
                         "out_kind, out_seq, out_pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
          putSetting(db, "INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)"),
          putGroup(db, "INSERT OR REPLACE INTO chat_group (id, membership) VALUES (?, ?)"),
          setApplied(db, "UPDATE redo SET applied = ?")
    {
    }

    void start()
    {
        putLine.discard();
        putOutbox.discard();
    }
    void finish()
    {
        putLine.flush();
        putOutbox.flush();
    }

    void apply(const store::PutLine& o) { putLine.put(o); }
    void apply(const store::PutConversation& o) { putConversation.bind(o.peer).bind(o.lastId).bind(o.unread).run(); }
    void apply(const store::TrimLines& o) { apply(store::TrimUnqueued{o.peer, o.upTo, o.upTo}); }
    void apply(const store::TrimUnqueued& o)
    {
        putLine.flush();
        trimUnqueued.bind(o.peer).bind(o.upTo).bind(o.delivered).run();
    }
    void apply(const store::MarkDelivered& o) { markDelivered.bind(o.peer).bind(o.lineId).run(); }
    void apply(const store::PutOutgoingStream& o)
    {
        putOutgoingStream.bind(o.peer).bind(o.stream).bind(o.lastSeq).run();
    }
    void apply(const store::PutOutbox& o) { putOutbox.put(o); }
    void apply(const store::MoveOutbox& o)
    {
        putOutbox.flush();
        moveOutbox.bind(o.stream).bind(o.seq).bind(o.peer).bind(o.lineId).run();
    }
    void apply(const store::DropOutbox& o)
    {
        putOutbox.flush();
        dropOutbox.bind(o.peer).bind(o.stream).bind(o.upTo).run();
    }
    void apply(const store::DropAckedOutbox& o)
    {
        putOutbox.flush();
        dropAckedOutbox.bind(o.peer).bind(o.lastLineId).bind(o.stream).bind(o.upTo).run();
    }
    void apply(const store::SetLineState& o)
    {
        putLine.flush();
        setLineState.bind(o.state).bind(o.peer).bind(o.id).run();
    }
    void apply(const store::SetLineStates& o)
    {
        putLine.flush();
        setLineStates.bind(o.state).bind(o.peer).bind(o.firstId).bind(o.lastId).run();
    }
    void apply(const store::PutIncomingStream& o)
    {
        putIncomingStream.bind(o.sender).bind(o.stream).bind(o.delivered).run();
    }
    void apply(const store::PutKeyPin& o) { putKeyPin.bind(o.name).bind(o.pinned).bind(o.offered).bind(o.keyless).run(); }
    void apply(const store::PutIndexKey& o) { putIndexKey.bind(o.endpoint).bind(o.key).run(); }
    void apply(const store::PutContact& o)
    {
        putContact.bind(o.name).bind(o.relation).bind(o.blocked).bind(o.note).bind(o.sinceMs).bind(o.inStream)
            .bind(o.inSeq).bind(o.outKind).bind(o.outSeq).bind(o.outPending).run();
    }
    void apply(const store::PutSetting& o) { putSetting.bind(o.key).bind(o.value).run(); }
    void apply(const store::PutGroup& o) { putGroup.bind(o.id).bind(o.membership).run(); }

    GroupedInsert<store::PutLine> putLine;
    SqlStatement putConversation;
    SqlStatement trimUnqueued;
    SqlStatement putOutgoingStream;
    GroupedInsert<store::PutOutbox> putOutbox;
    SqlStatement moveOutbox;
    SqlStatement dropOutbox;
    SqlStatement dropAckedOutbox;
    SqlStatement setLineState;
    SqlStatement setLineStates;
    SqlStatement putIncomingStream;
    SqlStatement putKeyPin;
    SqlStatement putIndexKey;
    SqlStatement markDelivered;
    SqlStatement putContact;
    SqlStatement putSetting;
    SqlStatement putGroup;
    SqlStatement setApplied;
};

StoreWrites::StoreWrites(sqlite3* db) : _statements(std::make_unique<Statements>(db))
{
}

StoreWrites::~StoreWrites() = default;

void StoreWrites::start()
{
    _statements->start();
}

void StoreWrites::apply(const store::Op& op)
{
    std::visit([this](const auto& o) { _statements->apply(o); }, op);
}

void StoreWrites::finish()
{
    _statements->finish();
}

void StoreWrites::setApplied(std::uint64_t seq)
{
    _statements->setApplied.bind(seq).run();
}

} // namespace peerchat
