#include "LineReader.h"

namespace peerchat {

std::optional<std::string_view> LineReader::next()
{
    const auto newline = _buffer.find('\n', _start + _scanned);
    if (newline == std::string::npos) {
        // Taken lines go only now, at most once per read: erasing each from
        // the front would move the rest of a 64 KiB read once per line.
        _buffer.erase(0, _start);
        _start = 0;
        _scanned = _buffer.size();
        return std::nullopt;
    }
    std::string_view line(_buffer.data() + _start, newline - _start);
    _start = newline + 1;
    _scanned = 0;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

bool LineReader::overflowed() const
{
    const auto newline = _buffer.find('\n', _start);
    std::size_t pending = (newline == std::string::npos ? _buffer.size() : newline) - _start;
    // A CRLF line's '\r' is not part of the line.
    if (pending > 0 && _buffer[_start + pending - 1] == '\r') --pending;
    return pending > _maxLineBytes;
}

} // namespace peerchat
