#pragma once

#include "RedoLog.h"
#include "StoreBatch.h"
#include "StoreChange.h"
#include "WriteBehind.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace Poco::Data {
class Session;
}

struct sqlite3;

namespace peerchat {

class StoreWrites;

// Thrown by a store's write that failed because the disk holding the
// database is full; its message says so for a person ("the disk holding PATH
// is full"). Nothing of the write was kept, and the store takes writes again
// as soon as there is room.
POCO_DECLARE_EXCEPTION(, DiskFullException, Poco::IOException)

/// peerd's SQLite database, which the stores of PeerStore share: opening
/// and migrating it, and every change to it. A change (StoreChange) is put
/// in the redo log before record() returns, so it survives a crash of peerd
/// from then on and a crash never keeps half of it; the database takes it
/// within a moment on a thread of its own (WriteBehind), and what a crash
/// left in the log goes into the database at the next open. A change the
/// redo log cannot take (the disk is full, an I/O error) is refused whole
/// with Poco::IOException (DiskFullException for a full disk); so is every
/// change while the database itself fails, until it takes writes again.
/// Failing writes are logged when they start, when their reason changes and
/// when writes work again, not one by one. The stores cache what they read
/// often and change their cache only once record() returned.
class StoreDatabase
{
public:
    /// The schema version this peerd writes (PRAGMA user_version).
    static constexpr int kSchemaVersion = 9;
    /// The path of a private database in memory (for tests).
    static const std::string kInMemory;

    /// Opens (creating it, and its directory with mode 0700, when missing;
    /// the file with mode 0600) the database at path, or a private one in
    /// memory for kInMemory, migrates it to kSchemaVersion, applies what its
    /// redo log (path + "-redo" and "-redo2") still holds, and holds it
    /// exclusively until destroyed. Throws Poco::IOException with a message
    /// for a person ("cannot open PATH: ...") when it cannot be opened, is
    /// in use by another process, or was written by a newer peerd.
    explicit StoreDatabase(const std::string& path);
    /// Applies what is queued, and keeps in the redo log what the database refuses.
    ~StoreDatabase();
    StoreDatabase(const StoreDatabase&) = delete;
    StoreDatabase& operator=(const StoreDatabase&) = delete;

    /// Sets SQLite up for this process before its first database: no locks
    /// of its own around each call (a connection is only ever used by one
    /// thread at a time, under WriteBehind's lock, so they were work for
    /// nothing: a few per cent of a line's writes) and no count of its
    /// memory (a lock on every allocation). The constructor calls it;
    /// SQLite ignores it once a database was opened before, and then keeps
    /// locking, which is safe.
    static void configureSqlite();

    const std::string& path() const { return _path; }

    /// Puts change in the redo log; throws, with nothing kept,
    /// DiskFullException when the disk is full, else Poco::IOException
    /// saying what could not be done (what() says it, asked only then: a
    /// line is stored far more often than a message is needed) and why.
    void record(const std::function<std::string()>& what, const StoreChange& change);

    /// Applies every change queued, then returns read(session)'s result. Throws what the database fails with.
    template <typename Read>
    auto read(Read&& read) const
    {
        return _writer->read([&] { return read(*_session); });
    }

    /// For a store filling its cache as it opens: runs load(session) with
    /// the database held, and throws what it fails with as Poco::IOException
    /// for a person, as the constructor does ("cannot open PATH: ...").
    template <typename Load>
    void load(Load&& load)
    {
        try {
            _writer->hold([&] { load(*_session); });
        } catch (...) {
            rethrowOpenFailure();
        }
    }

    /// Returns once every change so far is in the database; throws what the
    /// database fails with (Poco::IOException, DiskFullException).
    void flush();

    /// Lets the database grow to at most pages pages (PRAGMA max_page_count):
    /// past that a write fails as on a full disk. A full disk without one, for tests.
    void limitPages(std::uint64_t pages);

private:
    void open();
    void migrate();
    std::uint64_t replay(std::unique_ptr<RedoLog>& log);
    /// Turns the rows of the outbox table of peerds before schema 7 into queued lines.
    void adoptOutbox();
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
    /// Rolls back the open transaction, if any; never throws.
    void rollBack() noexcept;
    /// True when failure, just thrown by SQLite, means the disk is full.
    bool diskFull(const Poco::Exception& failure) const;
    /// Rethrows the exception in flight, thrown while the database was
    /// opened, as Poco::IOException with a message for a person.
    [[noreturn]] void rethrowOpenFailure() const;
    /// Counts a failed write; logs it when writes start failing, or fail for
    /// another reason than the one logged last. Called from either thread.
    void noteFailure(const std::string& reason, bool full);
    /// Logs that writes work again after some failed.
    void noteSuccess();

    std::string _path;
    std::unique_ptr<Poco::Data::Session> _session;
    sqlite3* _db = nullptr;  ///< _session's connection, for what Poco does not pass on
    std::mutex _noteMutex;            ///< guards the two that follow
    std::uint64_t _failedWrites = 0;  ///< writes refused since the last that worked
    std::string _loggedFailure;       ///< the reason of the last failed write logged
    Poco::Logger& _logger;
    std::unique_ptr<StoreWrites> _writes;
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
