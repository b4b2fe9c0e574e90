#include "ConversationStore.h"

#include "Base64.h"
#include "DataPath.h"
#include "SqlStatement.h"

#include <Poco/Data/DataException.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <Poco/Nullable.h>

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <random>
#include <unistd.h>

namespace peerchat {

POCO_IMPLEMENT_EXCEPTION(DiskFullException, Poco::IOException, "Disk full")

using namespace Poco::Data::Keywords;

namespace {

const std::string kInMemory = ":memory:";

// The columns of a line as PutLine writes them.
const std::string kLineColumns = "id, outgoing, sender, sent_time, received_at_ms, text, state, verified";

// The states of a line still queued (with an id past its conversation's
// delivered mark), as an SQL list: "('pending', ...)".
const std::string& queuedStates()
{
    static const std::string list = [] {
        using local::LineState;
        std::string text;
        for (const LineState state : {LineState::Pending, LineState::Stored, LineState::Failed})
            text += (text.empty() ? "('" : ", '") + std::string(local::LocalProtocol::lineStateName(state)) + "'";
        return text + ")";
    }();
    return list;
}

// The delivered mark of the line table's row's peer, in SQL.
const std::string kMarkOfLine = "COALESCE((SELECT line_id FROM delivered d WHERE d.peer = line.peer), 0)";

// In SQL, whether a row of the line table is a queued line: outgoing, in a
// queued state, with an id past mark (an SQL expression of the mark).
std::string queuedLine(const std::string& mark)
{
    return "(outgoing = 1 AND state IN " + queuedStates() + " AND id > " + mark + ")";
}

// The columns readLines() extracts, in its order: a queued line the
// delivered mark has passed reads as delivered.
const std::string& lineSelect()
{
    static const std::string columns =
        "id, outgoing, sender, sent_time, received_at_ms, text, CASE WHEN outgoing = 1 AND state IN " +
        queuedStates() + " AND id <= " + kMarkOfLine + " THEN '" +
        std::string(local::LocalProtocol::lineStateName(local::LineState::Delivered)) + "' ELSE state END, verified";
    return columns;
}

// migrations()[v] moves a database from schema version v to v + 1. A step
// that has shipped never changes; a new schema is a new step at the end.
const std::vector<std::vector<std::string>>& migrations()
{
    static const std::vector<std::vector<std::string>> steps{
        {
            // last_id is the newest id given out, so ids go on after old lines are dropped.
            "CREATE TABLE conversation (peer TEXT PRIMARY KEY, last_id INTEGER NOT NULL, unread INTEGER NOT NULL)",
            "CREATE TABLE line (peer TEXT NOT NULL, id INTEGER NOT NULL, outgoing INTEGER NOT NULL, "
            "sender TEXT NOT NULL, sent_time TEXT NOT NULL, received_at_ms INTEGER NOT NULL, text TEXT NOT NULL, "
            "state TEXT NOT NULL, PRIMARY KEY (peer, id)) WITHOUT ROWID",
            "CREATE TABLE outgoing_stream (peer TEXT PRIMARY KEY, stream TEXT NOT NULL, last_seq INTEGER NOT NULL)",
            // position keeps the outbox in the order lines were queued.
            "CREATE TABLE outbox (position INTEGER PRIMARY KEY, peer TEXT NOT NULL, line_id INTEGER NOT NULL, "
            "stream TEXT NOT NULL, seq INTEGER NOT NULL, sent_time TEXT NOT NULL, text TEXT NOT NULL)",
            "CREATE TABLE incoming_stream (sender TEXT NOT NULL, stream TEXT NOT NULL, delivered INTEGER NOT NULL, "
            "PRIMARY KEY (sender, stream)) WITHOUT ROWID",
        },
        {
            // Lines stored before peerchat/2 came over the plain protocol, where nothing proved the sender.
            "ALTER TABLE line ADD COLUMN verified INTEGER NOT NULL DEFAULT 0",
            // Keys as base64url text; offered is NULL unless indexd presents another key than the pinned one.
            "CREATE TABLE keys (name TEXT PRIMARY KEY, pinned TEXT NOT NULL, offered TEXT)",
            "CREATE TABLE index_keys (endpoint TEXT PRIMARY KEY, key TEXT NOT NULL)",
        },
        {
            // The key a client sent a line with (NULL: none), so that a send repeated
            // after a crash finds the line the first one stored.
            "ALTER TABLE line ADD COLUMN send_key TEXT",
            "CREATE UNIQUE INDEX line_send_key ON line (peer, send_key) WHERE send_key IS NOT NULL",
        },
        {
            // 'offered' while a pinned name comes without a key, 'accepted' once
            // the user took it as a seed user; NULL otherwise (every pin so far).
            "ALTER TABLE keys ADD COLUMN keyless TEXT",
        },
        {
            // The seq of the last redo log record in the database (RedoLog, WriteBehind).
            "CREATE TABLE redo (applied INTEGER NOT NULL)",
            "INSERT INTO redo (applied) VALUES (0)",
            // An ack takes lines out by stream and seq: without it, each scanned the whole outbox.
            "CREATE INDEX outbox_stream ON outbox (peer, stream, seq)",
        },
        {
            // The outbox keyed by its lines, in one b-tree: a rowid table and its
            // index made every queued line two inserts and every acked one two
            // deletes (docs/PERFORMANCE.md, ninth step). An ack names the
            // lines it takes out by id (DropAckedOutbox); a peer's lines were
            // queued in the order of their ids. A line is queued once, so no
            // row of the old table is left out.
            "CREATE TABLE outbox_by_line (peer TEXT NOT NULL, line_id INTEGER NOT NULL, stream TEXT NOT NULL, "
            "seq INTEGER NOT NULL, sent_time TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (peer, line_id)) "
            "WITHOUT ROWID",
            "INSERT OR IGNORE INTO outbox_by_line SELECT peer, line_id, stream, seq, sent_time, text FROM outbox "
            "ORDER BY position",
            "DROP TABLE outbox",
            "ALTER TABLE outbox_by_line RENAME TO outbox",
        },
        {
            // Queued lines are the lines themselves (outgoing, pending, stored
            // or failed, with ids past their conversation's mark here), and an
            // ack moves the mark: a line cost alice's database one row, not
            // four (its outbox row in and out, its state changed;
            // docs/PERFORMANCE.md, eleventh step). A mark at the newest line
            // leaves no line of the old states queued; the outbox table's
            // rows, and those an old peerd's redo log adds, become queued
            // lines once the log is applied (ConversationStore::adoptOutbox).
            "CREATE TABLE delivered (peer TEXT PRIMARY KEY, line_id INTEGER NOT NULL) WITHOUT ROWID",
            "INSERT INTO delivered (peer, line_id) SELECT peer, last_id FROM conversation",
        },
        {
            // Contacts (ContactRecord) and the identity's settings. Whoever
            // this identity talked with under a pinned key before contacts
            // existed was a contact in all but name, and both sides make the
            // same step: they become contacts, so that nobody who talked
            // before loses sight of the other.
            "CREATE TABLE contact (name TEXT PRIMARY KEY, relation TEXT NOT NULL, blocked INTEGER NOT NULL, "
            "note TEXT NOT NULL, since_ms INTEGER NOT NULL, in_stream TEXT NOT NULL, in_seq INTEGER NOT NULL, "
            "out_kind TEXT NOT NULL, out_seq INTEGER NOT NULL, out_pending INTEGER NOT NULL) WITHOUT ROWID",
            "CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
            "INSERT INTO contact SELECT name, 'contact', 0, '', 0, '', 0, '', 0, 0 FROM keys "
            "WHERE keyless IS NULL AND name IN (SELECT peer FROM conversation)",
        },
    };
    return steps;
}

// 60 random bits as 15 hex digits (the wire takes up to 16): a string of at
// most 15 characters is kept inside std::string itself, and a queued line's
// stream is copied with it several times on its way, where 16 digits cost a
// heap allocation each time.
std::string randomStreamId()
{
    std::random_device device;
    const std::uint64_t value = ((static_cast<std::uint64_t>(device()) << 32) ^ device()) >> 4;
    char text[16];
    std::snprintf(text, sizeof text, "%015llx", static_cast<unsigned long long>(value));
    return text;
}

// The state a stored name stands for; a name this peerd does not know reads
// as a line without state does on the local socket: by its direction.
local::LineState stateNamed(const std::string& name, bool outgoing)
{
    using local::LineState;
    for (const LineState state : {LineState::Received, LineState::Sent, LineState::Pending, LineState::Stored,
                                  LineState::Delivered, LineState::Failed}) {
        if (local::LocalProtocol::lineStateName(state) == name) return state;
    }
    return outgoing ? LineState::Sent : LineState::Received;
}

// SQLite keeps integers signed; every count and id here stays below 2^63.
Poco::Int64 toColumn(std::uint64_t value)
{
    return static_cast<Poco::Int64>(value);
}

std::uint64_t fromColumn(Poco::Int64 value)
{
    return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}

// Poco repeats SQLite's own words ("database is locked: database is locked"): once is enough.
std::string reasonOf(const Poco::Exception& e)
{
    const std::string& message = e.message();
    if (message.empty()) return e.displayText();
    const std::size_t half = (message.size() - 2) / 2;
    if (message.size() % 2 == 0 && message.compare(half, 2, ": ") == 0 &&
        message.compare(0, half, message, half + 2, half) == 0)
        return message.substr(0, half);
    return message;
}

// Makes the database's directory (mode 0700) and, when missing, the file itself
// (mode 0600): the journal files SQLite adds beside it take the file's mode.
void prepareFile(const std::string& path)
{
    DataPath::ensureDirectory(path, "database");
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw Poco::IOException(std::string(std::strerror(errno)) + "; pass another --database");
    ::close(fd);
}

// Runs a SELECT of kLineColumns and returns its rows as lines with peer.
std::vector<local::ChatLine> readLines(Poco::Data::Statement& select, const std::string& peer)
{
    std::vector<Poco::Int64> ids;
    std::vector<int> outgoing;
    std::vector<std::string> senders;
    std::vector<std::string> sentTimes;
    std::vector<Poco::Int64> receivedAt;
    std::vector<std::string> texts;
    std::vector<std::string> states;
    std::vector<int> verified;
    select, into(ids), into(outgoing), into(senders), into(sentTimes), into(receivedAt), into(texts), into(states),
        into(verified);
    select.execute();
    std::vector<local::ChatLine> lines;
    lines.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        lines.push_back(local::ChatLine{fromColumn(ids[i]), peer, outgoing[i] != 0, senders[i], sentTimes[i],
                                        receivedAt[i], texts[i], stateNamed(states[i], outgoing[i] != 0),
                                        verified[i] != 0});
    }
    return lines;
}

// The key a keys or index_keys column holds; throws Poco::DataFormatException
// naming what when the text is not a base64url key of 32 bytes.
PublicKey keyColumn(const std::string& text, const std::string& what)
{
    PublicKey key{};
    if (!Base64::decodeInto(text, key)) throw Poco::DataFormatException("the stored key of " + what + " is damaged");
    return key;
}

std::optional<std::string> keylessText(KeyPin::Keyless keyless)
{
    switch (keyless) {
    case KeyPin::Keyless::Offered: return std::string("offered");
    case KeyPin::Keyless::Accepted: return std::string("accepted");
    case KeyPin::Keyless::None: break;
    }
    return std::nullopt;
}

// The keys table's keyless column; throws Poco::DataFormatException naming
// what for a value no peerd writes.
KeyPin::Keyless keylessColumn(const Poco::Nullable<std::string>& text, const std::string& what)
{
    if (text.isNull()) return KeyPin::Keyless::None;
    for (const KeyPin::Keyless keyless : {KeyPin::Keyless::Offered, KeyPin::Keyless::Accepted}) {
        if (*keylessText(keyless) == text.value()) return keyless;
    }
    throw Poco::DataFormatException("the stored pin of " + what + " is damaged");
}

} // namespace

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

