#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat::chatui {

/// How text takes up terminal cells: conversion between the UTF-8 of the
/// wire and the wide strings ncurses draws, the width of each character
/// (wcwidth, so the locale must be a UTF-8 one), and wrapping at a column.
/// Nothing received is drawn as it came: control characters (bidirectional
/// overrides included) and characters wcwidth cannot measure become U+FFFD,
/// tabs become spaces.
class TextLayout
{
public:
    /// Drawn in place of a character that must not reach the terminal.
    static constexpr wchar_t kReplacement = L'\uFFFD';

    /// One display row of wrapped text.
    struct Row
    {
        std::wstring text;     ///< sanitized, one character per character of the source
        std::size_t start = 0; ///< index in the source of the row's first character
    };

    /// UTF-8 to a wide string; bytes that are not UTF-8 become U+FFFD.
    static std::wstring widen(std::string_view utf8);
    /// A wide string to UTF-8; invalid code points become U+FFFD.
    static std::string narrow(std::wstring_view wide);

    /// The character a terminal is given for c: c itself when printable,
    /// a space for a tab or newline, U+FFFD for anything else.
    static wchar_t displayChar(wchar_t c);
    /// Columns displayChar(c) takes: 0 for combining marks, 2 for CJK, else 1.
    static int charWidth(wchar_t c);
    /// Columns text takes.
    static int width(std::wstring_view text);

    /// text with every character replaced by its displayChar.
    static std::wstring sanitize(std::wstring_view text);
    /// The longest prefix of sanitize(text) that fits in columns.
    static std::wstring fit(std::wstring_view text, int columns);

    /// Splits text into display rows: the first at most firstColumns wide,
    /// the others at most restColumns. Breaks after a space when the row has
    /// one, else between characters (never inside one); a newline always
    /// breaks. Rows are sanitized. Always at least one row.
    static std::vector<std::wstring> wrap(std::wstring_view text, int firstColumns, int restColumns);
    /// wrap(), with where each row starts in text: row.text[i] shows
    /// text[row.start + i] (the spaces and newlines rows break at are dropped).
    static std::vector<Row> wrapRows(std::wstring_view text, int firstColumns, int restColumns);
};

} // namespace peerchat::chatui
