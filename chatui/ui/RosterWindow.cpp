#include "RosterWindow.h"

#include "ChatWindow.h"
#include "ContactText.h"
#include "IdentityText.h"
#include "LineEditing.h"
#include "PathText.h"
#include "PresenceText.h"
#include "Protocol.h"
#include "StatusText.h"

#include <algorithm>

namespace peerchat::chatui {

namespace {

/// Index of name in entries, or -1.
int indexOf(const std::vector<RosterModel::Entry>& entries, const std::string& name)
{
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (entries[i].name == name) return static_cast<int>(i);
    return -1;
}

/// How a contact's state mark is drawn: away dim, busy like a warning.
Style markStyle(local::PresenceState state)
{
    switch (state) {
    case local::PresenceState::Away: return Style::Dim;
    case local::PresenceState::Busy: return Style::Failed;
    case local::PresenceState::Online:
    case local::PresenceState::Invisible: break;
    }
    return Style::Delivered;
}

bool isEnter(const Key& key)
{
    return key.isFunction(KEY_ENTER) || key.isCharacter(L'\r') || key.isCharacter(L'\n');
}

/// Columns left of a name: the selection mark, then a cell kept for the
/// user's state (online, away...) and a space.
constexpr int kNameColumn = 4;

} // namespace

RosterWindow::RosterWindow(WindowHost& host) : _host(host), _command(Protocol::kMaxTextBytes) {}

void RosterWindow::onEvent(const local::Event& event)
{
    if (const auto* error = std::get_if<local::ErrorEvent>(&event)) _notice = error->message;
    if (const auto answer = _contacts.answer(event); answer && answer->now) _info = ContactText::done(*answer);
    // Follow the selected user by name; when it left, stay at the same place.
    const auto entries = _host.roster().entries();
    const int found = indexOf(entries, _selectedName);
    if (found >= 0) _selectedIndex = found;
    if (entries.empty()) return;
    _selectedIndex = std::clamp(_selectedIndex, 0, static_cast<int>(entries.size()) - 1);
    _selectedName = entries[static_cast<std::size_t>(_selectedIndex)].name;
}

void RosterWindow::onDisconnected() { _contacts.clear(); }

void RosterWindow::move(int delta)
{
    const auto entries = _host.roster().entries();
    if (entries.empty()) return;
    _selectedIndex = std::clamp(_selectedIndex + delta, 0, static_cast<int>(entries.size()) - 1);
    _selectedName = entries[static_cast<std::size_t>(_selectedIndex)].name;
}

void RosterWindow::openSelected()
{
    const auto entries = _host.roster().entries();
    if (indexOf(entries, _selectedName) < 0) return;
    _notice.clear();
    _host.open(std::make_unique<ChatWindow>(_host, _selectedName, true));
}

void RosterWindow::onKey(const Key& key)
{
    if (!_command.empty()) {
        commandKey(key);
        return;
    }
    const int page = std::max(_pageRows - 1, 1);
    _info.clear();
    if (key.isCharacter(L'/')) {
        _command.insert(L'/');
    } else if (key.isCharacter(0x1b)) {
        _panel.clear();
    } else if (key.isCharacter(L'i')) {
        _info = IdentityText::whoamiLine(_host.roster().self(), _host.roster().fingerprint());
    } else if (key.isFunction(KEY_UP) || key.isCharacter(L'k')) {
        move(-1);
    } else if (key.isFunction(KEY_DOWN) || key.isCharacter(L'j')) {
        move(1);
    } else if (key.isFunction(KEY_PPAGE)) {
        move(-page);
    } else if (key.isFunction(KEY_NPAGE)) {
        move(page);
    } else if (key.isFunction(KEY_HOME) || key.isCharacter(L'g')) {
        move(-_selectedIndex);
    } else if (key.isFunction(KEY_END) || key.isCharacter(L'G')) {
        move(static_cast<int>(_host.roster().entries().size()));
    } else if (isEnter(key) || key.isFunction(KEY_RIGHT) || key.isCharacter(L'l')) {
        openSelected();
    } else if (key.isCharacter(L'q') || key.isControl('c') || key.isControl('d')) {
        _host.quit();
    }
}

void RosterWindow::commandKey(const Key& key)
{
    _info.clear();
    if (isEnter(key)) {
        submit();
    } else if (key.isCharacter(0x1b)) {
        _command.take();
        _notice.clear();
    } else if (key.isControl('c')) {
        _host.quit();
    } else if (LineEditing::apply(_command, key) == LineEditing::Result::Full) {
        _notice = "a command holds at most " + std::to_string(Protocol::kMaxTextBytes) + " bytes";
    }
}

void RosterWindow::submit()
{
    _notice.clear();
    const auto command = ChatCommand::parse(_command.text());
    if (!command) {
        _notice = command.error();
        return;
    }
    switch (command->kind) {
    case ChatCommand::Kind::Send:
        _notice = "the roster sends no lines: open a conversation with Enter, or type a command after /";
        return;
    case ChatCommand::Kind::Search:
    case ChatCommand::Kind::Verify:
    case ChatCommand::Kind::Trust:
        _notice = "that command works in a conversation: open one with Enter";
        return;
    case ChatCommand::Kind::Quit: _host.quit(); return;
    case ChatCommand::Kind::Help:
        _command.take();
        _panel.show("Commands", ChatCommand::rosterHelp());
        return;
    case ChatCommand::Kind::Whoami:
        _command.take();
        _info = IdentityText::whoamiLine(_host.roster().self(), _host.roster().fingerprint());
        return;
    case ChatCommand::Kind::Contact: runContact(*command); return;
    case ChatCommand::Kind::Status: setStatus(*command); return;
    }
}

void RosterWindow::setStatus(const ChatCommand& command)
{
    if (!_host.connected()) {
        _notice = "peerd is unreachable; set it again when it is back";
        return;
    }
    _command.take();
    // peerd answers with a self event to every window, which the header shows.
    _host.send(command.statusRequest());
}

void RosterWindow::runContact(const ChatCommand& command)
{
    if (command.peer.empty()) {
        _notice = ContactText::nameNeeded(command.change);
        return;
    }
    if (!_host.connected()) {
        _notice = "peerd is unreachable; ask again when it is back";
        return;
    }
    _command.take();
    _host.send(_contacts.start(command.contactRequest(command.peer), _host.roster().contact(command.peer).relation));
}

std::vector<RosterWindow::Row> RosterWindow::layout(const std::vector<RosterModel::Entry>& entries) const
{
    // The hint names the request selected, else the first one.
    std::string asking;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].relation != local::Relation::AskedMe || entries[i].section != RosterModel::Section::Requests)
            continue;
        if (asking.empty() || static_cast<int>(i) == _selectedIndex) asking = entries[i].name;
    }
    std::vector<Row> rows;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto section = entries[i].section;
        if (i == 0 || entries[i - 1].section != section)
            rows.push_back(Row{Row::Kind::Heading, i, ContactText::sectionTitle(section)});
        rows.push_back(Row{Row::Kind::Entry, i});
        const bool lastOfSection = i + 1 == entries.size() || entries[i + 1].section != section;
        if (lastOfSection && section == RosterModel::Section::Requests && !asking.empty())
            rows.push_back(Row{Row::Kind::Hint, i, ContactText::answerHint(asking)});
    }
    return rows;
}