// The writes of the hot path, prepared once (see SqlStatement). Lines and
// outbox rows go in groups; each flushes before another statement on its table.
struct ConversationStore::Statements
{
    explicit Statements(sqlite3* db)
        : putLine(db, "INSERT INTO line (peer, " + kLineColumns + ", send_key) VALUES ", 10, bindLine),
          putConversation(db, "INSERT OR REPLACE INTO conversation (peer, last_id, unread) VALUES (?, ?, ?)"),
          trimUnqueued(db, "DELETE FROM line WHERE peer = ?1 AND id <= ?2 AND NOT " + queuedLine("?3")),
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
          setApplied(db, "UPDATE redo SET applied = ?")
    {
    }

    /// Before a batch: nothing of an earlier one that failed waits.
    void start()
    {
        putLine.discard();
        putOutbox.discard();
    }
    /// After a batch's ops: the rows still waiting go in.
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
    SqlStatement setApplied;
};

ConversationStore::ConversationStore(const std::string& path, std::size_t historyLimit)
    : _path(path), _historyLimit(historyLimit), _logger(Poco::Logger::get("peerd.store"))
{
    try {
        open();
        migrate();
        _statements = std::make_unique<Statements>(_db);
        std::unique_ptr<RedoLog> log;
        const std::uint64_t nextSeq = replay(log);
        adoptOutbox();
        load();
        _writer = std::make_unique<WriteBehind>(
            std::move(log), nextSeq,
            WriteBehind::Database{[this](const WriteBehind::Batch& batch) { apply(batch); },
                                  [this] { checkpoint(); }});
    } catch (const Poco::Data::SQLite::DBLockedException&) {
        throw Poco::IOException("cannot open " + _path +
                                ": another peerd is using it; stop that peerd or pass another --database");
    } catch (const DiskFullException&) {
        throw Poco::IOException(cannotOpenFull());
    } catch (const Poco::Data::DataException& e) {
        if (diskFull(e)) throw Poco::IOException(cannotOpenFull());
        throw Poco::IOException("cannot open " + _path + ": " + reasonOf(e) +
                                "; move it aside or pass another --database");
    } catch (const Poco::Exception& e) {
        throw Poco::IOException("cannot open " + _path + ": " + e.message());
    }
}

