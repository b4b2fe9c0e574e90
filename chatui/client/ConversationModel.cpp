#include "ConversationModel.h"

namespace peerchat::chatui {

ConversationModel::Change ConversationModel::apply(const local::Event& event)
{
    if (const auto* history = std::get_if<local::HistoryEvent>(&event)) {
        if (history->peer != _peer) return Change::None;
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
