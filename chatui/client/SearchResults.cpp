#include "SearchResults.h"

#include "ConversationModel.h"

namespace peerchat::chatui {

local::SearchRequest SearchResults::start(std::string text)
{
    clear();
    _phase = Phase::Waiting;
    _text = std::move(text);
    return local::SearchRequest{_conversation, _text};
}

void SearchResults::clear()
{
    _phase = Phase::Idle;
    _text.clear();
    _lines.clear();
    _refusal.clear();
}

bool SearchResults::apply(const local::Event& event)
{
    if (const auto* found = std::get_if<local::FoundEvent>(&event)) {
        // A reply to a search this one replaced is stale.
        if (_phase != Phase::Waiting || found->conversation != _conversation || found->text != _text) return false;
        _lines = found->lines;
        _phase = Phase::Found;
        return true;
    }
    if (const auto* error = std::get_if<local::ErrorEvent>(&event)) {
        if (_phase != Phase::Waiting || error->op != "search") return false;
        _refusal = error->message;
        _phase = Phase::Refused;
        return true;
    }
    if (const auto* status = std::get_if<local::StatusEvent>(&event)) {
        return status->conversation == _conversation && ConversationModel::restate(_lines, *status);
    }
    return false;
}

} // namespace peerchat::chatui
