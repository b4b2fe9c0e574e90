#include "EventBacklog.h"

#include <algorithm>

namespace peerchat {

void EventBacklog::append(std::string_view bytes)
{
    while (!bytes.empty()) {
        if (_chunks.empty() || _chunks.back().size() == kChunkBytes) {
            _chunks.emplace_back();
            // Past the first chunk the backlog is large: take a whole chunk at
            // once rather than growing it by doubling, which can leave up to
            // half of it unused.
            if (_chunks.size() > 1) _chunks.back().reserve(kChunkBytes);
        }
        std::string& chunk = _chunks.back();
        const std::size_t take = std::min(bytes.size(), kChunkBytes - chunk.size());
        chunk.append(bytes.data(), take);
        bytes.remove_prefix(take);
        _size += take;
    }
}

std::string_view EventBacklog::front() const
{
    if (_chunks.empty()) return {};
    return std::string_view(_chunks.front()).substr(_written);
}

void EventBacklog::consume(std::size_t n)
{
    if (_chunks.empty()) return;
    n = std::min(n, _chunks.front().size() - _written);
    _written += n;
    _size -= n;
    if (_written == _chunks.front().size()) {
        _chunks.pop_front();
        _written = 0;
    }
}

void EventBacklog::clear()
{
    _chunks.clear();
    _written = 0;
    _size = 0;
}

} // namespace peerchat
