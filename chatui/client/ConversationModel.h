#pragma once

#include "LocalProtocol.h"

#include <cstddef>
#include <string>
#include <vector>

namespace peerchat::chatui {

/// The lines of one conversation as a window shows them: the history peerd
/// replied to subscribe with, then every new line, each once and in order,
/// each in the state peerd last gave it. Built only from events.
class ConversationModel
{
public:
    /// What an event did to the lines.
    enum class Change { None, Appended, Replaced, Restated };

    /// The direct chat with peer.
    explicit ConversationModel(std::string peer) : _conversation(ConversationId::direct(std::move(peer))) {}

    const ConversationId& conversation() const { return _conversation; }
    /// The peer's name.
    const std::string& peer() const { return _conversation.name(); }
    const std::vector<local::ChatLine>& lines() const { return _lines; }
    /// True once the history arrived on the current connection.
    bool loaded() const { return _loaded; }
    /// How many lines are in state.
    std::size_t count(local::LineState state) const;
    /// How many lines came as plain seed talk, which nobody signed.
    std::size_t unverified() const;

    /// The first history of this conversation on a connection replaces every
    /// line; the next ones of the same reply (their first id after the last
    /// line held) are appended. A message of it is appended unless a line
    /// with its id is already here. A status of it sets the state of
    /// the line with its id (Restated), when there is one and the state is
    /// new. Other events change nothing.
    Change apply(const local::Event& event);

    /// The connection to peerd was lost: the next history will be new.
    void disconnected() { _loaded = false; }

    /// Sets the state of the line of lines (ids ascending) that status names;
    /// false when there is no such line or it already was in that state.
    /// The conversation is the caller's to check.
    static bool restate(std::vector<local::ChatLine>& lines, const local::StatusEvent& status);

private:
    ConversationId _conversation;
    std::vector<local::ChatLine> _lines;
    bool _loaded = false;
};

} // namespace peerchat::chatui
