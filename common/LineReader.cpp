#include "LineReader.h"

namespace peerchat {

std::optional<std::string> LineReader::next()
{
    const auto newline = _buffer.find('\n', _scanned);
    if (newline == std::string::npos) {
        _scanned = _buffer.size();
        return std::nullopt;
    }
    std::string line = _buffer.substr(0, newline);
    _buffer.erase(0, newline + 1);
    _scanned = 0;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

bool LineReader::overflowed() const
{
    const auto newline = _buffer.find('\n');
    std::size_t pending = newline == std::string::npos ? _buffer.size() : newline;
    // A CRLF line's '\r' is not part of the line.
    if (pending > 0 && _buffer[pending - 1] == '\r') --pending;
    return pending > _maxLineBytes;
}

} // namespace peerchat
