#include "LineList.h"

#include "LineMark.h"

#include <algorithm>
#include <ctime>
#include <cwchar>

namespace peerchat::chatui {

namespace {

/// A time in ms since the epoch on this machine's clock, as clock asks.
std::wstring localTime(std::int64_t epochMs, LineList::Clock clock)
{
    const bool withDate = clock == LineList::Clock::DateAndTime;
    const std::time_t seconds = static_cast<std::time_t>(epochMs / 1000);
    std::tm local{};
    if (!::localtime_r(&seconds, &local)) return withDate ? L"---------- --:--:--" : L"--:--:--";
    wchar_t text[32];
    std::wcsftime(text, sizeof(text) / sizeof(text[0]), withDate ? L"%Y-%m-%d %H:%M:%S" : L"%H:%M:%S", &local);
    return text;
}

} // namespace

LineList::LineList(const std::vector<local::ChatLine>& lines, Clock clock) : _lines(lines), _clock(clock) {}

void LineList::reset()
{
    _layouts.clear();
    _scrollRows = 0;
}

void LineList::appended(std::size_t from)
{
    if (_scrollRows == 0 || _layoutWidth <= 0) return;
    for (std::size_t i = from; i < _lines.size(); ++i)
        _scrollRows += static_cast<int>(layoutOf(i, _layoutWidth).rows.size());
}

void LineList::setHighlight(Highlight highlight)
{
    _highlight = std::move(highlight);
    _layouts.clear();
}

void LineList::scrollBy(int rows) { _scrollRows = std::max(_scrollRows + rows, 0); }

const LineList::Layout& LineList::layoutOf(std::size_t index, int width)
{
    if (width != _layoutWidth || _layouts.size() > _lines.size()) {
        _layouts.clear();
        _layoutWidth = width;
    }
    while (_layouts.size() <= index) {
        const auto& line = _lines[_layouts.size()];
        Layout layout;
        layout.time = localTime(line.receivedAtMs, _clock) + L" ";
        layout.sender = TextLayout::widen(line.from);
        layout.outgoing = line.outgoing;
        // The mark and a space stand between the time and the sender.
        layout.textColumn = TextLayout::width(layout.time) + 2 + TextLayout::width(layout.sender) + 2;
        // Continuation rows line up under the text unless the prefix eats half the width.
        layout.indent = layout.textColumn <= width / 2 ? layout.textColumn : 2;
        const std::wstring text = TextLayout::widen(line.text);
        if (width - layout.textColumn >= 8) {
            layout.rows = TextLayout::wrapRows(text, width - layout.textColumn, width - layout.indent);
        } else {
            layout.textColumn = layout.indent;
            layout.rows = TextLayout::wrapRows(text, width - layout.indent, width - layout.indent);
            layout.rows.insert(layout.rows.begin(), TextLayout::Row{});
        }
        layout.highlighted = _highlight.mark(text);
        _layouts.push_back(std::move(layout));
    }
    return _layouts[index];
}

int LineList::totalRows(int width)
{
    int total = 0;
    for (std::size_t i = 0; i < _lines.size(); ++i) total += static_cast<int>(layoutOf(i, width).rows.size());
    return total;
}

void LineList::draw(Canvas& canvas, int top, int height)
{
    _pageRows = std::max(height, 1);
    const int width = canvas.columns();
    if (height <= 0 || width <= 0) return;

    const int total = totalRows(width);
    _scrollRows = std::min(_scrollRows, std::max(total - height, 0));
    const int first = std::max(total - height - _scrollRows, 0);
    int row = 0;
    for (std::size_t i = 0; i < _lines.size() && row < first + height; ++i) {
        const Layout& layout = layoutOf(i, width);
        for (std::size_t k = 0; k < layout.rows.size(); ++k, ++row) {
            if (row < first || row >= first + height) continue;
            const int y = top + row - first;
            if (k == 0) {
                const local::ChatLine& line = _lines[i];
                int x = canvas.put(y, 0, layout.time, Style::Time);
                x += canvas.put(y, x, std::wstring(1, LineMark::glyph(line)) + L" ", LineMark::style(line));
                x += canvas.put(y, x, layout.sender, layout.outgoing ? Style::Self : Style::Peer);
                canvas.put(y, x, std::wstring(L": "));
            }
            drawText(canvas, y, k == 0 ? layout.textColumn : layout.indent, layout, k);
        }
    }
}

void LineList::drawText(Canvas& canvas, int y, int x, const Layout& layout, std::size_t row) const
{
    const TextLayout::Row& shown = layout.rows[row];
    if (layout.highlighted.empty()) {
        canvas.put(y, x, shown.text);
        return;
    }
    // Runs of highlighted and plain characters; a combining mark stays with
    // the character it sits on.
    const std::wstring_view text = shown.text;
    std::size_t begin = 0;
    while (begin < text.size()) {
        const bool on = layout.highlighted[shown.start + begin];
        std::size_t end = begin + 1;
        while (end < text.size()
               && (layout.highlighted[shown.start + end] == on || TextLayout::charWidth(text[end]) == 0))
            ++end;
        x += canvas.put(y, x, text.substr(begin, end - begin), on ? Style::Match : Style::Normal);
        begin = end;
    }
}

} // namespace peerchat::chatui
