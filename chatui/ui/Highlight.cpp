#include "Highlight.h"

#include <algorithm>

namespace peerchat::chatui {

std::vector<bool> Highlight::mark(std::wstring_view text) const
{
    if (_query.empty()) return {};
    std::vector<bool> marked(text.size(), false);
    for (std::size_t at = text.find(_query); at != std::wstring_view::npos; at = text.find(_query, at + _query.size()))
        std::fill_n(marked.begin() + static_cast<std::ptrdiff_t>(at), _query.size(), true);
    return marked;
}

} // namespace peerchat::chatui
