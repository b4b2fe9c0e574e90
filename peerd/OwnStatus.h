#pragma once

#include "SettingStore.h"
#include "Protocol.h"
#include "Timers.h"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace peerchat {

/// The identity's own state (online, away, busy, invisible) and status
/// message, as the user set them from any window, kept across restarts in
/// the store's settings; and auto-away: after a given idle time across all
/// of the identity's windows (off by default), an identity that is online
/// shows away until a window is used again. State only: the caller reports
/// activity and the time, and asks when the next idle check is due.
class OwnStatus
{
public:
    using TimePoint = Timers::TimePoint;

    /// The settings that keep the state (its token: presenceStateToken) and the message.
    static constexpr const char* kStateSetting = "status.state";
    static constexpr const char* kTextSetting = "status.text";

    /// Loads what the store keeps; autoAway zero: never away by itself. now
    /// counts as the last activity.
    OwnStatus(SettingStore& store, std::chrono::minutes autoAway, TimePoint now);

    /// The user sets state and text (valid UTF-8, at most
    /// Protocol::kMaxStatusCharacters): an error for a person, nothing changed, or
    /// empty. Setting counts as activity.
    std::string set(PresenceState state, const std::string& text, TimePoint now);

    /// A window was used at now; true when that ended an automatic away.
    bool active(TimePoint now);

    /// The idle time passed at now: true when the identity went away by itself now.
    bool idle(TimePoint now);

    /// When the identity goes away by itself unless a window is used before:
    /// nullopt when it cannot (auto-away off, not online, or away already).
    std::optional<TimePoint> awayAt() const;

    /// What others are to see: the state set, or away while away by itself.
    PresenceState state() const { return _autoAway ? PresenceState::Away : _state; }
    const std::string& text() const { return _text; }
    /// True while away by itself (idle), not by the user's choice.
    bool autoAway() const { return _autoAway; }

private:
    SettingStore& _store;
    std::chrono::minutes _idleLimit;
    PresenceState _state = PresenceState::Online;
    std::string _text;
    TimePoint _lastActive;
    bool _autoAway = false;
};

} // namespace peerchat
