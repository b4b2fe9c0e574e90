#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// Splits a byte stream into '\n'-terminated lines, with a bound on the
/// length of one line. Feed what a socket read; take lines until none is left.
class LineReader
{
public:
    explicit LineReader(std::size_t maxLineBytes) : _maxLineBytes(maxLineBytes) {}

    void feed(std::string_view bytes) { _buffer.append(bytes); }

    /// The next complete line without its '\n' (and without a trailing '\r'),
    /// or nullopt when none is complete yet. The line is a view of the
    /// reader's buffer, valid until the next feed() or next().
    std::optional<std::string_view> next();

    /// True when the buffer holds more than maxLineBytes without a newline:
    /// the peer is misbehaving and the connection should be closed.
    bool overflowed() const;

private:
    std::size_t _maxLineBytes;
    std::string _buffer;
    std::size_t _start = 0;    ///< where the next line begins; what is before it was taken
    std::size_t _scanned = 0;  ///< how far from _start no newline was found
};

} // namespace peerchat
