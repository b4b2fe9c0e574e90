#include "StoreDatabase.h"

#include "DataPath.h"
#include "LocalProtocol.h"
#include "StoreSchema.h"
#include "StoreWrites.h"

#include <Poco/Data/DataException.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace peerchat {

POCO_IMPLEMENT_EXCEPTION(DiskFullException, Poco::IOException, "Disk full")

using namespace Poco::Data::Keywords;
using storeschema::fromColumn;

const std::string StoreDatabase::kInMemory = ":memory:";

namespace {

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

} // namespace

StoreDatabase::StoreDatabase(const std::string& path) : _path(path), _logger(Poco::Logger::get("peerd.store"))
{
    try {
        open();
        migrate();
        _writes = std::make_unique<StoreWrites>(_db);
        std::unique_ptr<RedoLog> log;
        const std::uint64_t nextSeq = replay(log);
        adoptOutbox();
        _writer = std::make_unique<WriteBehind>(
            std::move(log), nextSeq,
            WriteBehind::Database{[this](const WriteBehind::Batch& batch) { apply(batch); },
                                  [this] { checkpoint(); }});
    } catch (...) {
        rethrowOpenFailure();
    }
}

void StoreDatabase::rethrowOpenFailure() const
{
    const std::string full =
        "cannot open " + _path + ": the disk holding it is full; free some space and start peerd again";
    try {
        throw;
    } catch (const Poco::Data::SQLite::DBLockedException&) {
        throw Poco::IOException("cannot open " + _path +
                                ": another peerd is using it; stop that peerd or pass another --database");
    } catch (const DiskFullException&) {
        throw Poco::IOException(full);
    } catch (const Poco::Data::DataException& e) {
        if (diskFull(e)) throw Poco::IOException(full);
        throw Poco::IOException("cannot open " + _path + ": " + reasonOf(e) +
                                "; move it aside or pass another --database");
    } catch (const Poco::Exception& e) {
        throw Poco::IOException("cannot open " + _path + ": " + e.message());
    }
}

// The writer goes first: it applies what is queued with the statements and session that follow it.
StoreDatabase::~StoreDatabase()
{
    _writer.reset();
}

void StoreDatabase::configureSqlite()
{
    [[maybe_unused]] static const bool configured = (sqlite3_config(SQLITE_CONFIG_MULTITHREAD),
                                                     sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0), true);
}

void StoreDatabase::open()
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

void StoreDatabase::migrate()
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
            for (const std::string& statement : storeschema::migrations().at(static_cast<std::size_t>(version))) {
                *_session << statement, now;
            }
            *_session << "PRAGMA user_version = " + std::to_string(version + 1), now;
        });
    }
}

// Applies what the redo log holds beyond the database (a crash came before
// the writer took it), empties the log, and hands it back in log (null for a
// database in memory); returns the seq for the next change.
std::uint64_t StoreDatabase::replay(std::unique_ptr<RedoLog>& log)
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

// The outbox table is written only by peerds before schema 7, and by their
// redo logs applied since: its rows become queued lines. A line the history
// limit had dropped while it waited comes back, with the sender of the
// store's other outgoing lines and no time of its own. A peer's rows end its
// stream and follow each other by seq, so the lines past the new mark
// number as they did; rows that do not (a damaged table) go to a new
// stream, which the peer takes from 1: nothing is lost, and a line the peer
// had may come twice.
void StoreDatabase::adoptOutbox()
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
                bind(peers[i]), bind(storeschema::randomStreamId()), bind(count), now;
        }
        *_session << "DELETE FROM outbox", now;
    });
}

// Poco::Data::Transaction is not used: when COMMIT fails after SQLite has
// rolled back by itself (as it does on a full disk), its session keeps
// believing a transaction is open and refuses every later one ("Transaction
// in progress") until the program restarts.
template <typename Write>
void StoreDatabase::transact(Write&& write)
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

void StoreDatabase::apply(const WriteBehind::Batch& batch)
{
    try {
        transact([&] {
            _writes->start();
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
                [this](const store::Op& op) { _writes->apply(op); }, [this] { _writes->finish(); });
            _writes->setApplied(batch.back()->seq);
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

void StoreDatabase::checkpoint()
{
    const int rc = sqlite3_wal_checkpoint_v2(_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK) Poco::Data::SQLite::Utility::throwException(_db, rc, "checkpoint");
}

void StoreDatabase::record(const std::function<std::string()>& what, const StoreChange& change)
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

void StoreDatabase::execute(const char* sql)
{
    const int rc = sqlite3_exec(_db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) Poco::Data::SQLite::Utility::throwException(_db, rc, sql);
}

void StoreDatabase::rollBack() noexcept
{
    // SQLite rolls back by itself on some errors (a full disk among them); a
    // ROLLBACK then would only fail. One that fails leaves the transaction
    // open, and the next transact() tries again.
    if (_db != nullptr && sqlite3_get_autocommit(_db) == 0) sqlite3_exec(_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

bool StoreDatabase::diskFull(const Poco::Exception& failure) const
{
    if (dynamic_cast<const Poco::Data::SQLite::DatabaseFullException*>(&failure) != nullptr) return true;
    // SQLite reports most writes that meet ENOSPC as SQLITE_FULL, but some
    // (growing a file, syncing it) as an I/O error: errno tells.
    if (dynamic_cast<const Poco::Data::SQLite::IOErrorException*>(&failure) == nullptr || _db == nullptr) return false;
    const int error = sqlite3_system_errno(_db);
    return error == ENOSPC || error == EDQUOT;
}

void StoreDatabase::noteFailure(const std::string& reason, bool full)
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

void StoreDatabase::noteSuccess()
{
    std::lock_guard<std::mutex> lock(_noteMutex);
    if (_failedWrites == 0) return;
    _logger.notice("writes to " + _path + " work again; " + std::to_string(_failedWrites) + " failed meanwhile");
    _failedWrites = 0;
    _loggedFailure.clear();
}

void StoreDatabase::flush()
{
    _writer->flush();
}

void StoreDatabase::limitPages(std::uint64_t pages)
{
    _writer->hold([&] {
        Poco::Int64 limit = 0;
        *_session << "PRAGMA max_page_count = " + std::to_string(pages), into(limit), now;
    });
}

} // namespace peerchat
