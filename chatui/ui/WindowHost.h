#pragma once

#include "LocalProtocol.h"
#include "RosterModel.h"

#include <memory>
#include <string>

namespace peerchat::chatui {

class Window;

/// What a window may ask of the application around it.
class WindowHost
{
public:
    virtual ~WindowHost() = default;

    /// Sends a request to peerd; false while peerd is unreachable.
    virtual bool send(const local::Request& request) = 0;
    /// True while connected to peerd.
    virtual bool connected() const = 0;
    /// Why peerd is unreachable, in a few words.
    virtual std::string connectionProblem() const = 0;
    /// The identity's roster, shared by every window.
    virtual const RosterModel& roster() const = 0;

    /// Puts window on top of the others; it gets the keys until it closes.
    virtual void open(std::unique_ptr<Window> window) = 0;
    /// Closes the window on top; chatui ends when none is left.
    virtual void closeTop() = 0;
    /// Ends chatui.
    virtual void quit() = 0;
};

} // namespace peerchat::chatui
