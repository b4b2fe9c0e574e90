#pragma once

#include "Window.h"
#include "WindowHost.h"

#include <string>

namespace peerchat::chatui {

/// Everyone online (and anyone offline with unread lines), an unread count
/// by each name and a tag for a key that changed or a peer without one, the
/// identity and peerd's state in the header. Arrow keys or j/k move, Enter
/// opens the conversation in this terminal, i shows who you are and your
/// key's fingerprint, q quits. While a peer's key is changed the status line
/// says so and what to do.
class RosterWindow : public Window
{
public:
    explicit RosterWindow(WindowHost& host);

    void onKey(const Key& key) override;
    void onDraw(Canvas& canvas) override;
    void onEvent(const local::Event& event) override;

private:
    void move(int delta);
    void openSelected();
    void drawHeader(Canvas& canvas);
    void drawStatus(Canvas& canvas, int row);

    WindowHost& _host;
    /// The selected user, kept by name so it stays put while others come and go.
    std::string _selectedName;
    /// Where the selection was, for when the selected user leaves.
    int _selectedIndex = 0;
    /// First entry shown when the list is longer than the window.
    int _top = 0;
    /// Rows of entries at the last draw, for paging.
    int _pageRows = 1;
    std::string _notice;
    /// What i asked for, in the status line until the next key.
    std::string _info;
};

} // namespace peerchat::chatui
