#include "Highlight.h"

#include <algorithm>
#include <cwctype>
#include <functional>

namespace peerchat::chatui {

namespace {

/// Flags the non-overlapping occurrences of query in text, left to right;
/// true when there was one.
template <typename Equal>
bool markOccurrences(std::wstring_view text, std::wstring_view query, Equal equal, std::vector<bool>& marked)
{
    bool any = false;
    auto from = text.begin();
    while (true) {
        const auto found = std::search(from, text.end(), query.begin(), query.end(), equal);
        if (found == text.end()) return any;
        const auto at = static_cast<std::size_t>(found - text.begin());
        std::fill_n(marked.begin() + static_cast<std::ptrdiff_t>(at), query.size(), true);
        from = found + static_cast<std::ptrdiff_t>(query.size());
        any = true;
    }
}

} // namespace

std::vector<bool> Highlight::mark(std::wstring_view text) const
{
    if (_query.empty()) return {};
    std::vector<bool> marked(text.size(), false);
    if (!markOccurrences(text, _query, std::equal_to<wchar_t>(), marked)) {
        markOccurrences(
            text, _query,
            [](wchar_t a, wchar_t b) {
                return std::towlower(static_cast<wint_t>(a)) == std::towlower(static_cast<wint_t>(b));
            },
            marked);
    }
    return marked;
}

} // namespace peerchat::chatui
