#include "InfoPanel.h"

#include "TextLayout.h"

namespace peerchat::chatui {

void InfoPanel::show(std::string title, std::vector<std::string> lines)
{
    _title = std::move(title);
    _lines = std::move(lines);
}

void InfoPanel::clear()
{
    _title.clear();
    _lines.clear();
}

int InfoPanel::draw(Canvas& canvas, int top, int maxRows) const
{
    if (!shown() || maxRows <= 0) return 0;
    canvas.fillRow(top, Style::Status);
    canvas.put(top, 1, _title + "  (Esc closes)", Style::Status);
    int used = 1;
    // A line that wraps goes on indented, so each line reads as one.
    const int width = canvas.columns() - 1;
    for (const auto& line : _lines) {
        const auto rows = TextLayout::wrap(TextLayout::widen(line), width - 1, width - 3);
        for (std::size_t k = 0; k < rows.size(); ++k, ++used) {
            if (used >= maxRows) return used;
            canvas.put(top + used, k == 0 ? 1 : 3, rows[k]);
        }
    }
    // A blank row sets the panel apart from the lines under it.
    return used < maxRows ? used + 1 : used;
}

} // namespace peerchat::chatui