ConversationStore::ConversationStore(std::size_t historyLimit) : ConversationStore(kInMemory, historyLimit)
{
}

// The writer goes first: it applies what is queued with the statements and session that follow it.
ConversationStore::~ConversationStore()
{
    _writer.reset();
}

void ConversationStore::configureSqlite()
{
    [[maybe_unused]] static const bool configured = (sqlite3_config(SQLITE_CONFIG_MULTITHREAD),
                                                     sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0), true);
}

void ConversationStore::open()
{
    configureSqlite();
    [[maybe_unused]] static const bool registered = (Poco::Data::SQLite::Connector::registerConnector(), true);
    if (_path != kInMemory) prepareFile(_path);
    _session = std::make_unique<Poco::Data::Session>(Poco::Data::SQLite::Connector::KEY, _path);
    _db = Poco::Data::SQLite::Utility::dbHandle(*_session);
    // Fail at once, not after a wait, when another process holds the database.
    _session->setConnectionTimeout(0);
    std::string mode;
    // Held until the session closes: a second peerd on the same file is refused
    // rather than let the two give out the same line ids.
    *_session << "PRAGMA locking_mode = EXCLUSIVE", into(mode), now;
    // The redo log keeps every change from the moment the store's call returns
    // (it survives a crash of peerd; a power cut may lose the last ones); the
    // database follows within a moment, and with the write-ahead log and
    // synchronous NORMAL is synced at each checkpoint, before the log is emptied.
    *_session << "PRAGMA journal_mode = WAL", into(mode), now;
    *_session << "PRAGMA synchronous = NORMAL", now;
    // A statement's journal (the old pages it changed, kept until it ends) in
    // memory: by default one past 64 KiB goes to a file, and under the
    // exclusive lock every later statement's journal then went there too.
    *_session << "PRAGMA temp_store = MEMORY", now;
}

void ConversationStore::migrate()
{
    int version = 0;
    *_session << "PRAGMA user_version", into(version), now;
    if (version > kSchemaVersion) {
        throw Poco::IOException("it was written by a newer peerd (schema version " + std::to_string(version) +
                                "; this peerd knows up to " + std::to_string(kSchemaVersion) +
                                "); run that newer peerd, or pass another --database");
    }
    for (; version < kSchemaVersion; ++version) {
        transact([&] {
            for (const std::string& statement : migrations().at(static_cast<std::size_t>(version))) {
                *_session << statement, now;
            }
            *_session << "PRAGMA user_version = " + std::to_string(version + 1), now;
        });
    }
}

// Applies what the redo log holds beyond the database (a crash came before
// the writer took it), empties the log, and hands it back in log (null for a
// database in memory); returns the seq for the next change.
std::uint64_t ConversationStore::replay(std::unique_ptr<RedoLog>& log)
{
    if (_path == kInMemory) return 1;
    log = std::make_unique<RedoLog>(_path + "-redo");
    Poco::Int64 applied = 0;
    *_session << "SELECT applied FROM redo", into(applied), now;
    const std::vector<RedoLog::Record> records = log->takeRecovered();
    // The changes after the last one in the database, one after another: a
    // power cut may have kept a later change and lost one before it, which
    // would leave a hole in the database.
    WriteBehind::Batch pending;
    std::uint64_t last = fromColumn(applied);
    std::size_t afterHole = 0;
    for (const RedoLog::Record& record : records) {
        if (record.seq <= fromColumn(applied)) continue;
        if (record.seq == last + 1 && afterHole == 0) {
            pending.push_back(&record);
        } else {
            ++afterHole;
        }
        last = std::max(last, record.seq);
    }
    if (!pending.empty()) {
        apply(pending);
        _logger.information(std::to_string(pending.size()) + " changes kept in " + log->path() +
                            " are in the database now");
    }
    if (afterHole > 0) {
        _logger.warning(std::to_string(afterHole) + " changes in " + log->path() +
                        " were left out: changes before them were lost (a power cut?)");
    }
    checkpoint();
    log->clear();
    // Past every number in the log, so that no new change takes one a change left out had.
    return last + 1;
}

