#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace peerchat::chatui {

/// What a search looked for, found again in a line's text so the window can
/// show it highlighted. Matches as peerd's search does: the exact characters,
/// case included.
class Highlight
{
public:
    /// query empty: nothing is highlighted.
    explicit Highlight(std::wstring query = {}) : _query(std::move(query)) {}

    bool empty() const { return _query.empty(); }

    /// One flag per character of text, true inside an occurrence of the query
    /// (occurrences do not overlap, the leftmost wins); empty when the query is.
    std::vector<bool> mark(std::wstring_view text) const;

private:
    std::wstring _query;
};

} // namespace peerchat::chatui
