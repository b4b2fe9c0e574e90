#pragma once

#include "ChatCommand.h"
#include "ContactRequests.h"
#include "InfoPanel.h"
#include "InputLine.h"
#include "Window.h"
#include "WindowHost.h"

#include <string>
#include <vector>

namespace peerchat::chatui {

/// The contact list, in sections under headings (RosterModel::Section):
/// contacts online, contacts offline, requests (with their notes, and a hint
/// how to answer), users asked, blocked users. An unread count by each name,
/// a tag for a key that changed or a peer without one, and by each contact
/// online a mark of its state and its status message; in the header the
/// identity, its own state and status message, and peerd's state. Arrow keys
/// or j/k move over the users (the headings are passed over), Enter opens the
/// conversation in this terminal, i shows who you are and your key's
/// fingerprint, q quits; / opens a command line for the contact commands,
/// /status, /help and /quit. While a peer's key is changed the status line
/// says so and what to do.
class RosterWindow : public Window
{
public:
    explicit RosterWindow(WindowHost& host);

    void onKey(const Key& key) override;
    void onDraw(Canvas& canvas) override;
    void onEvent(const local::Event& event) override;
    void onDisconnected() override;

private:
    /// One row of the list: a heading, a user (an index into the entries) or the hint under the requests.
    struct Row
    {
        enum class Kind { Heading, Entry, Hint } kind;
        std::size_t entry = 0;
        std::string text{};
    };

    void move(int delta);
    void openSelected();
    void commandKey(const Key& key);
    void submit();
    void runContact(const ChatCommand& command);
    void setStatus(const ChatCommand& command);
    /// The rows the entries make: each section under its heading, the hint after the requests.
    std::vector<Row> layout(const std::vector<RosterModel::Entry>& entries) const;
    void drawHeader(Canvas& canvas);
    void drawList(Canvas& canvas, int top, int height);
    void drawEntry(Canvas& canvas, int y, const RosterModel::Entry& entry, bool selected);
    void drawStatus(Canvas& canvas, int row);
    void drawCommand(Canvas& canvas, int row);

    WindowHost& _host;
    /// The selected user, kept by name so it stays put while others come and go.
    std::string _selectedName;
    /// Where the selection was among the entries, for when the selected user leaves.
    int _selectedIndex = 0;
    /// First row shown when the list is longer than the window.
    int _top = 0;
    /// Rows of the list at the last draw, for paging.
    int _pageRows = 1;
    /// What peerd refused, or a command that cannot run: in the status line as an alert.
    std::string _notice;
    /// What i, /whoami or a contact command carried out says, in the status line until the next key.
    std::string _info;
    /// The command being typed after /; empty while none is.
    InputLine _command;
    /// /help, above the list until Esc.
    InfoPanel _panel;
    /// Contact commands typed here that peerd has not answered yet.
    ContactRequests _contacts;
};

} // namespace peerchat::chatui