void ConversationStore::load()
{
    // A smaller historyLimit than the database was kept with applies at once (to lines no longer queued).
    *_session << "DELETE FROM line WHERE id <= (SELECT last_id FROM conversation c WHERE c.peer = line.peer) - ? "
                 "AND NOT " + queuedLine(kMarkOfLine),
        bind(toColumn(_historyLimit)), now;
    {
        std::vector<std::string> peers;
        std::vector<Poco::Int64> lastIds;
        std::vector<Poco::Int64> unread;
        *_session << "SELECT peer, last_id, unread FROM conversation", into(peers), into(lastIds), into(unread), now;
        for (std::size_t i = 0; i < peers.size(); ++i) {
            const Poco::Int64 count =
                std::clamp<Poco::Int64>(unread[i], 0, std::numeric_limits<std::uint32_t>::max());
            _conversations[peers[i]] = Conversation{fromColumn(lastIds[i]), static_cast<std::uint32_t>(count)};
        }
    }
    {
        std::vector<std::string> peers;
        std::vector<std::string> streams;
        std::vector<Poco::Int64> lastSeqs;
        *_session << "SELECT peer, stream, last_seq FROM outgoing_stream", into(peers), into(streams), into(lastSeqs),
            now;
        for (std::size_t i = 0; i < peers.size(); ++i)
            _outgoingStreams[peers[i]] = {streams[i], fromColumn(lastSeqs[i])};
    }
    {
        std::vector<std::string> peers;
        std::vector<Poco::Int64> lineIds;
        *_session << "SELECT peer, line_id FROM delivered", into(peers), into(lineIds), now;
        for (std::size_t i = 0; i < peers.size(); ++i) _delivered[peers[i]] = fromColumn(lineIds[i]);
    }
    for (const OutboxEntry& entry : readOutbox({})) _queued[entry.peer].push_back(entry.lineId);
    {
        std::vector<std::string> senders;
        std::vector<std::string> streams;
        std::vector<Poco::Int64> delivered;
        *_session << "SELECT sender, stream, delivered FROM incoming_stream", into(senders), into(streams),
            into(delivered), now;
        for (std::size_t i = 0; i < senders.size(); ++i)
            _incomingStreams[{senders[i], streams[i]}] = fromColumn(delivered[i]);
    }
    {
        std::vector<std::string> peers;
        std::vector<Poco::Int64> ids;
        std::vector<std::string> keys;
        *_session << "SELECT peer, id, send_key FROM line WHERE send_key IS NOT NULL", into(peers), into(ids),
            into(keys), now;
        for (std::size_t i = 0; i < peers.size(); ++i) {
            SendKeys& kept = _sendKeys[peers[i]];
            kept.byKey[keys[i]] = fromColumn(ids[i]);
            kept.byId[fromColumn(ids[i])] = keys[i];
        }
    }
}

std::vector<OutboxEntry> ConversationStore::readOutbox(const std::string& peer) const
{
    std::vector<std::string> peers;
    std::vector<Poco::Int64> lineIds;
    std::vector<std::string> sentTimes;
    std::vector<std::string> texts;
    Poco::Data::Statement select(*_session);
    select << "SELECT peer, id, sent_time, text FROM line WHERE " + queuedLine(kMarkOfLine) +
                  (peer.empty() ? std::string() : " AND peer = ?") + " ORDER BY peer, id",
        into(peers), into(lineIds), into(sentTimes), into(texts);
    if (!peer.empty()) select, bind(peer);
    select.execute();
    std::vector<OutboxEntry> entries;
    entries.reserve(peers.size());
    // A peer's queued lines are the last of its stream, in the order of their ids.
    for (std::size_t first = 0; first < peers.size();) {
        std::size_t end = first;
        while (end < peers.size() && peers[end] == peers[first]) ++end;
        const auto stream = _outgoingStreams.find(peers[first]);
        if (stream == _outgoingStreams.end() || stream->second.second < end - first) {
            throw Poco::DataFormatException("the lines queued to " + peers[first] + " do not match their stream");
        }
        std::uint64_t seq = stream->second.second - (end - first);
        for (std::size_t i = first; i < end; ++i) {
            entries.push_back(OutboxEntry{peers[i], fromColumn(lineIds[i]), stream->second.first, ++seq,
                                          std::move(sentTimes[i]), std::move(texts[i])});
        }
        first = end;
    }
    return entries;
}

// The outbox table is written only by peerds before schema 7, and by their
// redo logs applied since: its rows become queued lines. A line the history
// limit had dropped while it waited comes back, with the sender of the
// store's other outgoing lines and no time of its own. A peer's rows end its
// stream and follow each other by seq, so the lines past the new mark
// number as they did; rows that do not (a damaged table) go to a new
// stream, which the peer takes from 1: nothing is lost, and a line the peer
// had may come twice.
void ConversationStore::adoptOutbox()
{
    int rows = 0;
    *_session << "SELECT count(*) FROM outbox", into(rows), now;
    if (rows == 0) return;
    std::vector<std::string> peers;
    std::vector<int> inOrder;
    *_session << "SELECT o.peer, COALESCE(count(DISTINCT o.stream) = 1 AND max(o.seq) - min(o.seq) + 1 = count(*) "
                 "AND max(o.seq) = s.last_seq AND min(o.stream) = s.stream, 0) "
                 "FROM outbox o LEFT JOIN outgoing_stream s ON s.peer = o.peer GROUP BY o.peer",
        into(peers), into(inOrder), now;
    transact([&] {
        *_session << "INSERT OR IGNORE INTO line (peer, id, outgoing, sender, sent_time, received_at_ms, text, state) "
                     "SELECT peer, line_id, 1, COALESCE((SELECT sender FROM line WHERE outgoing = 1 LIMIT 1), ''), "
                     "sent_time, 0, text, '" +
                         std::string(local::LocalProtocol::lineStateName(local::LineState::Pending)) +
                         "' FROM outbox",
            now;
        *_session << "INSERT OR REPLACE INTO delivered (peer, line_id) SELECT peer, min(line_id) - 1 FROM outbox "
                     "GROUP BY peer",
            now;
        for (std::size_t i = 0; i < peers.size(); ++i) {
            if (inOrder[i] != 0) continue;
            _logger.warning("the lines queued to " + peers[i] + " in " + _path +
                            " were out of order; they go again in a new stream");
            Poco::Int64 count = 0;
            *_session << "SELECT count(*) FROM outbox WHERE peer = ?", bind(peers[i]), into(count), now;
            *_session << "INSERT OR REPLACE INTO outgoing_stream (peer, stream, last_seq) VALUES (?, ?, ?)",
                bind(peers[i]), bind(randomStreamId()), bind(count), now;
        }
        *_session << "DELETE FROM outbox", now;
    });
}

