#pragma once

#include "ChatCommand.h"
#include "ContactRequests.h"
#include "ConversationModel.h"
#include "InfoPanel.h"
#include "InputLine.h"
#include "LineList.h"
#include "PendingSends.h"
#include "SearchResults.h"
#include "TypingModel.h"
#include "TypingPacer.h"
#include "Window.h"
#include "WindowHost.h"

#include <optional>
#include <string>

namespace peerchat::chatui {

/// A conversation with one peer: the lines so far with time, the mark of
/// each line (own lines' state, unverified lines from the peer) and sender,
/// a scrollback, a status line, and an input line that sends on Enter (to
/// an offline peer too: peerd keeps the line until it can deliver it; a line
/// peerd refuses comes back to the input). Slash commands (ChatCommand):
/// `/search TEXT` shows the lines peerd finds in place of the conversation
/// until Esc or a bare `/search`; `/help`, `/whoami`, `/verify` and the
/// answer to `/trust` show in a panel above the lines until Esc; the contact
/// commands (`/add`, `/accept`...; NAME defaults to the peer) go to peerd and
/// the status line confirms what it did; `/status` sets the identity's own
/// state, which the header shows (PresenceText). While the peer's key is
/// changed a warning bar under the header says what to do; while the peer
/// asks to be a contact a bar shows the request and how to answer it. While
/// the user edits a line (not a command) peerd hears that they are typing,
/// at most once a second (TypingPacer); while the peer types, a line above
/// the status line says so (TypingModel).
/// Subscribes on every (re)connection and marks the conversation read while
/// it is open. Lines sent and not yet answered when peerd goes away are sent
/// again, under the same keys, when it is back (PendingSends): each shows once. /quit, Ctrl-D and Ctrl-C close it; Esc also does when it was
/// opened from the roster (going back there).
class ChatWindow : public Window
{
public:
    /// fromRoster: the roster is underneath, so closing goes back to it.
    ChatWindow(WindowHost& host, std::string peer, bool fromRoster);

    void onOpen() override;
    void onKey(const Key& key) override;
    void onDraw(Canvas& canvas) override;
    void onEvent(const local::Event& event) override;
    void onDisconnected() override;
    std::optional<Clock::time_point> changesAt(Clock::time_point now) const override;

private:
    void subscribe();
    void applyToConversation(const local::Event& event);
    void answerSend(const local::Event& event);
    void submit();
    void run(const ChatCommand& command);
    void sendLine(const std::wstring& text);
    void search(const std::wstring& text);
    void showHelp();
    void verify(const std::string& peer);
    void trust(const std::string& peer);
    void changeContact(const ChatCommand& command, const std::string& peer);
    void setStatus(const ChatCommand& command);
    /// The text of the input line changed: tells peerd the user is typing to the peer, when due.
    void reportTyping();
    void leaveSearch();
    void close();
    /// The list on screen: the search results while a search is shown, else the conversation.
    LineList& shownList();
    void markReadIfUnread();
    /// True when the peer is a contact (each has the other): only then does indexd tell its presence.
    bool isContact() const;
    void drawHeader(Canvas& canvas);
    /// Draws the warning for a changed key in rows from top on, at most maxRows; returns the rows it took.
    int drawKeyWarning(Canvas& canvas, int top, int maxRows);
    /// Draws the peer's contact request in rows from top on, at most maxRows; returns the rows it took.
    int drawRequest(Canvas& canvas, int top, int maxRows);
    void drawBody(Canvas& canvas, int top, int height);
    void drawTyping(Canvas& canvas, int row);
    void drawStatus(Canvas& canvas, int row);
    void drawInput(Canvas& canvas, int row);

    WindowHost& _host;
    ConversationModel _model;
    SearchResults _results;
    LineList _conversationList;
    LineList _resultsList;
    InputLine _input;
    InfoPanel _panel;
    bool _fromRoster;
    /// A passing message for the status line (an error from peerd, a refusal).
    std::string _notice;
    /// What a contact command carried out, in the status line until the next line or command.
    std::string _confirmation;
    /// Contact commands typed here that peerd has not answered yet.
    ContactRequests _contacts;
    /// Lines sent that peerd has not answered yet (sent or error), oldest first.
    PendingSends _sends;
    /// Whose keys /verify asked for and peerd has not yet given; empty when none.
    std::string _verifying;
    /// Whose key /trust asked peerd to accept, until peerd says it did or refuses.
    std::string _trusting;
    /// Whether the peer is typing to the user, until when.
    TypingModel _typing;
    /// When the last typing request went, so the next waits a second.
    TypingPacer _typingPacer;
};

} // namespace peerchat::chatui
