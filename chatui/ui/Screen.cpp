#include "Screen.h"

#include "Canvas.h"
#include "Window.h"

#include <curses.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace peerchat::chatui {

Screen::Screen()
{
    // newterm, unlike initscr, returns an error instead of exiting.
    if (!newterm(nullptr, stdout, stdin)) {
        const char* term = std::getenv("TERM");
        throw std::runtime_error("cannot use the terminal (TERM=" + std::string(term ? term : "")
                                 + "); run chatui in a terminal with a known TERM, e.g. TERM=xterm-256color");
    }
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    // Esc leaves a conversation; it should not wait long for a key sequence.
    set_escdelay(25);
    _colours = has_colors() && start_color() == OK && Canvas::initColours();
}

Screen::~Screen() { endwin(); }

int Screen::inputFd() const { return fileno(stdin); }

std::optional<Key> Screen::readKey()
{
    wint_t code = 0;
    switch (wget_wch(stdscr, &code)) {
    case OK: return Key::character(code);
    case KEY_CODE_YES: return Key::functionKey(code);
    default: return std::nullopt;
    }
}

void Screen::draw(Window& window)
{
    werase(stdscr);
    Canvas canvas(stdscr, _colours);
    // Below this a window has no room for its header, text and input line.
    if (canvas.rows() < 4 || canvas.columns() < 20)
        canvas.put(0, 0, std::wstring(L"terminal too small"));
    else
        window.onDraw(canvas);
    if (canvas.cursorPlaced()) {
        curs_set(1);
        wmove(stdscr, canvas.cursorRow(), canvas.cursorColumn());
    } else {
        curs_set(0);
    }
    wrefresh(stdscr);
}

void Screen::bell() { beep(); }

} // namespace peerchat::chatui
