#pragma once

#include "LocalProtocol.h"

#include <string>
#include <vector>

namespace peerchat::chatui {

/// One search of a conversation's history as a window shows it: what was
/// looked for, whether peerd answered, and the lines it found, oldest first,
/// each in the state peerd last gave it. Built only from events; start()
/// returns the request for the caller to send.
class SearchResults
{
public:
    /// Where the search stands.
    enum class Phase
    {
        Idle,    ///< no search: the window shows the conversation
        Waiting, ///< asked, no reply yet
        Found,   ///< peerd replied (lines() may be empty: nothing matched)
        Refused  ///< peerd replied with an error; refusal() says why
    };

    /// Searches the direct chat with peer.
    explicit SearchResults(std::string peer) : _conversation(ConversationId::direct(std::move(peer))) {}

    const ConversationId& conversation() const { return _conversation; }
    Phase phase() const { return _phase; }
    /// True while a search is shown (any phase but Idle).
    bool active() const { return _phase != Phase::Idle; }
    /// What was looked for.
    const std::string& text() const { return _text; }
    const std::vector<local::ChatLine>& lines() const { return _lines; }
    /// peerd's words when it refused the search.
    const std::string& refusal() const { return _refusal; }

    /// Starts a search for text, forgetting the last one (Waiting), and
    /// returns the request that asks peerd for it.
    local::SearchRequest start(std::string text);
    /// Ends the search (Idle) and forgets its lines.
    void clear();

    /// While waiting, a found event for this peer and text brings the lines
    /// (Found) and an error for the search op its refusal (Refused); a status
    /// for this peer sets the state of a line held. Returns true when
    /// something shown changed; other events change nothing.
    bool apply(const local::Event& event);

private:
    ConversationId _conversation;
    Phase _phase = Phase::Idle;
    std::string _text;
    std::vector<local::ChatLine> _lines;
    std::string _refusal;
};

} // namespace peerchat::chatui
