#pragma once

#include "LocalProtocol.h"

#include <cstddef>
#include <deque>
#include <optional>
#include <string>

namespace peerchat::chatui {

/// The sends of one window that peerd has not answered yet, oldest first.
/// Each goes out under a random key of its own, and they are kept when the
/// connection to peerd is lost, to be sent again under the same keys once it
/// is back: peerd answers a send it stored before it went (crashed, was
/// restarted) with the line it stored, and stores one it never took, so
/// every line shows once whatever the moment the connection broke.
class PendingSends
{
public:
    /// A new send of text to conversation under a fresh key; returns the request to send.
    local::SendRequest add(const ConversationId& conversation, std::string text);

    /// The sends not answered yet, oldest first: what to send again on a new connection.
    const std::deque<local::SendRequest>& unanswered() const { return _sends; }
    bool empty() const { return _sends.empty(); }
    std::size_t size() const { return _sends.size(); }

    /// When event answers one of these sends (a sent event or a send's error
    /// with its key), takes that send out and returns it; else nullopt.
    std::optional<local::SendRequest> answer(const local::Event& event);

    /// A fresh random key: 16 bytes from libsodium as base64url, 22 characters.
    static std::string randomKey();

private:
    std::deque<local::SendRequest> _sends;
};

} // namespace peerchat::chatui
