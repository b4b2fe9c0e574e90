#pragma once

#include <cwchar>

namespace peerchat::chatui {

/// One key as wget_wch reports it: a character (letters, CJK, Ctrl-X as its
/// control code) or a function key (KEY_UP, KEY_RESIZE...).
struct Key
{
    bool function = false;
    wint_t code = 0;

    static Key character(wint_t c) { return Key{false, c}; }
    static Key functionKey(wint_t k) { return Key{true, k}; }

    bool isCharacter(wint_t c) const { return !function && code == c; }
    bool isFunction(wint_t k) const { return function && code == k; }
    /// Ctrl plus a letter: ctrl('u') is 0x15.
    bool isControl(char letter) const { return !function && code == static_cast<wint_t>(letter & 0x1f); }
};

} // namespace peerchat::chatui
