#pragma once

#include "ConversationModel.h"
#include "InputLine.h"
#include "Window.h"
#include "WindowHost.h"

#include <string>
#include <vector>

namespace peerchat::chatui {

/// A conversation with one peer: the lines so far with time and sender, a
/// scrollback, a status line, and an input line that sends on Enter.
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
    /// One line of the conversation laid out for the current width.
    struct Layout
    {
        std::wstring time;
        std::wstring sender;
        bool outgoing = false;
        int textColumn = 0;             ///< where the text starts on the first row
        int indent = 0;                 ///< where it starts on the others
        std::vector<std::wstring> rows; ///< the wrapped text
    };

    void subscribe();
    void submit();
    void close();
    void scrollBy(int rows);
    void markReadIfUnread();
    const Layout& layoutOf(std::size_t index, int width);
    int totalRows(int width);
    void drawHeader(Canvas& canvas);
    void drawBody(Canvas& canvas, int top, int height);
    void drawStatus(Canvas& canvas, int row);
    void drawInput(Canvas& canvas, int row);

    WindowHost& _host;
    ConversationModel _model;
    InputLine _input;
    bool _fromRoster;
    /// A passing message for the status line (an error from peerd, a refusal).
    std::string _notice;
    /// Display rows scrolled up from the newest; 0 follows new lines.
    int _scrollRows = 0;
    /// Body height at the last draw, for paging.
    int _pageRows = 1;
    /// Layouts of the model's lines at _layoutWidth, filled on demand.
    int _layoutWidth = -1;
    std::vector<Layout> _layouts;
};

} // namespace peerchat::chatui
