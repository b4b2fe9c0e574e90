#pragma once

#include "ContactRecord.h"
#include "LocalProtocol.h"
#include "PeerPaths.h"
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

    /// A user came online, moved to another endpoint, changed its state or status message, or left.
    virtual void presenceChanged(const Roster::Change& change) = 0;

    /// A peer's message was stored as line; unread is that conversation's new unread count.
    virtual void lineReceived(const local::ChatLine& line, std::uint32_t unread) = 0;

    /// Line id of the conversation with peer is now in state (delivered, stored, failed, sent).
    virtual void lineStateChanged(const std::string& peer, std::uint64_t id, local::LineState state) = 0;

    /// Lines to peer cannot go the way they should; detail says why and what happens to them, for a person.
    virtual void deliveryProblem(const std::string& peer, const std::string& detail) = 0;

    /// The trust in peer's identity key changed (KeyPins::see returned Changed
    /// for a key not offered before, or the user trusted the offered key).
    virtual void trustChanged(const std::string& peer, local::Trust trust) = 0;

    /// Datagrams reach peer another way now (PeerPaths).
    virtual void pathChanged(const std::string& peer, PathKind path) = 0;

    /// How the user stands with name changed (a change of the user's, or a
    /// letter from name); record is how it stands now.
    virtual void contactChanged(const std::string& name, const ContactRecord& record) = 0;

    /// A change of the user's to name cannot go as it should; detail says why and what to do, for a person.
    virtual void contactProblem(const std::string& name, const std::string& detail) = 0;

    /// peer is typing to the user (a typing notice, paced by TypingNotices).
    virtual void peerTyping(const std::string& peer) = 0;

    /// The identity's own state or status message changed (the user set it, or auto-away).
    virtual void ownStatusChanged() = 0;
};

} // namespace peerchat