// Poco::Data::Transaction is not used: when COMMIT fails after SQLite has
// rolled back by itself (as it does on a full disk), its session keeps
// believing a transaction is open and refuses every later one ("Transaction
// in progress") until the program restarts.
template <typename Write>
void ConversationStore::transact(Write&& write)
{
    rollBack();
    try {
        execute("BEGIN");
        write();
        execute("COMMIT");
    } catch (const Poco::Exception& e) {
        // Asked before the rollback, which may reset what SQLite knows of the failure.
        const bool full = diskFull(e);
        rollBack();
        if (full) throw DiskFullException("the disk holding " + _path + " is full");
        throw;
    } catch (...) {
        rollBack();
        throw;
    }
}

void ConversationStore::apply(const WriteBehind::Batch& batch)
{
    try {
        transact([&] {
            _statements->start();
            _folded.clear();
            for (const RedoLog::Record* record : batch) {
                const Parsed<std::size_t> read = StoreChangeCodec::decode(record->payload, _decoded);
                if (!read) {
                    throw Poco::DataFormatException("change " + std::to_string(record->seq) +
                                                    " in the redo log is damaged: " + read.error());
                }
                _folded.add(_decoded);
            }
            // Grouped rows refer to the ops: they go in before drain() lets them go.
            _folded.drain(
                [this](const store::Op& op) { std::visit([this](const auto& o) { _statements->apply(o); }, op); },
                [this] { _statements->finish(); });
            _statements->setApplied.bind(batch.back()->seq).run();
        });
    } catch (const DiskFullException& e) {
        _logger.debug("cannot write to " + _path + ": " + e.message());
        noteFailure(e.message(), true);
        throw;
    } catch (const Poco::Exception& e) {
        const std::string reason = reasonOf(e);
        _logger.debug("cannot write to " + _path + ": " + reason);
        noteFailure(reason, false);
        throw Poco::IOException(reason);
    }
    // "Writes work again" waits for a change to be taken (record()): the
    // database may take its queue while the log still has no room.
}

void ConversationStore::checkpoint()
{
    const int rc = sqlite3_wal_checkpoint_v2(_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK) Poco::Data::SQLite::Utility::throwException(_db, rc, "checkpoint");
}

void ConversationStore::record(const std::function<std::string()>& what, const StoreChange& change)
{
    try {
        StoreChangeCodec::encode(change, _encoded);
        _encoded = _writer->append(std::move(_encoded));
    } catch (const DiskFullException&) {
        throw;
    } catch (const Poco::IOException& e) {
        // The redo log's own failure carries its errno; the database's carries none.
        if (e.code() == ENOSPC || e.code() == EDQUOT) {
            const std::string full = "the disk holding " + _path + " is full";
            _logger.debug("cannot " + what() + ": " + e.message());
            noteFailure(full, true);
            throw DiskFullException(full);
        }
        if (e.code() != 0) noteFailure(e.message(), false);
        throw Poco::IOException("cannot " + what() + " in " + _path + ": " + e.message());
    }
    noteSuccess();
}

void ConversationStore::execute(const char* sql)
{
    const int rc = sqlite3_exec(_db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) Poco::Data::SQLite::Utility::throwException(_db, rc, sql);
}

