#include "OwnStatus.h"

#include "Utf8.h"

#include <array>
#include <utility>

namespace peerchat {

namespace {

constexpr std::array<std::pair<OwnStatus::State, std::string_view>, 4> kStates{{
    {OwnStatus::State::Online, "online"},
    {OwnStatus::State::Away, "away"},
    {OwnStatus::State::Busy, "busy"},
    {OwnStatus::State::Invisible, "invisible"},
}};

} // namespace

std::string_view OwnStatus::token(State state)
{
    for (const auto& [known, name] : kStates) {
        if (known == state) return name;
    }
    return "online";
}

std::optional<OwnStatus::State> OwnStatus::fromToken(std::string_view token)
{
    for (const auto& [state, name] : kStates) {
        if (name == token) return state;
    }
    return std::nullopt;
}

OwnStatus::OwnStatus(ConversationStore& store, std::chrono::minutes autoAway, TimePoint now)
    : _store(store), _idleLimit(autoAway), _lastActive(now)
{
    const auto settings = store.settings();
    if (const auto it = settings.find(kStateSetting); it != settings.end()) {
        if (const auto state = fromToken(it->second)) _state = *state;
    }
    if (const auto it = settings.find(kTextSetting); it != settings.end()) _text = it->second;
}

std::string OwnStatus::set(State state, const std::string& text, TimePoint now)
{
    if (!Utf8::isValid(text)) return "the status message is not valid UTF-8";
    if (Utf8::codePoints(text) > Protocol::kMaxStatusCharacters)
        return "the status message is longer than " + std::to_string(Protocol::kMaxStatusCharacters) +
               " characters; write a shorter one";
    if (text.find('\0') != std::string::npos) return "the status message has a NUL character";
    _store.saveSettings({{kStateSetting, std::string(token(state))}, {kTextSetting, text}});
    _state = state;
    _text = text;
    _autoAway = false;
    _lastActive = now;
    return {};
}

bool OwnStatus::active(TimePoint now)
{
    _lastActive = now;
    if (!_autoAway) return false;
    _autoAway = false;
    return true;
}

bool OwnStatus::idle(TimePoint now)
{
    const std::optional<TimePoint> due = awayAt();
    if (!due || now < *due) return false;
    _autoAway = true;
    return true;
}

std::optional<OwnStatus::TimePoint> OwnStatus::awayAt() const
{
    if (_idleLimit.count() == 0 || _state != State::Online || _autoAway) return std::nullopt;
    return _lastActive + _idleLimit;
}

} // namespace peerchat
