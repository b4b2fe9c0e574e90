#include "OwnStatus.h"

#include "Utf8.h"


namespace peerchat {

OwnStatus::OwnStatus(SettingStore& store, std::chrono::minutes autoAway, TimePoint now)
    : _store(store), _idleLimit(autoAway), _lastActive(now)
{
    const auto settings = store.settings();
    if (const auto it = settings.find(kStateSetting); it != settings.end()) {
        if (const auto state = presenceStateFromToken(it->second)) _state = *state;
    }
    if (const auto it = settings.find(kTextSetting); it != settings.end()) _text = it->second;
}

std::string OwnStatus::set(PresenceState state, const std::string& text, TimePoint now)
{
    if (!Utf8::isValid(text)) return "the status message is not valid UTF-8";
    if (auto why = Protocol::checkStatus(text); !why.empty()) return why + "; write another";
    _store.saveSettings({{kStateSetting, std::string(presenceStateToken(state))}, {kTextSetting, text}});
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
    if (_idleLimit.count() == 0 || _state != PresenceState::Online || _autoAway) return std::nullopt;
    return _lastActive + _idleLimit;
}

} // namespace peerchat