void ConversationStore::rollBack() noexcept
{
    // SQLite rolls back by itself on some errors (a full disk among them); a
    // ROLLBACK then would only fail. One that fails leaves the transaction
    // open, and the next transact() tries again.
    if (_db != nullptr && sqlite3_get_autocommit(_db) == 0) sqlite3_exec(_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

bool ConversationStore::diskFull(const Poco::Exception& failure) const
{
    if (dynamic_cast<const Poco::Data::SQLite::DatabaseFullException*>(&failure) != nullptr) return true;
    // SQLite reports most writes that meet ENOSPC as SQLITE_FULL, but some
    // (growing a file, syncing it) as an I/O error: errno tells.
    if (dynamic_cast<const Poco::Data::SQLite::IOErrorException*>(&failure) == nullptr || _db == nullptr) return false;
    const int error = sqlite3_system_errno(_db);
    return error == ENOSPC || error == EDQUOT;
}

std::string ConversationStore::cannotOpenFull() const
{
    return "cannot open " + _path + ": the disk holding it is full; free some space and start peerd again";
}

void ConversationStore::noteFailure(const std::string& reason, bool full)
{
    std::lock_guard<std::mutex> lock(_noteMutex);
    ++_failedWrites;
    if (reason == _loggedFailure) return;
    _loggedFailure = reason;
    if (full) {
        _logger.warning(reason + ": until it has room, sends are refused, lines from peerchat peers wait unacked "
                                 "with their senders, acks of lines sent are not kept (the lines stay queued), and "
                                 "plain talk from seed and .NET clients is lost; free some space. Further failed "
                                 "writes are counted, not logged one by one");
    } else {
        _logger.warning("writes to " + _path + " fail: " + reason +
                        "; further failures for this reason are counted, not logged one by one");
    }
}

void ConversationStore::noteSuccess()
{
    std::lock_guard<std::mutex> lock(_noteMutex);
    if (_failedWrites == 0) return;
    _logger.notice("writes to " + _path + " work again; " + std::to_string(_failedWrites) + " failed meanwhile");
    _failedWrites = 0;
    _loggedFailure.clear();
}

ConversationStore::StoredLine ConversationStore::newLine(local::ChatLine line, bool unread,
                                                         const std::string& key) const
{
    if (!key.empty()) {
        const auto kept = _sendKeys.find(line.peer);
        if (kept != _sendKeys.end() && kept->second.byKey.count(key) != 0)
            throw Poco::IOException("the key " + key + " is already used in the conversation with " + line.peer);
    }
    const auto cached = _conversations.find(line.peer);
    Conversation conversation = cached == _conversations.end() ? Conversation{} : cached->second;
    line.id = ++conversation.lastId;
    if (unread && conversation.unread < std::numeric_limits<std::uint32_t>::max()) ++conversation.unread;
    return StoredLine{std::move(line), conversation, key};
}

StoreChange ConversationStore::lineChange(const StoredLine& stored) const
{
    const local::ChatLine& line = stored.line;
    StoreChange change;
    // The line's operations and, for a queued line, the outbox's two: no change grows past its first room.
    change.reserve(5);
    change.push_back(store::PutLine{line.peer, line.id, line.outgoing, line.from, line.sentTime, line.receivedAtMs,
                                    line.text, local::LocalProtocol::lineStateName(line.state), line.verified,
                                    stored.key});
    change.push_back(store::PutConversation{line.peer, stored.conversation.lastId, stored.conversation.unread});
    if (line.id > _historyLimit)
        change.push_back(store::TrimUnqueued{line.peer, line.id - _historyLimit, deliveredMark(line.peer)});
    return change;
}

void ConversationStore::keep(const StoredLine& stored)
{
    const std::string& peer = stored.line.peer;
    _conversations[peer] = stored.conversation;
    const auto kept = _sendKeys.find(peer);
    if (stored.key.empty() && kept == _sendKeys.end()) return;
    SendKeys& keys = kept == _sendKeys.end() ? _sendKeys[peer] : kept->second;
    if (!stored.key.empty()) {
        keys.byKey[stored.key] = stored.line.id;
        keys.byId[stored.line.id] = stored.key;
    }
    // A key goes with its line when the line falls past historyLimit, unless it waits in the outbox.
    const std::uint64_t delivered = deliveredMark(peer);
    while (!keys.byId.empty() && keys.byId.begin()->first + _historyLimit <= stored.line.id &&
           keys.byId.begin()->first <= delivered) {
        keys.byKey.erase(keys.byId.begin()->second);
        keys.byId.erase(keys.byId.begin());
    }
}

local::ChatLine ConversationStore::addIncoming(const std::string& peer, std::string sentTime,
                                               std::int64_t receivedAtMs, std::string text, bool verified)
{
    StoredLine stored = newLine(local::ChatLine{0, peer, false, peer, std::move(sentTime), receivedAtMs,
                                                std::move(text), local::LineState::Received, verified},
                                true);
    record([&] { return "store a line from " + peer; }, lineChange(stored));
    keep(stored);
    return std::move(stored.line);
}

local::ChatLine ConversationStore::addOutgoing(const std::string& peer, const std::string& self,
                                               std::string sentTime, std::int64_t receivedAtMs, std::string text,
                                               const std::string& key)
{
    StoredLine stored = newLine(local::ChatLine{0, peer, true, self, std::move(sentTime), receivedAtMs,
                                                std::move(text), local::LineState::Sent},
                                false, key);
    record([&] { return "store a line to " + peer; }, lineChange(stored));
    keep(stored);
    return std::move(stored.line);
}

OutboxEntry ConversationStore::enqueue(const std::string& peer, const std::string& self, std::string sentTime,
                                      std::int64_t receivedAtMs, std::string text, const std::string& key)
{
    // The stream's number moves on only once the change is recorded.
    const auto cached = _outgoingStreams.find(peer);
    const bool newStream = cached == _outgoingStreams.end();
    StoredLine stored = newLine(
        local::ChatLine{0, peer, true, self, sentTime, receivedAtMs, std::move(text), local::LineState::Pending},
        false, key);
    OutboxEntry entry{peer,
                      stored.line.id,
                      newStream ? randomStreamId() : cached->second.first,
                      newStream ? 1 : cached->second.second + 1,
                      std::move(sentTime),
                      {}};
    StoreChange change = lineChange(stored);
    change.push_back(store::PutOutgoingStream{peer, entry.stream, entry.seq});
    record([&] { return "queue a line to " + peer; }, change);
    keep(stored);
    // Recorded: the line's text moves on to the caller.
    entry.text = std::move(stored.line.text);
    if (newStream) {
        _outgoingStreams.emplace(peer, std::make_pair(entry.stream, entry.seq));
    } else {
        cached->second.second = entry.seq;
    }
    _queued[peer].push_back(entry.lineId);
    return entry;
}

std::optional<local::ChatLine> ConversationStore::lineWithKey(const std::string& peer, const std::string& key) const
{
    // The keys are kept in memory: a send that is not repeated (nearly every one) never reads the database.
    const auto kept = _sendKeys.find(peer);
    if (kept == _sendKeys.end() || kept->second.byKey.count(key) == 0) return std::nullopt;
    std::vector<local::ChatLine> lines = _writer->read([&] {
        Poco::Data::Statement select(*_session);
        select << "SELECT " + lineSelect() + " FROM line WHERE peer = ? AND send_key = ?", bind(peer), bind(key);
        return readLines(select, peer);
    });
    if (lines.empty()) return std::nullopt;
    return std::move(lines.front());
}

std::vector<OutboxEntry> ConversationStore::outbox() const
{
    return _writer->read([&] { return readOutbox({}); });
}

std::vector<OutboxEntry> ConversationStore::outboxTo(const std::string& peer) const
{
    return _writer->read([&] { return readOutbox(peer); });
}

std::size_t ConversationStore::queuedTo(const std::string& peer) const
{
    const auto queued = _queued.find(peer);
    return queued == _queued.end() ? 0 : queued->second.size();
}

void ConversationStore::trustKey(const std::string& peer, const KeyPin& keys)
{
    // The queued lines are the last of the stream: they number from 1 in it.
    std::pair<std::string, std::uint64_t> stream{randomStreamId(), queuedTo(peer)};
    const StoreChange change{pinChange(peer, keys), store::PutOutgoingStream{peer, stream.first, stream.second}};
    record([&] { return "trust the new key of " + peer; }, change);
    _outgoingStreams[peer] = std::move(stream);
}

std::vector<std::uint64_t> ConversationStore::acknowledge(const std::string& peer, const std::string& stream,
                                                          std::uint64_t seq, local::LineState state)
{
    std::vector<std::uint64_t> changed;
    const auto queued = _queued.find(peer);
    const auto current = _outgoingStreams.find(peer);
    if (queued == _queued.end() || current == _outgoingStreams.end() || current->second.first != stream) return changed;
    std::deque<std::uint64_t>& ids = queued->second;
    // A peer's queued lines are the last of its stream, oldest first: an ack covers a prefix of them.
    const std::uint64_t firstSeq = current->second.second - ids.size() + 1;
    if (seq < firstSeq) return changed;
    const std::size_t prefix = static_cast<std::size_t>(std::min<std::uint64_t>(seq - firstSeq + 1, ids.size()));
    const std::uint64_t last = ids[prefix - 1];
    // Delivered is what the mark says of the lines it passes; another state
    // (Sent) is written into them, in one statement per run of ids.
    StoreChange change;
    const std::string_view stateText = local::LocalProtocol::lineStateName(state);
    changed.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(prefix));
    if (state != local::LineState::Delivered) {
        for (const std::uint64_t id : changed) {
            auto* run = change.empty() ? nullptr : std::get_if<store::SetLineStates>(&change.back());
            if (run != nullptr && run->lastId + 1 == id) {
                run->lastId = id;
            } else {
                change.push_back(store::SetLineStates{peer, id, id, stateText});
            }
        }
    }
    change.push_back(store::MarkDelivered{peer, last});
    record([&] { return "mark lines to " + peer + " " + std::string(stateText); }, change);
    _delivered[peer] = last;
    ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(prefix));
    if (ids.empty()) _queued.erase(queued);
    return changed;
}

