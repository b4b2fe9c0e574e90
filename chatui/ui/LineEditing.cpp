#include "LineEditing.h"

#include <curses.h>

namespace peerchat::chatui {

LineEditing::Result LineEditing::apply(InputLine& input, const Key& key)
{
    if (key.function) {
        switch (key.code) {
        case KEY_LEFT: input.moveLeft(); return Result::Edited;
        case KEY_RIGHT: input.moveRight(); return Result::Edited;
        case KEY_HOME: input.moveHome(); return Result::Edited;
        case KEY_END: input.moveEnd(); return Result::Edited;
        case KEY_BACKSPACE: input.deleteBefore(); return Result::Edited;
        case KEY_DC: input.deleteAt(); return Result::Edited;
        default: return Result::Other;
        }
    }
    if (key.isCharacter(0x7f) || key.isControl('h')) {
        input.deleteBefore();
    } else if (key.isControl('a')) {
        input.moveHome();
    } else if (key.isControl('e')) {
        input.moveEnd();
    } else if (key.isControl('u')) {
        input.killToStart();
    } else if (key.isControl('k')) {
        input.killToEnd();
    } else if (key.isControl('w')) {
        input.killWordBefore();
    } else if (key.code < 0x20) {
        return Result::Other;
    } else if (const auto c = static_cast<wchar_t>(key.code); !input.insert(c)) {
        // A character the line refuses for what it is (not for its length) is dropped.
        return input.fits(c) ? Result::Edited : Result::Full;
    }
    return Result::Edited;
}

} // namespace peerchat::chatui
