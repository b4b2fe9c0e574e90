#pragma once

#include "InputLine.h"
#include "Key.h"

namespace peerchat::chatui {

/// The keys that edit a line of input, the same in every window that has
/// one: Left/Right, Home/End (Ctrl-A/Ctrl-E), Backspace, Delete, Ctrl-U,
/// Ctrl-K, Ctrl-W, and any character that is not a control one.
class LineEditing
{
public:
    enum class Result
    {
        Edited, ///< the key edited the line or moved its cursor (a character no line holds is dropped)
        Full,   ///< a character that would take the line past its length
        Other   ///< not an editing key (Enter, Esc, PgUp, Ctrl-C...): the window's to handle
    };

    /// Applies key to input when it is an editing key.
    static Result apply(InputLine& input, const Key& key);
};

} // namespace peerchat::chatui