void RosterWindow::onDraw(Canvas& canvas)
{
    const int rows = canvas.rows();
    const bool typing = !_command.empty();
    const int statusRow = typing ? rows - 2 : rows - 1;
    drawHeader(canvas);
    drawStatus(canvas, statusRow);
    if (typing) drawCommand(canvas, rows - 1);

    int top = 1;
    top += _panel.draw(canvas, top, statusRow - top);
    drawList(canvas, top, std::max(statusRow - top, 0));
}

void RosterWindow::drawList(Canvas& canvas, int top, int height)
{
    _pageRows = std::max(height, 1);
    if (height <= 0) return;
    const auto entries = _host.roster().entries();
    if (entries.empty()) {
        if (_host.roster().rosterLoaded())
            canvas.put(top, 2, "No contacts yet: type /add NAME to ask someone to be one.", Style::Dim);
        return;
    }
    const auto rows = layout(entries);
    int selectedRow = 0;
    for (std::size_t r = 0; r < rows.size(); ++r)
        if (rows[r].kind == Row::Kind::Entry && static_cast<int>(rows[r].entry) == _selectedIndex)
            selectedRow = static_cast<int>(r);
    // Keep the selected row in sight, with the heading above it and the hint under it when they are its neighbours.
    const int above = selectedRow > 0 && rows[static_cast<std::size_t>(selectedRow - 1)].kind == Row::Kind::Heading
                          ? selectedRow - 1
                          : selectedRow;
    const bool hintBelow = static_cast<std::size_t>(selectedRow + 1) < rows.size() &&
                           rows[static_cast<std::size_t>(selectedRow + 1)].kind == Row::Kind::Hint;
    const int below = hintBelow ? selectedRow + 1 : selectedRow;
    const int lowest = std::min(std::max(below - height + 1, 0), above);
    _top = std::clamp(_top, lowest, above);

    for (int r = _top; r < static_cast<int>(rows.size()) && r - _top < height; ++r) {
        const Row& row = rows[static_cast<std::size_t>(r)];
        const int y = top + r - _top;
        switch (row.kind) {
        case Row::Kind::Heading: canvas.put(y, 1, row.text, Style::Section); break;
        case Row::Kind::Hint: canvas.put(y, kNameColumn, row.text, Style::Dim); break;
        case Row::Kind::Entry: drawEntry(canvas, y, entries[row.entry], static_cast<int>(row.entry) == _selectedIndex); break;
        }
    }
}