std::uint64_t ConversationStore::deliveredMark(const std::string& peer) const
{
    const auto it = _delivered.find(peer);
    return it == _delivered.end() ? 0 : it->second;
}

bool ConversationStore::lineKept(const std::string& peer, std::uint64_t id) const
{
    // Ids are given out from 1 without gaps; only the newest historyLimit
    // are kept, and the queued lines past the delivered mark.
    const auto conversation = _conversations.find(peer);
    return conversation != _conversations.end() && id >= 1 && id <= conversation->second.lastId &&
           (id + _historyLimit > conversation->second.lastId || id > deliveredMark(peer));
}

bool ConversationStore::setState(const std::string& peer, std::uint64_t id, local::LineState state)
{
    if (!lineKept(peer, id)) return false;
    record([&] { return "change the state of a line to " + peer; },
           StoreChange{store::SetLineStates{peer, id, id, local::LocalProtocol::lineStateName(state)}});
    return true;
}

std::uint64_t ConversationStore::delivered(const std::string& sender, const std::string& stream) const
{
    const auto it = _incomingStreams.find({sender, stream});
    return it == _incomingStreams.end() ? 0 : it->second;
}

local::ChatLine ConversationStore::deliver(const std::string& sender, const std::string& stream, std::uint64_t seq,
                                           std::string sentTime, std::int64_t receivedAtMs, std::string text)
{
    StoredLine stored = newLine(local::ChatLine{0, sender, false, sender, std::move(sentTime), receivedAtMs,
                                                std::move(text), local::LineState::Received},
                                true);
    StoreChange change = lineChange(stored);
    change.push_back(store::PutIncomingStream{sender, stream, seq});
    record([&] { return "store a line from " + sender; }, change);
    _incomingStreams[{sender, stream}] = seq;
    keep(stored);
    return std::move(stored.line);
}

void ConversationStore::pass(const std::string& sender, const std::string& stream, std::uint64_t seq)
{
    record([&] { return "pass over a line from " + sender; },
           StoreChange{store::PutIncomingStream{sender, stream, seq}});
    _incomingStreams[{sender, stream}] = seq;
}

std::vector<local::ChatLine> ConversationStore::history(const std::string& peer) const
{
    return _writer->read([&] {
        Poco::Data::Statement select(*_session);
        select << "SELECT " + lineSelect() + " FROM line WHERE peer = ? ORDER BY id", bind(peer);
        return readLines(select, peer);
    });
}

std::vector<local::ChatLine> ConversationStore::search(const std::string& peer, const std::string& text,
                                                       std::size_t limit) const
{
    std::vector<local::ChatLine> found = _writer->read([&] {
        Poco::Data::Statement select(*_session);
        // instr() matches bytewise and case-sensitively, with no pattern characters to escape.
        select << "SELECT " + lineSelect() +
                      " FROM line WHERE peer = ? AND instr(text, ?) > 0 ORDER BY id DESC LIMIT ?",
            bind(peer), bind(text),
            bind(toColumn(std::min<std::uint64_t>(limit, std::numeric_limits<Poco::Int64>::max())));
        return readLines(select, peer);
    });
    std::reverse(found.begin(), found.end());
    return found;
}

std::set<std::string> ConversationStore::senders() const
{
    std::set<std::string> senders;
    for (const auto& [key, delivered] : _incomingStreams) senders.insert(key.first);
    return senders;
}

std::uint32_t ConversationStore::unread(const std::string& peer) const
{
    const auto it = _conversations.find(peer);
    return it == _conversations.end() ? 0 : it->second.unread;
}

