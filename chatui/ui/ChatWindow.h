#pragma once

#include "ConversationModel.h"
#include "InputLine.h"
#include "LineList.h"
#include "SearchResults.h"
#include "Window.h"
#include "WindowHost.h"

#include <deque>
#include <string>

namespace peerchat::chatui {

/// A conversation with one peer: the lines so far with time, the mark of
/// each own line's state and sender, a scrollback, a status line, and an
/// input line that sends on Enter (to an offline peer too: peerd keeps the
/// line until it can deliver it; a line peerd refuses comes back to the
/// input). `/search TEXT` shows the lines peerd
/// finds in place of the conversation until Esc or a bare `/search`.
/// Subscribes on every (re)connection and marks the conversation read while
/// it is open. /quit, Ctrl-D and Ctrl-C close it; Esc also does when it was
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

private:
    void subscribe();
    void applyToConversation(const local::Event& event);
    void answerSend(bool refused);
    void submit();
    void search(const std::wstring& text);
    void leaveSearch();
    void close();
    /// The list on screen: the search results while a search is shown, else the conversation.
    LineList& shownList();
    void markReadIfUnread();
    void drawHeader(Canvas& canvas);
    void drawBody(Canvas& canvas, int top, int height);
    void drawStatus(Canvas& canvas, int row);
    void drawInput(Canvas& canvas, int row);

    WindowHost& _host;
    ConversationModel _model;
    SearchResults _results;
    LineList _conversationList;
    LineList _resultsList;
    InputLine _input;
    bool _fromRoster;
    /// A passing message for the status line (an error from peerd, a refusal).
    std::string _notice;
    /// Lines sent that peerd has not answered yet (sent or error), oldest first, as typed.
    std::deque<std::wstring> _unanswered;
};

} // namespace peerchat::chatui
