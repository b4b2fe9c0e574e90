#pragma once

#include <curses.h>

#include <string>
#include <string_view>

namespace peerchat::chatui {

/// What a piece of text is, so the screen can colour it (or, without
/// colours, make it bold, dim or reverse).
enum class Style
{
    Normal,
    Header,   ///< the top line
    Status,   ///< the status line when all is well
    Alert,    ///< the status line when something is wrong
    Time,
    Self,     ///< this identity's name
    Peer,     ///< another user's name
    Unread,   ///< an unread count and the user it belongs to
    Selected, ///< the roster's selected row
    Dim,      ///< offline users, hints, marks of lines on their way
    Prompt,
    Delivered, ///< the mark of a delivered line
    Failed,    ///< the mark of a line not yet delivered
    Match,     ///< what a search found, in a found line
    Unverified, ///< the mark of an unverified line, and of a peer whose key is not to be trusted
    Section,    ///< a heading of the roster (Contacts online, Requests...)
    Request     ///< a contact request waiting for an answer, in a conversation
};

/// Where a window draws: the whole terminal, row 0 at the top. Every string
/// goes through TextLayout on its way in, so nothing a peer sent reaches the
/// terminal raw, and nothing is drawn past the right edge.
class Canvas
{
public:
    /// colours: the terminal has them and the screen set up its pairs.
    Canvas(WINDOW* window, bool colours);

    int rows() const;
    int columns() const;

    /// Draws text at (row, column), at most maxColumns wide (to the right
    /// edge when negative); returns the columns it took.
    int put(int row, int column, std::wstring_view text, Style style = Style::Normal, int maxColumns = -1);
    /// The same for UTF-8 text.
    int put(int row, int column, std::string_view utf8, Style style = Style::Normal, int maxColumns = -1);
    /// Paints a whole row blank in style (for header and status lines).
    void fillRow(int row, Style style);

    /// Where the terminal's cursor should stand after drawing; hidden unless set.
    void placeCursor(int row, int column);
    bool cursorPlaced() const { return _cursorRow >= 0; }
    int cursorRow() const { return _cursorRow; }
    int cursorColumn() const { return _cursorColumn; }

    /// Sets up the colour pairs this canvas uses, after start_color(); false
    /// (draw without colours) when the terminal has too few pairs.
    static bool initColours();

private:
    attr_t attributes(Style style) const;
    short pair(Style style) const;

    WINDOW* _window;
    bool _colours;
    int _cursorRow = -1;
    int _cursorColumn = -1;
};

} // namespace peerchat::chatui
