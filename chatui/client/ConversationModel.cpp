#include "ConversationModel.h"

namespace peerchat::chatui {

ConversationModel::Change ConversationModel::apply(const local::Event& event)
{
    if (const auto* history = std::get_if<local::HistoryEvent>(&event)) {
        if (history->peer != _peer) return Change::None;
        _lines = history->lines;
        _loaded = true;
        return Change::Replaced;
    }
    if (const auto* message = std::get_if<local::MessageEvent>(&event)) {
        const auto& line = message->line;
        if (line.peer != _peer) return Change::None;
        // ids grow in the order peerd stored the lines, so a line at or below
        // the last id is one the history already brought.
        if (!_lines.empty() && line.id <= _lines.back().id) return Change::None;
        _lines.push_back(line);
        return Change::Appended;
    }
    return Change::None;
}

} // namespace peerchat::chatui