void RosterWindow::drawEntry(Canvas& canvas, int y, const RosterModel::Entry& entry, bool selected)
{
    const int width = canvas.columns();
    const bool dim = entry.section == RosterModel::Section::ContactsOffline || entry.section == RosterModel::Section::Blocked;
    if (selected) canvas.fillRow(y, Style::Selected);
    const auto styled = [&](Style style) { return selected ? Style::Selected : style; };
    const Style nameStyle = styled(entry.unread > 0 ? Style::Unread : dim ? Style::Dim : Style::Normal);

    std::string count;
    if (entry.unread > 0) count = std::to_string(entry.unread) + " unread";
    const int countWidth = static_cast<int>(count.size());
    const std::string tag = IdentityText::tag(entry.trust);
    const std::string pathTag = PathText::tag(entry.path);
    const int tagWidth = (tag.empty() ? 0 : static_cast<int>(tag.size()) + 1) +
                         (pathTag.empty() ? 0 : static_cast<int>(pathTag.size()) + 1);
    canvas.put(y, 0, selected ? "> " : "  ", nameStyle);
    if (entry.section == RosterModel::Section::ContactsOnline)
        canvas.put(y, 2, PresenceText::mark(entry.state), styled(markStyle(entry.state)));
    int x = kNameColumn;
    x += canvas.put(y, x, entry.name, nameStyle, std::max(width - x - countWidth - tagWidth - 12, 1));
    if (!tag.empty()) x += 1 + canvas.put(y, x + 1, tag, styled(Style::Unverified));
    if (!pathTag.empty()) x += 1 + canvas.put(y, x + 1, pathTag, styled(Style::Dim));
    // A contact's state and status message, the note of a request, or what
    // else there is to say about the user, cut short before the count.
    const std::string detail = ContactText::detail(entry);
    const int room = width - (x + 2) - (count.empty() ? 1 : countWidth + 3);
    if (!detail.empty() && room > 0) x += 2 + canvas.put(y, x + 2, detail, styled(Style::Dim), room);
    if (!count.empty()) canvas.put(y, std::max(width - countWidth - 1, x + 2), count, styled(Style::Unread));
}

void RosterWindow::drawHeader(Canvas& canvas)
{
    const auto& roster = _host.roster();
    std::string state = "peerd unreachable";
    if (_host.connected())
        state = roster.welcomed() ? std::string(local::LocalProtocol::linkStateName(roster.linkState()))
                                  : std::string("waiting for peerd");
    const std::string link = "[" + state + "]";

    // Who the identity is and how others see it.
    std::string who = roster.self();
    if (!who.empty() && roster.ownStatus()) who = PresenceText::ownLine(who, *roster.ownStatus());

    canvas.fillRow(0, Style::Header);
    int used = 1 + canvas.put(0, 1, std::string("peerchat "), Style::Header);
    if (!who.empty()) {
        // A long status message is cut short before it pushes the link's state off the row.
        const int room = canvas.columns() - used - static_cast<int>(link.size()) - 2;
        used += canvas.put(0, used, who, Style::Header, std::max(room, 0));
        used += canvas.put(0, used, std::string(" "), Style::Header);
    }
    used += canvas.put(0, used, link, Style::Header);
    // indexd's address on the right, when there is room for it.
    if (!roster.index().empty()) {
        const std::string index = "index " + roster.index() + " ";
        const int width = static_cast<int>(index.size());
        if (used + 2 + width <= canvas.columns()) canvas.put(0, canvas.columns() - width, index, Style::Header);
    }
}

void RosterWindow::drawStatus(Canvas& canvas, int row)
{
    if (row < 1) return;
    std::string text = _host.connected() && !_notice.empty() ? _notice : StatusText::linkProblem(_host);
    if (text.empty()) {
        std::vector<std::string> changed;
        for (const auto& entry : _host.roster().entries())
            if (entry.trust == local::Trust::Changed) changed.push_back(entry.name);
        if (!changed.empty()) text = IdentityText::keysChanged(changed);
    }
    const bool alert = !text.empty();
    if (!alert) {
        if (!_info.empty())
            text = _info;
        else if (!_command.empty())
            text = "Enter run the command  Esc drop it  /help commands";
        else if (_panel.shown())
            text = "Esc close the panel  j/k move  Enter chat  / command  q quit";
        else
            text = "j/k move  Enter chat  / command  i whoami  q quit";
    }
    const Style style = alert ? Style::Alert : Style::Status;
    canvas.fillRow(row, style);
    canvas.put(row, 1, text, style);
}

void RosterWindow::drawCommand(Canvas& canvas, int row)
{
    if (row < 1) return;
    const int prompt = canvas.put(row, 0, std::wstring(L"> "), Style::Prompt);
    const auto view = _command.view(canvas.columns() - prompt);
    canvas.put(row, prompt, view.text);
    canvas.placeCursor(row, prompt + view.cursorColumn);
}

} // namespace peerchat::chatui
