// The store's share of a chat line, in-process: LINES lines queued to a peer
// and acked in eights (as alice's peerd stores them) and LINES lines received
// (as bob's), through PeerStore with its redo log, writer thread and
// SQLite database on files, beside bare SQLite inserting the same rows into a
// table of the same shape in transactions of the writer's size, in the same
// run. It reports the CPU time of the whole process (every thread) per line,
// which other processes on a shared machine disturb far less than the
// end-to-end benches' lines/s. See docs/PERFORMANCE.md.
#include "TempDir.h"

#include "PeerStore.h"
#include "SqlStatement.h"
#include "WriteBehind.h"

#include <Poco/Exception.h>

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <vector>

using namespace peerchat;

namespace {

constexpr int kRounds = 5;
const std::string kSender = "alice";
const std::string kSentTime = "2026-12-06 12:00:00";
constexpr std::int64_t kReceivedAtMs = 1765022400000;
// Lines a peer keeps: as peerd's default, so that trimming is in the runs.
constexpr std::size_t kHistoryLimit = 10000;

std::string lineText(long number)
{
    char text[48];
    std::snprintf(text, sizeof text, "store bench line %08ld", number);
    return text;
}

double cpuSeconds()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The median over kRounds of run()'s CPU time, in microseconds per line.
double cpuPerLine(long lines, const std::function<void(const test::TempDir&)>& run)
{
    std::vector<double> perLine;
    for (int round = 0; round < kRounds; ++round) {
        test::TempDir dir;
        const double before = cpuSeconds();
        run(dir);
        perLine.push_back((cpuSeconds() - before) * 1e6 / static_cast<double>(lines));
    }
    std::sort(perLine.begin(), perLine.end());
    return perLine[perLine.size() / 2];
}

// The reference: the rows a received line leaves in peerd's line table,
// inserted with one prepared statement (SqlStatement, as peerd's writer
// does), WriteBehind::kMostPerBatch to a transaction, in a database set up
// as peerd's.
void bareInserts(const test::TempDir& dir, long lines)
{
    sqlite3* db = nullptr;
    if (sqlite3_open(dir.file("bare.db").c_str(), &db) != SQLITE_OK) {
        sqlite3_close(db);
        throw std::runtime_error("cannot open " + dir.file("bare.db"));
    }
    try {
        for (const char* setup : {"PRAGMA locking_mode = EXCLUSIVE", "PRAGMA journal_mode = WAL",
                                  "PRAGMA synchronous = NORMAL",
                                  "CREATE TABLE line (peer TEXT NOT NULL, id INTEGER NOT NULL, outgoing INTEGER "
                                  "NOT NULL, sender TEXT NOT NULL, sent_time TEXT NOT NULL, received_at_ms INTEGER "
                                  "NOT NULL, text TEXT NOT NULL, state TEXT NOT NULL, verified INTEGER NOT NULL, "
                                  "send_key TEXT, PRIMARY KEY (peer, id)) WITHOUT ROWID"}) {
            SqlStatement(db, setup).run();
        }
        SqlStatement begin(db, "BEGIN");
        SqlStatement commit(db, "COMMIT");
        SqlStatement insert(db, "INSERT INTO line VALUES (?, ?, 0, ?, ?, ?, ?, 'received', 1, NULL)");
        for (long first = 1; first <= lines; first += static_cast<long>(WriteBehind::kMostPerBatch)) {
            begin.run();
            const long last = std::min(lines, first + static_cast<long>(WriteBehind::kMostPerBatch) - 1);
            for (long id = first; id <= last; ++id) {
                const std::string text = lineText(id);
                insert.bind(kSender).bind(static_cast<std::int64_t>(id)).bind(kSender).bind(kSentTime).bind(kReceivedAtMs);
                insert.bind(text).run();
            }
            commit.run();
        }
    } catch (...) {
        sqlite3_close(db);
        throw;
    }
    sqlite3_close(db);
}

void queuedAndAcked(const test::TempDir& dir, long lines)
{
    PeerStore store(dir.file("alice.db"), kHistoryLimit);
    for (long i = 1; i <= lines; ++i) {
        const OutboxEntry entry = store.outbox.enqueue("bob", "alice", kSentTime, kReceivedAtMs, lineText(i));
        if (i % 8 == 0) store.outbox.acknowledge("bob", entry.stream, entry.seq);
    }
    store.database.flush();
}

void received(const test::TempDir& dir, long lines)
{
    PeerStore store(dir.file("bob.db"), kHistoryLimit);
    for (long seq = 1; seq <= lines; ++seq)
        store.incoming.deliver("alice", "0123456789abcdef", static_cast<std::uint64_t>(seq), kSentTime,
                               kReceivedAtMs, lineText(seq));
    store.database.flush();
}

} // namespace

int main(int argc, char** argv)
{
    const long lines = argc > 1 ? std::atol(argv[1]) : 50000;
    if (lines < 1) {
        std::fprintf(stderr, "usage: StoreBench [LINES]  (LINES > 0, default 50000)\n");
        return 2;
    }
    // SQLite set up as in peerd, for the reference too (it opens the first database).
    StoreDatabase::configureSqlite();
    try {
        std::printf("the store's CPU per line (every thread of the process), %ld lines, median of %d runs:\n",
                    lines, kRounds);
        const double bare = cpuPerLine(lines, [&](const test::TempDir& dir) { bareInserts(dir, lines); });
        std::printf("  bare SQLite, a row per line (reference):     %6.2f us\n", bare);
        const double queued = cpuPerLine(lines, [&](const test::TempDir& dir) { queuedAndAcked(dir, lines); });
        std::printf("  a line queued and acked (alice's store):     %6.2f us   ratio to bare %.2f\n", queued,
                    queued / bare);
        const double delivered = cpuPerLine(lines, [&](const test::TempDir& dir) { received(dir, lines); });
        std::printf("  a line received (bob's store):               %6.2f us   ratio to bare %.2f\n", delivered,
                    delivered / bare);
    } catch (const Poco::Exception& e) {
        std::fprintf(stderr, "StoreBench: %s\n", e.displayText().c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "StoreBench: %s\n", e.what());
        return 1;
    }
    return 0;
}
