#include "Mailbox.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Exception.h>

#include <array>
#include <mutex>

using namespace Poco::Data::Keywords;

namespace peerchat {

namespace {

// The statements that take the schema from version N to N + 1, at index N.
// A released step never changes: a new version appends one.
const std::array<std::vector<std::string>, Mailbox::kSchemaVersion> kMigrations{{
    {"CREATE TABLE mail ("
     " recipient TEXT NOT NULL,"
     " sender TEXT NOT NULL,"
     " stream TEXT NOT NULL,"
     " seq INTEGER NOT NULL,"
     " time TEXT NOT NULL,"
     " text TEXT NOT NULL,"
     " PRIMARY KEY (recipient, sender, stream, seq))"},
}};

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

Mailbox::Mailbox(const std::string& path, std::size_t limit) : _session(openSession(path)), _limit(limit)
{
    try {
        migrate();
    } catch (const Poco::Exception& e) {
        throw Poco::IOException(path + ": " + e.message());
    }
}

void Mailbox::migrate()
{
    _session << "PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs), now;
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
    for (int step = version; step < kSchemaVersion; ++step) {
        for (const auto& statement : kMigrations[static_cast<std::size_t>(step)]) _session << statement, now;
    }
    _session << "PRAGMA user_version = " + std::to_string(kSchemaVersion), now;
    _session << "COMMIT", now;
}

Mailbox::StoreResult Mailbox::store(const std::string& to, const Msg& msg)
{
    auto seq = static_cast<Poco::Int64>(msg.seq);
    int held = 0;
    _session << "SELECT COUNT(*) FROM mail WHERE recipient = ? AND sender = ? AND stream = ? AND seq = ?",
        useRef(to), useRef(msg.from), useRef(msg.stream), use(seq), into(held), now;
    if (held > 0) return StoreResult::Duplicate;
    if (countFor(to) >= _limit) return StoreResult::Full;
    _session << "INSERT INTO mail (recipient, sender, stream, seq, time, text) VALUES (?, ?, ?, ?, ?, ?)",
        useRef(to), useRef(msg.from), useRef(msg.stream), use(seq), useRef(msg.time), useRef(msg.text), now;
    return StoreResult::Stored;
}

std::vector<Msg> Mailbox::waitingFor(const std::string& to)
{
    std::vector<std::string> senders, streams, times, texts;
    std::vector<Poco::Int64> seqs;
    _session << "SELECT sender, stream, seq, time, text FROM mail WHERE recipient = ? ORDER BY sender, stream, seq",
        useRef(to), into(senders), into(streams), into(seqs), into(times), into(texts), now;
    std::vector<Msg> lines;
    lines.reserve(senders.size());
    for (std::size_t i = 0; i < senders.size(); ++i)
        lines.push_back(Msg{streams[i], static_cast<std::uint64_t>(seqs[i]), times[i], senders[i], texts[i]});
    return lines;
}

std::size_t Mailbox::acknowledge(const std::string& to, const std::string& stream, std::uint64_t seq)
{
    auto upTo = static_cast<Poco::Int64>(seq);
    Poco::Data::Statement remove(_session);
    remove << "DELETE FROM mail WHERE recipient = ? AND stream = ? AND seq <= ?", useRef(to), useRef(stream),
        use(upTo);
    return remove.execute();
}

std::size_t Mailbox::countFor(const std::string& to)
{
    std::size_t count = 0;
    _session << "SELECT COUNT(*) FROM mail WHERE recipient = ?", useRef(to), into(count), now;
    return count;
}

} // namespace peerchat
