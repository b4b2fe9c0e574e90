#include "StoreSchema.h"

#include "LocalProtocol.h"

#include <cstdio>
#include <random>

namespace peerchat::storeschema {

namespace {

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

} // namespace

const std::string kLineColumns = "id, outgoing, sender, sent_time, received_at_ms, text, state, verified";

const std::string kMarkOfLine = "COALESCE((SELECT line_id FROM delivered d WHERE d.peer = line.peer), 0)";

std::string queuedLine(const std::string& mark)
{
    return "(outgoing = 1 AND state IN " + queuedStates() + " AND id > " + mark + ")";
}

const std::string& lineSelect()
{
    static const std::string columns =
        "id, outgoing, sender, sent_time, received_at_ms, text, CASE WHEN outgoing = 1 AND state IN " +
        queuedStates() + " AND id <= " + kMarkOfLine + " THEN '" +
        std::string(local::LocalProtocol::lineStateName(local::LineState::Delivered)) + "' ELSE state END, verified";
    return columns;
}

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
            // lines once the log is applied (StoreDatabase::adoptOutbox).
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
        {
            // The groups this identity is in: the newest member list taken
            // for each (GroupMembership, encoded). A group's lines are in the
            // line table like a direct chat's, under the key "group:" + id
            // (ConversationId), which no user name can be.
            "CREATE TABLE chat_group (id TEXT PRIMARY KEY, membership TEXT NOT NULL) WITHOUT ROWID",
        },
    };
    return steps;
}

std::string randomStreamId()
{
    std::random_device device;
    const std::uint64_t value = ((static_cast<std::uint64_t>(device()) << 32) ^ device()) >> 4;
    char text[16];
    std::snprintf(text, sizeof text, "%015llx", static_cast<unsigned long long>(value));
    return text;
}

} // namespace peerchat::storeschema
