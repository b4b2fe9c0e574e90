#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

namespace peerchat {

/// The bytes of events queued for one local client that has not read them
/// yet, as a queue of chunks of at most kChunkBytes: appending and writing
/// cost what they move, never a copy of all that is queued, and a chunk is
/// freed as soon as it is written, so a drained backlog holds nothing.
/// State only: no socket.
class EventBacklog
{
public:
    /// The most bytes one chunk holds.
    static constexpr std::size_t kChunkBytes = 64 * 1024;

    /// Queues bytes after what is queued.
    void append(std::string_view bytes);
    /// The next bytes to write: the start of what is queued, at most one
    /// chunk; empty when nothing is queued. Valid until the next change.
    std::string_view front() const;
    /// Drops the first n bytes, which were written; n is at most front().size().
    void consume(std::size_t n);
    /// Drops everything queued.
    void clear();

    /// The bytes queued.
    std::size_t size() const { return _size; }
    bool empty() const { return _size == 0; }

private:
    std::deque<std::string> _chunks;
    std::size_t _written = 0;  ///< bytes of the first chunk already written
    std::size_t _size = 0;
};

} // namespace peerchat
