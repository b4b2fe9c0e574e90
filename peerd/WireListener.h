#pragma once

#include "LocalProtocol.h"
#include "Roster.h"

#include <cstdint>
#include <string>

namespace peerchat {

/// What WireLink reports after the wire changed peerd's state; UiServer turns
/// each report into events for the attached UIs, tests record them.
class WireListener
{
public:
    virtual ~WireListener() = default;

    /// The link to indexd is now in state; detail says why, for a person.
    virtual void linkStateChanged(local::LinkState state, const std::string& detail) = 0;

    /// A user came online, moved to another endpoint, or left.
    virtual void presenceChanged(const Roster::Change& change) = 0;

    /// A peer's talk was stored as line; unread is that conversation's new unread count.
    virtual void lineReceived(const local::ChatLine& line, std::uint32_t unread) = 0;
};

} // namespace peerchat
