#pragma once

#include "RedoLog.h"

#include <Poco/Logger.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace peerchat {

/// Takes the database's write time off its caller's thread without weakening
/// what a change survives. append() puts the change in the redo log (where it
/// survives a crash of the process as soon as the call returns) and queues
/// it; a thread of its own applies what is queued to the database, in order,
/// as many changes as queue up within kGather of the first in one transaction
/// (group commit: a transaction per line would cost tens of microseconds per
/// line on a processor the lines need; a longer queue goes in transactions of
/// kMostPerBatch), and
/// runs the database's checkpoints, so neither a commit nor a checkpoint's
/// fsync ever waits on the caller's thread. Once everything a file of the
/// log holds is in the database and checkpointed, the file is emptied
/// (RedoLog::release).
/// A database that fails (a full disk) keeps what it failed on queued and
/// tries again every second; meanwhile append() tries once itself and
/// refuses the change with the database's failure, so nothing more piles up.
/// A log that could not take a change refuses every change until the disk
/// has kLogRoom bytes for it again, so that a full disk refuses small and
/// large changes alike, not whatever still fits its last page.
/// read() runs a read on the caller's thread once every change queued so far
/// is in the database. The database is only ever touched by one thread at a
/// time: the writer, or the caller inside read().
class WriteBehind
{
public:
    using Batch = std::vector<const RedoLog::Record*>;

    /// What the owner does with its database; called with the database held.
    struct Database
    {
        /// Applies batch (in order) in one transaction with its last seq as
        /// the applied mark; throws, having rolled back, when it cannot.
        std::function<void(const Batch& batch)> apply;
        /// Makes what is applied safe from a power cut (a checkpoint).
        std::function<void()> checkpoint;
    };

    /// Most changes queued: past this append() applies them itself, so a
    /// writer starved of the processor cannot let the queue grow without bound.
    static constexpr std::size_t kMostQueued = 20000;
    /// Room the disk must have for the log before it takes changes again after it failed.
    static constexpr std::uint64_t kLogRoom = 64 << 10;
    /// How long the writer, woken by a change, waits for more before it
    /// applies them. Readers apply what is queued first (read()), so it
    /// delays nothing anyone sees; what it saves is wake-ups: each costs a
    /// commit, and on two processors it takes one from the lines in flight.
    /// At 2 ms LatencyBench's p99 was 2.8-3.8 of the plain path, at 20 ms
    /// 2.0-3.1 (docs/PERFORMANCE.md, fourteenth step). Under load
    /// kGatherMost ends the wait long before.
    static constexpr std::chrono::milliseconds kGather{20};
    /// Changes queued that end the writer's wait at once.
    static constexpr std::size_t kGatherMost = 256;
    /// Buffers of applied payloads kept to hand back from append(), at most,
    /// and the largest one kept: a few hundred kilobytes at most.
    static constexpr std::size_t kMostSpare = 1024;
    static constexpr std::size_t kMostSpareBytes = 512;
    /// Most changes in one transaction: the owner holds a batch decoded while
    /// it applies it, and a writer that fell kMostQueued behind would
    /// otherwise hold all of them at once.
    static constexpr std::size_t kMostPerBatch = 2048;

    /// log may be null (a database in memory): changes are then only queued.
    /// nextSeq numbers the first change appended.
    WriteBehind(std::unique_ptr<RedoLog> log, std::uint64_t nextSeq, Database database);
    /// Stops the thread and applies what is still queued; what the database
    /// refuses stays in the log for the next start.
    ~WriteBehind();
    WriteBehind(const WriteBehind&) = delete;
    WriteBehind& operator=(const WriteBehind&) = delete;

    /// Keeps payload (in the log) and queues it for the database. Throws,
    /// keeping nothing: Poco::IOException with the errno as code() when the
    /// log cannot take it; while the database fails, what it fails with.
    /// Returns an empty string to write the next payload into: the buffer of
    /// one the database is done with, when there is one, so that payloads
    /// go round between the two threads instead of being allocated by one
    /// and freed by the other (glibc's slowest pattern).
    std::string append(std::string payload);

    /// Applies everything queued, then returns read()'s result, on the
    /// caller's thread. Throws what the database fails with.
    template <typename Read>
    auto read(Read&& read)
    {
        std::lock_guard<std::mutex> database(_databaseMutex);
        applyQueued();
        return read();
    }

    /// Every change queued so far is in the database when it returns; throws what the database fails with.
    void flush()
    {
        read([] {});
    }

    /// Returns hold()'s result, run with the database held, whatever is queued.
    template <typename Hold>
    auto hold(Hold&& hold)
    {
        std::lock_guard<std::mutex> database(_databaseMutex);
        return hold();
    }

private:
    void run();
    /// Applies every change queued; the database is held. Throws what the database fails with.
    void applyQueued();
    /// Checkpoints the database and empties each file of the log that is big
    /// and all in the database (RedoLog::release); the database is held.
    void releaseLog();

    std::unique_ptr<RedoLog> _log;
    Database _database;
    Poco::Logger& _logger;

    std::mutex _databaseMutex;  ///< held while the database is used; taken before _queueMutex, never after
    std::uint64_t _applied = 0;  ///< the seq of the last change in the database; guarded by _databaseMutex

    std::mutex _queueMutex;  ///< guards what follows, and the log
    std::condition_variable _wake;
    std::deque<RedoLog::Record> _queue;  ///< appended, not yet applied; only the front is taken away
    std::vector<std::string> _spare;     ///< buffers of applied payloads, for append() to hand back
    std::uint64_t _nextSeq;
    bool _failing = false;     ///< the database failed the last batch it was given
    bool _logFailing = false;  ///< the log failed the last change it was given
    bool _stopping = false;
    bool _sleeping = false;    ///< the writer waits for a first change, not gathering more

    std::thread _thread;
};

} // namespace peerchat
