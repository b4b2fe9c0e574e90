#include "ConversationModel.h"

#include <algorithm>

namespace peerchat::chatui {

std::size_t ConversationModel::count(local::LineState state) const
{
    return static_cast<std::size_t>(
        std::count_if(_lines.begin(), _lines.end(), [state](const local::ChatLine& line) { return line.state == state; }));
}

std::size_t ConversationModel::unverified() const
{
    return static_cast<std::size_t>(
        std::count_if(_lines.begin(), _lines.end(), [](const local::ChatLine& line) { return !line.verified; }));
}

bool ConversationModel::restate(std::vector<local::ChatLine>& lines, const local::StatusEvent& status)
{
    const auto line = std::lower_bound(lines.begin(), lines.end(), status.id,
                                       [](const local::ChatLine& held, std::uint64_t id) { return held.id < id; });
    if (line == lines.end() || line->id != status.id || line->state == status.state) return false;
    line->state = status.state;
    return true;
}

ConversationModel::Change ConversationModel::apply(const local::Event& event)
{
    if (const auto* history = std::get_if<local::HistoryEvent>(&event)) {
        if (history->conversation != _conversation) return Change::None;
        // peerd splits a long history into several events, oldest first; one
        // that goes on after the last line held continues the same reply.
        const bool continues = _loaded && !history->lines.empty() && !_lines.empty()
                               && history->lines.front().id > _lines.back().id;
        _loaded = true;
        if (continues) {
            _lines.insert(_lines.end(), history->lines.begin(), history->lines.end());
            return Change::Appended;
        }
        _lines = history->lines;
        return Change::Replaced;
    }
    if (const auto* message = std::get_if<local::MessageEvent>(&event)) {
        const auto& line = message->line;
        if (line.conversation != _conversation) return Change::None;
        // ids grow in the order peerd stored the lines, so a line at or below
        // the last id is one the history already brought.
        if (!_lines.empty() && line.id <= _lines.back().id) return Change::None;
        _lines.push_back(line);
        return Change::Appended;
    }
    if (const auto* status = std::get_if<local::StatusEvent>(&event)) {
        if (status->conversation != _conversation) return Change::None;
        return restate(_lines, *status) ? Change::Restated : Change::None;
    }
    return Change::None;
}

} // namespace peerchat::chatui
