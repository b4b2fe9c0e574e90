#pragma once

#include "WireListener.h"

namespace peerchat::test {

/// A WireListener that takes every event and does nothing with it: a test
/// overrides the events it watches.
struct SilentListener : WireListener
{
    void linkStateChanged(local::LinkState, const std::string&) override {}
    void presenceChanged(const Roster::Change&) override {}
    void lineReceived(const local::ChatLine&, std::uint32_t) override {}
    void lineStateChanged(const std::string&, std::uint64_t, local::LineState) override {}
    void deliveryProblem(const std::string&, const std::string&) override {}
    void trustChanged(const std::string&, local::Trust) override {}
    void pathChanged(const std::string&, PathKind) override {}
    void contactChanged(const std::string&, const ContactRecord&) override {}
    void contactProblem(const std::string&, const std::string&) override {}
    void peerTyping(const std::string&) override {}
    void ownStatusChanged() override {}
};

} // namespace peerchat::test
