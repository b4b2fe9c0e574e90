#include "IndexDatabase.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Exception.h>

#include <array>
#include <mutex>
#include <vector>

using namespace Poco::Data::Keywords;

namespace peerchat {

namespace {

// The statements that take the schema from version N to N + 1, at index N.
// A released step never changes: a new version appends one.
const std::array<std::vector<std::string>, IndexDatabase::kSchemaVersion> kMigrations{{
    {"CREATE TABLE mail ("
     " recipient TEXT NOT NULL,"
     " sender TEXT NOT NULL,"
     " stream TEXT NOT NULL,"
     " seq INTEGER NOT NULL,"
     " time TEXT NOT NULL,"
     " text TEXT NOT NULL,"
     " PRIMARY KEY (recipient, sender, stream, seq))"},
    // peerchat/3: indexd keeps only what it cannot read. The plaintext lines
    // go (their senders' outboxes still hold them).
    {"DROP TABLE mail",
     "CREATE TABLE mail ("
     " recipient TEXT NOT NULL,"
     " sender TEXT NOT NULL,"
     " stream TEXT NOT NULL,"
     " seq INTEGER NOT NULL,"
     " box BLOB NOT NULL,"
     " PRIMARY KEY (recipient, sender, stream, seq))",
     "CREATE TABLE names ("
     " name TEXT PRIMARY KEY NOT NULL,"
     " identity BLOB NOT NULL)"},
    // Expiry: stored_at is milliseconds since 1970. The letters already held
    // count from the upgrade, so none expires sooner than it would have.
    {"ALTER TABLE mail ADD COLUMN stored_at INTEGER NOT NULL DEFAULT 0",
     "UPDATE mail SET stored_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000",
     "CREATE INDEX mail_by_age ON mail (stored_at)"},
}};

// The version whose mail table holds plaintext.
constexpr int kPlaintextSchema = 1;

// How long a statement waits for another process holding the file (a second
// indexd on the same database) before it fails.
constexpr int kBusyTimeoutMs = 5000;

// POCO retries a failed open until this many seconds have passed (60 by
// default), which would keep indexd from saying "cannot open" for a minute.
constexpr std::size_t kOpenTimeoutSeconds = 1;

Poco::Data::Session openSession(const std::string& path)
{
    static std::once_flag registered;
    std::call_once(registered, [] { Poco::Data::SQLite::Connector::registerConnector(); });
    try {
        return Poco::Data::Session(Poco::Data::SQLite::Connector::KEY, path, kOpenTimeoutSeconds);
    } catch (const Poco::Exception& e) {
        throw Poco::IOException(path + ": " + e.message());
    }
}

} // namespace

IndexDatabase::IndexDatabase(const std::string& path) : _session(openSession(path))
{
    try {
        migrate();
    } catch (const Poco::Exception& e) {
        throw Poco::IOException(path + ": " + e.message());
    }
}

void IndexDatabase::migrate()
{
    _session << "PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs), now;
    // Deleted rows and dropped tables are overwritten with zeros, so neither
    // acked ciphertext nor an older indexd's plaintext lingers in free pages.
    _session << "PRAGMA secure_delete = ON", now;
    // WAL with synchronous=NORMAL loses nothing committed when the process
    // dies (kill -9), and costs one sync per checkpoint instead of per store.
    std::string journal;
    _session << "PRAGMA journal_mode = WAL", into(journal), now;
    _session << "PRAGMA synchronous = NORMAL", now;

    // IMMEDIATE: two indexds opening one new file do not both create tables.
    // A failure leaves the transaction open and the session is closed with
    // the object, which rolls it back.
    _session << "BEGIN IMMEDIATE", now;
    int version = 0;
    _session << "PRAGMA user_version", into(version), now;
    if (version > kSchemaVersion)
        throw Poco::DataFormatException("written by a newer indexd (schema " + std::to_string(version)
                                        + "; this indexd knows up to " + std::to_string(kSchemaVersion) + ")");
    if (version == kPlaintextSchema) _session << "SELECT COUNT(*) FROM mail", into(_droppedPlaintextLines), now;
    for (int step = version; step < kSchemaVersion; ++step) {
        for (const auto& statement : kMigrations[static_cast<std::size_t>(step)]) _session << statement, now;
    }
    _session << "PRAGMA user_version = " + std::to_string(kSchemaVersion), now;
    _session << "COMMIT", now;
    // The zeroed pages reach the database file now, not at some later checkpoint.
    if (_droppedPlaintextLines > 0) {
        int busy = 0, walPages = 0, checkpointed = 0;
        _session << "PRAGMA wal_checkpoint(TRUNCATE)", into(busy), into(walPages), into(checkpointed), now;
    }
}

} // namespace peerchat
