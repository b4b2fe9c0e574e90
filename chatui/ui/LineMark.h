#pragma once

#include "Canvas.h"
#include "LocalProtocol.h"

#include <string>

namespace peerchat::chatui {

/// How the state of one of your lines shows: a one-cell mark between the
/// time and your name, distinct without colours. Lines from the peer, and
/// lines to a client that cannot confirm (sent), have none.
class LineMark
{
public:
    /// The mark for state; a space when it has none.
    static wchar_t glyph(local::LineState state);
    static Style style(local::LineState state);
    /// The marks and what they mean, for a header: "⋯ pending  ⇡ stored ...".
    static std::wstring legend();
};

} // namespace peerchat::chatui
