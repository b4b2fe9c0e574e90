#pragma once

#include <string>

namespace peerchat {

/// What a DaemonApplication serves: everything a daemon binds, run on one
/// thread until stopped.
class DaemonService
{
public:
    virtual ~DaemonService() = default;

    /// The line scripts and tests wait for ("indexd ready udp=..."), with
    /// the real ports.
    virtual std::string readyLine() const = 0;

    /// Serves until stop(); called once, from the thread that owns the loop.
    virtual void run() = 0;

    /// Makes run() return; safe from any thread.
    virtual void stop() = 0;
};

} // namespace peerchat
