#pragma once

#include "Key.h"

#include <optional>

namespace peerchat::chatui {

class Window;

/// The terminal while chatui runs: ncurses set up in the constructor (raw
/// keys, keypad, colours when the terminal has them) and put back in the
/// destructor. setlocale(LC_ALL, "") must have run before.
class Screen
{
public:
    /// Throws std::runtime_error with a message for a person when the
    /// terminal cannot be used (TERM unknown, not a terminal).
    Screen();
    ~Screen();
    Screen(const Screen&) = delete;
    Screen& operator=(const Screen&) = delete;

    /// The descriptor keys arrive on, for poll().
    int inputFd() const;
    /// The next key waiting, without blocking; nullopt when none is.
    std::optional<Key> readKey();
    /// Blanks the terminal and lets window draw the whole of it.
    void draw(Window& window);
    /// Rings the terminal's bell (tmux marks the window, terminals flash or beep).
    void bell();

private:
    bool _colours = false;
};

} // namespace peerchat::chatui
