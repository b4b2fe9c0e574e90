#pragma once

#include <cstddef>
#include <string>

namespace peerchat::chatui {

/// The text being typed, as a wide string with a cursor, and the editing a
/// shell line offers: move by character and to either end, delete before or
/// at the cursor, kill to the start (Ctrl-U) or the word before (Ctrl-W).
/// Knows widths but not ncurses: view() says which part of a long line
/// fits in the columns the window has, scrolled to keep the cursor in sight.
class InputLine
{
public:
    /// What to draw: the visible part of the text and the cursor's column in it.
    struct View
    {
        std::wstring text;
        int cursorColumn = 0;
    };

    /// maxBytes bounds the text's UTF-8 length (a chat message's limit).
    explicit InputLine(std::size_t maxBytes);

    /// Inserts c at the cursor; false (nothing changes) for a control
    /// character or when the text would exceed maxBytes.
    bool insert(wchar_t c);

    /// True when c would not take the text past maxBytes.
    bool fits(wchar_t c) const;

    void moveLeft();
    void moveRight();
    void moveHome();
    void moveEnd();

    /// Backspace: removes the character before the cursor.
    void deleteBefore();
    /// Delete: removes the character at the cursor.
    void deleteAt();
    /// Ctrl-U: removes everything before the cursor.
    void killToStart();
    /// Ctrl-K: removes everything from the cursor on.
    void killToEnd();
    /// Ctrl-W: removes the spaces before the cursor, then the word before them.
    void killWordBefore();

    /// Returns the text and empties the line.
    std::wstring take();

    const std::wstring& text() const { return _text; }
    /// The cursor as an index into text() (0 .. size).
    std::size_t cursor() const { return _cursor; }
    bool empty() const { return _text.empty(); }
    /// The text's length in UTF-8 bytes.
    std::size_t bytes() const { return _bytes; }

    /// The part of the text to show in columns columns. Scrolls only as far as
    /// needed to keep the cursor (and the cell after it) visible.
    View view(int columns);

private:
    void erase(std::size_t from, std::size_t to);

    std::size_t _maxBytes;
    std::wstring _text;
    std::size_t _cursor = 0;
    std::size_t _bytes = 0;
    /// Index of the first character shown by view().
    std::size_t _scroll = 0;
};

} // namespace peerchat::chatui
