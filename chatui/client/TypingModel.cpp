#include "TypingModel.h"

namespace peerchat::chatui {

bool TypingModel::apply(const local::Event& event, Clock::time_point now)
{
    const bool before = typing(now);
    if (const auto* notice = std::get_if<local::TypingEvent>(&event)) {
        if (notice->peer == _peer) _until = now + kShownFor;
    } else if (const auto* message = std::get_if<local::MessageEvent>(&event)) {
        const local::ChatLine& line = message->line;
        if (line.conversation == ConversationId::direct(_peer) && !line.outgoing) _until.reset();
    }
    return typing(now) != before;
}

std::optional<TypingModel::Clock::time_point> TypingModel::endsAt(Clock::time_point now) const
{
    if (!typing(now)) return std::nullopt;
    return _until;
}

} // namespace peerchat::chatui
