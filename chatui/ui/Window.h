#pragma once

#include "Canvas.h"
#include "Key.h"
#include "LocalProtocol.h"

#include <chrono>
#include <optional>

namespace peerchat::chatui {

/// One screen of chatui (the roster, a conversation). The application owns
/// the loop: it hands every key to the window on top, every event from
/// peerd to every open window, and asks the top one to draw itself.
/// Windows only draw state; they reach peerd through their WindowHost.
class Window
{
public:
    using Clock = std::chrono::steady_clock;

    virtual ~Window() = default;

    /// The window was put on the screen.
    virtual void onOpen() {}
    /// A key typed while this window is on top.
    virtual void onKey(const Key& key) = 0;
    /// Draws the whole window; the canvas starts blank.
    virtual void onDraw(Canvas& canvas) = 0;
    /// An event from peerd, after the shared roster took it in.
    virtual void onEvent(const local::Event& event) = 0;
    /// The connection to peerd was lost (a reconnect starts with a welcome event).
    virtual void onDisconnected() {}
    /// When what the window shows next changes by itself, with no key or
    /// event (a notice that runs out), if that is after now; else nullopt.
    /// The loop wakes then to draw it again.
    virtual std::optional<Clock::time_point> changesAt([[maybe_unused]] Clock::time_point now) const { return std::nullopt; }
};

} // namespace peerchat::chatui
