#pragma once

#include "Canvas.h"
#include "Highlight.h"
#include "LocalProtocol.h"
#include "TextLayout.h"

#include <cstddef>
#include <string>
#include <vector>

namespace peerchat::chatui {

/// Chat lines as a window shows them: each with its time, its mark
/// (LineMark: the state of an own line, ? on an unverified one), who wrote
/// it, and its text wrapped in line with the first row; the newest at the
/// bottom, scrolled back by display rows.
/// It draws lines a model owns, laid out again only when the width changes
/// or it is told the lines did.
class LineList
{
public:
    /// How a line's time shows.
    enum class Clock
    {
        TimeOfDay,  ///< 12:00:01
        DateAndTime ///< 2026-05-01 12:00:01
    };

    /// lines: the model's, which must outlive this list.
    LineList(const std::vector<local::ChatLine>& lines, Clock clock);

    /// The lines were replaced: lay them out afresh and follow the newest.
    void reset();
    /// Lines from index from on were appended: a reader scrolled back keeps
    /// seeing the same lines.
    void appended(std::size_t from);
    /// Highlights what highlight looks for (lays every line out again).
    void setHighlight(Highlight highlight);

    /// Scrolls back by rows (forward when negative), never past the newest.
    void scrollBy(int rows);
    /// Back to the newest line, following new ones.
    void followNewest() { _scrollRows = 0; }
    /// Display rows scrolled back from the newest; 0 follows new lines.
    int scrolledRows() const { return _scrollRows; }
    /// Rows the last draw had, for paging.
    int pageRows() const { return _pageRows; }

    /// Draws the lines that fit in rows top .. top + height - 1, each with
    /// its mark as it stands now.
    void draw(Canvas& canvas, int top, int height);

private:
    /// One line laid out for the current width.
    struct Layout
    {
        std::wstring time;
        std::wstring sender;
        bool outgoing = false;
        int textColumn = 0;                ///< where the text starts on the first row
        int indent = 0;                    ///< where it starts on the others
        std::vector<TextLayout::Row> rows; ///< the wrapped text
        std::vector<bool> highlighted;     ///< per character of the text; empty when nothing is
    };

    const Layout& layoutOf(std::size_t index, int width);
    int totalRows(int width);
    void drawText(Canvas& canvas, int y, int x, const Layout& layout, std::size_t row) const;

    const std::vector<local::ChatLine>& _lines;
    Clock _clock;
    Highlight _highlight;
    int _scrollRows = 0;
    int _pageRows = 1;
    /// Layouts of the lines at _layoutWidth, filled on demand.
    int _layoutWidth = -1;
    std::vector<Layout> _layouts;
};

} // namespace peerchat::chatui