std::map<std::string, std::uint32_t> ConversationStore::unreadCounts() const
{
    std::map<std::string, std::uint32_t> counts;
    for (const auto& [peer, conversation] : _conversations) {
        if (conversation.unread > 0) counts.emplace(peer, conversation.unread);
    }
    return counts;
}

void ConversationStore::markRead(const std::string& peer)
{
    const auto it = _conversations.find(peer);
    if (it == _conversations.end() || it->second.unread == 0) return;
    record([&] { return "mark the lines from " + peer + " read"; },
           StoreChange{store::PutConversation{peer, it->second.lastId, 0}});
    it->second.unread = 0;
}

std::map<std::string, KeyPin> ConversationStore::keyPins() const
{
    std::vector<std::string> names;
    std::vector<std::string> pinned;
    std::vector<Poco::Nullable<std::string>> offered;
    std::vector<Poco::Nullable<std::string>> keyless;
    _writer->read([&] {
        *_session << "SELECT name, pinned, offered, keyless FROM keys", into(names), into(pinned), into(offered),
            into(keyless), now;
    });
    std::map<std::string, KeyPin> keys;
    try {
        for (std::size_t i = 0; i < names.size(); ++i) {
            KeyPin entry{keyColumn(pinned[i], names[i]), std::nullopt, keylessColumn(keyless[i], names[i])};
            if (!offered[i].isNull()) entry.offered = keyColumn(offered[i].value(), names[i]);
            keys.emplace(names[i], entry);
        }
    } catch (const Poco::DataFormatException& e) {
        throw Poco::IOException("cannot read the pinned keys in " + _path + ": " + e.message() +
                                "; move the database aside or pass another --database");
    }
    return keys;
}

void ConversationStore::saveKeyPin(const std::string& name, const KeyPin& keys)
{
    record([&] { return "pin the key of " + name; }, StoreChange{pinChange(name, keys)});
}

store::PutKeyPin ConversationStore::pinChange(const std::string& name, const KeyPin& keys)
{
    return store::PutKeyPin{name, Base64::encode(keys.pinned),
                            keys.offered ? std::optional<std::string>(Base64::encode(*keys.offered)) : std::nullopt,
                            keylessText(keys.keyless)};
}

std::map<std::string, PublicKey> ConversationStore::indexKeys() const
{
    std::vector<std::string> endpoints;
    std::vector<std::string> texts;
    _writer->read([&] { *_session << "SELECT endpoint, key FROM index_keys", into(endpoints), into(texts), now; });
    std::map<std::string, PublicKey> keys;
    try {
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            keys.emplace(endpoints[i], keyColumn(texts[i], "indexd at " + endpoints[i]));
    } catch (const Poco::DataFormatException& e) {
        throw Poco::IOException("cannot read the pinned keys in " + _path + ": " + e.message() +
                                "; move the database aside or pass another --database");
    }
    return keys;
}

void ConversationStore::saveIndexKey(const std::string& indexEndpoint, const PublicKey& key)
{
    record([&] { return "pin the key of indexd at " + indexEndpoint; },
           StoreChange{store::PutIndexKey{indexEndpoint, Base64::encode(key)}});
}

std::map<std::string, ContactRecord> ConversationStore::contacts() const
{
    std::vector<std::string> names, relations, notes, inStreams, outKinds;
    std::vector<int> blocked, outPending;
    std::vector<Poco::Int64> sinceMs, inSeqs, outSeqs;
    _writer->read([&] {
        *_session << "SELECT name, relation, blocked, note, since_ms, in_stream, in_seq, out_kind, out_seq, "
                     "out_pending FROM contact",
            into(names), into(relations), into(blocked), into(notes), into(sinceMs), into(inStreams), into(inSeqs),
            into(outKinds), into(outSeqs), into(outPending), now;
    });
    std::map<std::string, ContactRecord> contacts;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto relation = relationFromToken(relations[i]);
        const auto outKind = contactKindFromToken(outKinds[i]);
        if (!relation || (!outKind && !outKinds[i].empty()) || inSeqs[i] < 0 || outSeqs[i] < 0)
            throw Poco::IOException("cannot read the contact " + names[i] + " in " + _path +
                                    ": its row is damaged; move the database aside or pass another --database");
        contacts.emplace(names[i], ContactRecord{*relation, blocked[i] != 0, notes[i], sinceMs[i], inStreams[i],
                                                 static_cast<std::uint64_t>(inSeqs[i]), outKind,
                                                 static_cast<std::uint64_t>(outSeqs[i]), outPending[i] != 0});
    }
    return contacts;
}

void ConversationStore::saveContact(const std::string& name, const ContactRecord& contact)
{
    const std::string_view outKind = contact.outKind ? contactKindToken(*contact.outKind) : std::string_view();
    record([&] { return "keep what " + name + " is to this identity"; },
           StoreChange{store::PutContact{name, relationToken(contact.relation), contact.blocked, contact.note,
                                         contact.sinceMs, contact.inStream, contact.inSeq, outKind, contact.outSeq,
                                         contact.outPending}});
}

std::map<std::string, std::string> ConversationStore::settings() const
{
    std::vector<std::string> keys, values;
    _writer->read([&] { *_session << "SELECT key, value FROM setting", into(keys), into(values), now; });
    std::map<std::string, std::string> settings;
    for (std::size_t i = 0; i < keys.size(); ++i) settings.emplace(keys[i], values[i]);
    return settings;
}

void ConversationStore::saveSetting(const std::string& key, const std::string& value)
{
    saveSettings({{key, value}});
}

void ConversationStore::saveSettings(const std::vector<std::pair<std::string, std::string>>& settings)
{
    StoreChange change;
    for (const auto& [key, value] : settings) change.push_back(store::PutSetting{key, value});
    record([&] { return "keep the settings " + settings.front().first + " and on"; }, change);
}

void ConversationStore::flush()
{
    _writer->flush();
}

void ConversationStore::limitPages(std::uint64_t pages)
{
    _writer->hold([&] {
        Poco::Int64 limit = 0;
        *_session << "PRAGMA max_page_count = " + std::to_string(pages), into(limit), now;
    });
}

} // namespace peerchat
