#include "WriteBehind.h"

#include <algorithm>
#include <chrono>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

namespace peerchat {

namespace {

// How long a failing database rests before the writer tries it again.
constexpr auto kRetryAfter = std::chrono::seconds(1);

} // namespace

WriteBehind::WriteBehind(std::unique_ptr<RedoLog> log, std::uint64_t nextSeq, Database database)
    : _log(std::move(log)),
      _database(std::move(database)),
      _logger(Poco::Logger::get("peerd.store")),
      _applied(nextSeq - 1),
      _nextSeq(nextSeq),
      _thread([this] { run(); })
{
}

WriteBehind::~WriteBehind()
{
    {
        std::lock_guard<std::mutex> queue(_queueMutex);
        _stopping = true;
    }
    _wake.notify_one();
    _thread.join();
    std::lock_guard<std::mutex> database(_databaseMutex);
    try {
        applyQueued();
        if (_log) {
            _database.checkpoint();
            _log->clear();
        }
    } catch (const std::exception& e) {
        _logger.warning(std::to_string(_queue.size()) + " changes stay in " +
                        (_log ? _log->path() : std::string("memory")) +
                        " and reach the database at the next start: " + e.what());
    }
}

std::string WriteBehind::append(std::string payload)
{
    bool failing = false;
    {
        std::lock_guard<std::mutex> queue(_queueMutex);
        failing = _failing;
    }
    // Lock order: the database before the queue. The attempt throws while the database still fails.
    if (failing) flush();
    bool behind = false;
    bool wake = false;
    std::string next;
    {
        std::lock_guard<std::mutex> queue(_queueMutex);
        const std::uint64_t seq = _nextSeq;
        if (_log) {
            try {
                if (_logFailing) _log->reserve(kLogRoom);
                _log->append(seq, payload);
            } catch (...) {
                _logFailing = true;
                throw;
            }
            _logFailing = false;
        }
        ++_nextSeq;
        _queue.push_back(RedoLog::Record{seq, std::move(payload)});
        behind = _queue.size() >= kMostQueued;
        wake = _sleeping || _queue.size() == kGatherMost;
        if (!_spare.empty()) {
            next = std::move(_spare.back());
            _spare.pop_back();
            next.clear();
        }
    }
    if (wake) _wake.notify_one();
    // The change is kept already: a database that fails here fails the next append, not this one.
    if (behind) {
        try {
            flush();
        } catch (const std::exception&) {
            // Noted as failing; the database's owner has logged why.
        }
    }
    return next;
}

void WriteBehind::run()
{
    // The least share of the processor: the threads that move lines preempt
    // the writer whenever they wake, and it writes in the gaps between lines
    // (under load its batches only grow; append() applies itself when the
    // writer falls too far behind).
    [[maybe_unused]] const int lowered = ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
    // Its own name in top -H and perf.
    ::pthread_setname_np(::pthread_self(), "peerd-writer");
    while (true) {
        {
            std::unique_lock<std::mutex> queue(_queueMutex);
            const auto ready = [this] { return _stopping || (!_queue.empty() && !_failing); };
            if (_failing) {
                _wake.wait_for(queue, kRetryAfter, ready);
            } else {
                _sleeping = true;
                _wake.wait(queue, [this] { return _stopping || !_queue.empty(); });
                _sleeping = false;
                // A flush() on another thread failed before this one woke: it tries again after kRetryAfter.
                if (_failing && !_stopping) continue;
                // One transaction for what comes in the next moments, not one per change: append() does not
                // wake the writer while it gathers (the wake-up would cost the caller's thread a system call).
                _wake.wait_for(queue, kGather, [this] { return _stopping || _queue.size() >= kGatherMost; });
            }
            if (_stopping) return;
        }
        std::lock_guard<std::mutex> database(_databaseMutex);
        try {
            applyQueued();
            releaseLog();
        } catch (const std::exception&) {
            // The database's owner has logged it; the changes stay queued and are tried again.
        }
    }
}

void WriteBehind::applyQueued()
{
    std::size_t left = 0;
    {
        std::lock_guard<std::mutex> queue(_queueMutex);
        left = _queue.size();
    }
    while (left > 0) {
        Batch batch;
        {
            std::lock_guard<std::mutex> queue(_queueMutex);
            const std::size_t take = std::min(left, kMostPerBatch);
            batch.reserve(take);
            // Appends only add at the back, which leaves these references valid.
            for (auto record = _queue.begin(); batch.size() < take; ++record) batch.push_back(&*record);
        }
        try {
            _database.apply(batch);
        } catch (...) {
            std::lock_guard<std::mutex> queue(_queueMutex);
            _failing = true;
            throw;
        }
        _applied = batch.back()->seq;
        std::lock_guard<std::mutex> queue(_queueMutex);
        _failing = false;
        for (auto record = _queue.begin(); record != _queue.begin() + static_cast<std::ptrdiff_t>(batch.size()) &&
                                           _spare.size() < kMostSpare;
             ++record) {
            if (record->payload.capacity() <= kMostSpareBytes) _spare.push_back(std::move(record->payload));
        }
        _queue.erase(_queue.begin(), _queue.begin() + static_cast<std::ptrdiff_t>(batch.size()));
        left -= batch.size();
    }
}

void WriteBehind::releaseLog()
{
    if (!_log) return;
    {
        std::lock_guard<std::mutex> queue(_queueMutex);
        if (!_log->releases(_applied)) return;
    }
    _database.checkpoint();
    std::lock_guard<std::mutex> queue(_queueMutex);
    _log->release(_applied);
}

} // namespace peerchat
