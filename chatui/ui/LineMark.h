#pragma once

#include "Canvas.h"
#include "LocalProtocol.h"

#include <string>

namespace peerchat::chatui {

/// How a line shows what is known of it: a one-cell mark between the time
/// and the sender, distinct without colours. Your lines carry their state;
/// a line from the peer is marked only when it is unverified (plain seed
/// talk, which anyone could have sent). Other lines from the peer, and lines
/// to a client that cannot confirm (sent), have none.
class LineMark
{
public:
    /// Marks a line from the peer that nobody signed.
    static constexpr wchar_t kUnverified = L'?';

    /// The mark for state; a space when it has none.
    static wchar_t glyph(local::LineState state);
    static Style style(local::LineState state);
    /// The mark for line: kUnverified, or the mark of its state.
    static wchar_t glyph(const local::ChatLine& line);
    static Style style(const local::ChatLine& line);
    /// The marks and what they mean, for a header: "⋯ pending  ⇡ stored ...",
    /// ending in "? unverified" when withUnverified.
    static std::wstring legend(bool withUnverified = false);
};

} // namespace peerchat::chatui
