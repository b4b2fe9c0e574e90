#include "InputLine.h"

#include "TextLayout.h"

#include <algorithm>
#include <cstdint>

namespace peerchat::chatui {

namespace {

std::size_t utf8Length(wchar_t c)
{
    const auto point = static_cast<std::uint32_t>(c);
    if (point < 0x80) return 1;
    if (point < 0x800) return 2;
    if (point < 0x10000) return 3;
    return 4;
}

bool isSpace(wchar_t c) { return c == L' ' || c == L'\t' || c == L'\u3000'; }

} // namespace

InputLine::InputLine(std::size_t maxBytes) : _maxBytes(maxBytes) {}

bool InputLine::insert(wchar_t c)
{
    const auto point = static_cast<std::uint32_t>(c);
    const bool control = point < 0x20 || (point >= 0x7f && point < 0xa0);
    const bool notUnicode = point > 0x10ffff || (point >= 0xd800 && point < 0xe000);
    if (control || notUnicode || !fits(c)) return false;
    _text.insert(_cursor, 1, c);
    ++_cursor;
    _bytes += utf8Length(c);
    return true;
}

bool InputLine::fits(wchar_t c) const { return _bytes + utf8Length(c) <= _maxBytes; }

void InputLine::moveLeft()
{
    if (_cursor > 0) --_cursor;
}

void InputLine::moveRight()
{
    if (_cursor < _text.size()) ++_cursor;
}

void InputLine::moveHome() { _cursor = 0; }

void InputLine::moveEnd() { _cursor = _text.size(); }

void InputLine::erase(std::size_t from, std::size_t to)
{
    for (std::size_t i = from; i < to; ++i) _bytes -= utf8Length(_text[i]);
    _text.erase(from, to - from);
    _cursor = from;
}

void InputLine::deleteBefore()
{
    if (_cursor > 0) erase(_cursor - 1, _cursor);
}

void InputLine::deleteAt()
{
    if (_cursor < _text.size()) erase(_cursor, _cursor + 1);
}

void InputLine::killToStart() { erase(0, _cursor); }

void InputLine::killToEnd() { erase(_cursor, _text.size()); }

void InputLine::killWordBefore()
{
    std::size_t from = _cursor;
    while (from > 0 && isSpace(_text[from - 1])) --from;
    while (from > 0 && !isSpace(_text[from - 1])) --from;
    erase(from, _cursor);
}

std::wstring InputLine::take()
{
    std::wstring taken;
    taken.swap(_text);
    _cursor = 0;
    _bytes = 0;
    _scroll = 0;
    return taken;
}

InputLine::View InputLine::view(int columns)
{
    columns = std::max(columns, 1);
    // The cursor needs its own cell: the character under it, or one blank at the end.
    const auto cursorCell = [&] { return _cursor < _text.size() ? TextLayout::charWidth(_text[_cursor]) : 1; };
    const auto widthBetween = [&](std::size_t from, std::size_t to) {
        return TextLayout::width(std::wstring_view(_text).substr(from, to - from));
    };

    _scroll = std::min(_scroll, _cursor);
    while (_scroll < _cursor && widthBetween(_scroll, _cursor) + cursorCell() > columns) ++_scroll;
    // Scroll back when text was deleted and more of the start fits again.
    while (_scroll > 0 && widthBetween(_scroll - 1, _text.size()) + (_cursor == _text.size() ? 1 : 0) <= columns)
        --_scroll;

    View view;
    view.cursorColumn = widthBetween(_scroll, _cursor);
    view.text = TextLayout::fit(std::wstring_view(_text).substr(_scroll), columns);
    return view;
}

} // namespace peerchat::chatui
