#include "Canvas.h"

#include "TextLayout.h"

#include <algorithm>

namespace peerchat::chatui {

namespace {

/// The highest pair number pairNumber() gives.
constexpr short kHighestPair = 12;

/// One colour pair per style that has a colour; 0 is the terminal's own.
short pairNumber(Style style)
{
    switch (style) {
    case Style::Header: return 1;
    case Style::Status: return 2;
    case Style::Alert: return 3;
    case Style::Self: return 4;
    case Style::Peer: return 5;
    case Style::Unread: return 6;
    case Style::Prompt: return 7;
    case Style::Delivered: return 8;
    case Style::Failed: return 9;
    case Style::Match: return 10;
    case Style::Unverified: return 11;
    case Style::Request: return 12;
    default: return 0;
    }
}

} // namespace

Canvas::Canvas(WINDOW* window, bool colours) : _window(window), _colours(colours) {}

bool Canvas::initColours()
{
    if (COLOR_PAIRS <= kHighestPair) return false;
    // -1 keeps the terminal's own background where the terminal allows it.
    const short background = use_default_colors() == OK ? -1 : COLOR_BLACK;
    init_pair(pairNumber(Style::Header), COLOR_WHITE, COLOR_BLUE);
    init_pair(pairNumber(Style::Status), COLOR_BLACK, COLOR_CYAN);
    init_pair(pairNumber(Style::Alert), COLOR_WHITE, COLOR_RED);
    init_pair(pairNumber(Style::Self), COLOR_GREEN, background);
    init_pair(pairNumber(Style::Peer), COLOR_CYAN, background);
    init_pair(pairNumber(Style::Unread), COLOR_YELLOW, background);
    init_pair(pairNumber(Style::Prompt), COLOR_GREEN, background);
    init_pair(pairNumber(Style::Delivered), COLOR_GREEN, background);
    init_pair(pairNumber(Style::Failed), COLOR_RED, background);
    init_pair(pairNumber(Style::Match), COLOR_BLACK, COLOR_YELLOW);
    init_pair(pairNumber(Style::Unverified), COLOR_YELLOW, background);
    init_pair(pairNumber(Style::Request), COLOR_BLACK, COLOR_YELLOW);
    return true;
}

int Canvas::rows() const { return getmaxy(_window); }

int Canvas::columns() const { return getmaxx(_window); }

short Canvas::pair(Style style) const { return _colours ? pairNumber(style) : 0; }

attr_t Canvas::attributes(Style style) const
{
    switch (style) {
    case Style::Normal: return A_NORMAL;
    case Style::Header: return _colours ? A_BOLD : (A_REVERSE | A_BOLD);
    case Style::Status: return _colours ? A_NORMAL : A_REVERSE;
    case Style::Alert: return _colours ? A_BOLD : (A_REVERSE | A_BOLD);
    case Style::Time: return A_DIM;
    case Style::Self:
    case Style::Peer:
    case Style::Prompt: return A_BOLD;
    case Style::Unread: return _colours ? A_BOLD : (A_BOLD | A_UNDERLINE);
    case Style::Selected: return A_REVERSE;
    case Style::Dim: return A_DIM;
    case Style::Delivered: return A_NORMAL;
    case Style::Failed: return A_BOLD;
    case Style::Match: return _colours ? A_NORMAL : A_REVERSE;
    case Style::Unverified: return A_BOLD;
    case Style::Section: return A_BOLD;
    case Style::Request: return _colours ? A_NORMAL : A_REVERSE;
    }
    return A_NORMAL;
}

int Canvas::put(int row, int column, std::wstring_view text, Style style, int maxColumns)
{
    int limit = columns() - column;
    if (maxColumns >= 0) limit = std::min(limit, maxColumns);
    if (row < 0 || row >= rows() || column < 0 || limit <= 0) return 0;

    const attr_t attr = attributes(style);
    const short colour = pair(style);
    int used = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const int w = TextLayout::charWidth(text[i]);
        if (w == 0) {
            ++i; // a combining mark with no character to sit on
            continue;
        }
        if (used + w > limit) break;
        // A cell holds its character and the combining marks that follow it.
        wchar_t cell[CCHARW_MAX + 1] = {};
        int length = 0;
        cell[length++] = TextLayout::displayChar(text[i++]);
        for (; i < text.size() && TextLayout::charWidth(text[i]) == 0; ++i)
            if (length < CCHARW_MAX) cell[length++] = TextLayout::displayChar(text[i]);
        cchar_t drawn;
        if (setcchar(&drawn, cell, attr, colour, nullptr) != OK) {
            cell[1] = L'\0';
            setcchar(&drawn, cell, attr, colour, nullptr);
        }
        mvwadd_wch(_window, row, column + used, &drawn);
        used += w;
    }
    return used;
}

int Canvas::put(int row, int column, std::string_view utf8, Style style, int maxColumns)
{
    return put(row, column, TextLayout::widen(utf8), style, maxColumns);
}

void Canvas::fillRow(int row, Style style)
{
    if (row < 0 || row >= rows()) return;
    const std::wstring blank(static_cast<std::size_t>(columns()), L' ');
    put(row, 0, blank, style);
}

void Canvas::placeCursor(int row, int column)
{
    _cursorRow = row;
    _cursorColumn = column;
}

} // namespace peerchat::chatui
