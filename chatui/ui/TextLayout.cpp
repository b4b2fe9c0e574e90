#include "TextLayout.h"

#include "Utf8.h"

#include <algorithm>
#include <cwchar>

namespace peerchat::chatui {

namespace {

/// C0, DEL and C1 controls, and the bidirectional overrides and isolates,
/// which could make a terminal show a line in another order than it holds.
bool isControl(wchar_t c)
{
    return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x061c || c == 0x200e || c == 0x200f
           || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

} // namespace

std::wstring TextLayout::widen(std::string_view utf8)
{
    std::wstring wide;
    if (auto points = Utf8::decode(utf8)) {
        wide.reserve(points->size());
        for (char32_t c : *points) wide.push_back(static_cast<wchar_t>(c));
        return wide;
    }
    // Not UTF-8 (it never should be): decode what is valid, byte by byte.
    std::size_t i = 0;
    while (i < utf8.size()) {
        std::size_t length = 1;
        const auto lead = static_cast<unsigned char>(utf8[i]);
        if (lead >= 0xf0)
            length = 4;
        else if (lead >= 0xe0)
            length = 3;
        else if (lead >= 0xc0)
            length = 2;
        length = std::min(length, utf8.size() - i);
        auto one = Utf8::decode(utf8.substr(i, length));
        if (one && one->size() == 1) {
            wide.push_back(static_cast<wchar_t>((*one)[0]));
            i += length;
        } else {
            wide.push_back(kReplacement);
            i += 1;
        }
    }
    return wide;
}

std::string TextLayout::narrow(std::wstring_view wide)
{
    std::string utf8;
    utf8.reserve(wide.size());
    for (wchar_t c : wide) Utf8::append(utf8, static_cast<char32_t>(c));
    return utf8;
}

wchar_t TextLayout::displayChar(wchar_t c)
{
    if (c == L'\t' || c == L'\n') return L' ';
    if (isControl(c) || ::wcwidth(c) < 0) return kReplacement;
    return c;
}

int TextLayout::charWidth(wchar_t c)
{
    const int w = ::wcwidth(displayChar(c));
    return w < 0 ? 1 : w;
}

int TextLayout::width(std::wstring_view text)
{
    int total = 0;
    for (wchar_t c : text) total += charWidth(c);
    return total;
}

std::wstring TextLayout::sanitize(std::wstring_view text)
{
    std::wstring shown;
    shown.reserve(text.size());
    for (wchar_t c : text) shown.push_back(displayChar(c));
    return shown;
}

std::wstring TextLayout::fit(std::wstring_view text, int columns)
{
    std::wstring shown;
    int used = 0;
    for (wchar_t c : text) {
        const int w = charWidth(c);
        if (used + w > columns) break;
        shown.push_back(displayChar(c));
        used += w;
    }
    return shown;
}

std::vector<std::wstring> TextLayout::wrap(std::wstring_view text, int firstColumns, int restColumns)
{
    std::vector<std::wstring> rows;
    for (auto& row : wrapRows(text, firstColumns, restColumns)) rows.push_back(std::move(row.text));
    return rows;
}

std::vector<TextLayout::Row> TextLayout::wrapRows(std::wstring_view text, int firstColumns, int restColumns)
{
    std::vector<Row> rows;
    Row row;
    int rowWidth = 0;
    int limit = std::max(firstColumns, 1);
    // Where the row may break: just after its last space, 0 when it has none.
    std::size_t breakAt = 0;

    // Ends the row; the next one starts at next in text, with the row's characters from carryFrom on.
    const auto finishRow = [&](std::size_t carryFrom, std::size_t next) {
        Row carried{row.text.substr(carryFrom), next - (row.text.size() - carryFrom)};
        row.text.resize(carryFrom);
        rows.push_back(std::move(row));
        row = std::move(carried);
        rowWidth = width(row.text);
        limit = std::max(restColumns, 1);
        breakAt = 0;
    };

    for (std::size_t i = 0; i < text.size(); ++i) {
        const wchar_t c = text[i];
        if (c == L'\n') {
            finishRow(row.text.size(), i + 1);
            continue;
        }
        const int w = charWidth(c);
        if (rowWidth + w > limit && !row.text.empty()) {
            // A space that does not fit is the break itself.
            if (c == L' ') {
                finishRow(row.text.size(), i + 1);
                continue;
            }
            finishRow(breakAt > 0 && breakAt < row.text.size() ? breakAt : row.text.size(), i);
        }
        row.text.push_back(displayChar(c));
        rowWidth += w;
        if (c == L' ') breakAt = row.text.size();
    }
    rows.push_back(std::move(row));
    return rows;
}

} // namespace peerchat::chatui
