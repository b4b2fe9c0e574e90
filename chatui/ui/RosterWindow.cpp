#include "RosterWindow.h"

#include "ChatWindow.h"
#include "IdentityText.h"
#include "PathText.h"
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

} // namespace

RosterWindow::RosterWindow(WindowHost& host) : _host(host) {}

void RosterWindow::onEvent(const local::Event& event)
{
    if (const auto* error = std::get_if<local::ErrorEvent>(&event)) _notice = error->message;
    // Follow the selected user by name; when it left, stay at the same place.
    const auto entries = _host.roster().entries();
    const int found = indexOf(entries, _selectedName);
    if (found >= 0) _selectedIndex = found;
    if (entries.empty()) return;
    _selectedIndex = std::clamp(_selectedIndex, 0, static_cast<int>(entries.size()) - 1);
    _selectedName = entries[static_cast<std::size_t>(_selectedIndex)].name;
}

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
    const int page = std::max(_pageRows - 1, 1);
    _info.clear();
    if (key.isCharacter(L'i')) {
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
    } else if (key.isFunction(KEY_ENTER) || key.isCharacter(L'\r') || key.isCharacter(L'\n')
               || key.isFunction(KEY_RIGHT) || key.isCharacter(L'l')) {
        openSelected();
    } else if (key.isCharacter(L'q') || key.isControl('c') || key.isControl('d')) {
        _host.quit();
    }
}

void RosterWindow::onDraw(Canvas& canvas)
{
    const int rows = canvas.rows();
    const int width = canvas.columns();
    drawHeader(canvas);
    drawStatus(canvas, rows - 1);

    const int listTop = 1;
    const int height = std::max(rows - 2, 0);
    _pageRows = std::max(height, 1);
    const auto entries = _host.roster().entries();
    if (entries.empty()) {
        if (_host.roster().rosterLoaded()) canvas.put(listTop, 2, "Nobody else is online yet.", Style::Dim);
        return;
    }
    _top = std::clamp(_top, std::max(_selectedIndex - height + 1, 0), _selectedIndex);

    for (int i = _top; i < static_cast<int>(entries.size()) && i - _top < height; ++i) {
        const auto& entry = entries[static_cast<std::size_t>(i)];
        const int y = listTop + i - _top;
        const bool selected = i == _selectedIndex;
        if (selected) canvas.fillRow(y, Style::Selected);
        const Style nameStyle = selected ? Style::Selected
                                : entry.unread > 0 ? Style::Unread
                                : entry.online     ? Style::Normal
                                                   : Style::Dim;
        std::string count;
        if (entry.unread > 0) count = std::to_string(entry.unread) + " unread";
        const int countWidth = static_cast<int>(count.size());
        const std::string tag = IdentityText::tag(entry.trust);
        const std::string pathTag = PathText::tag(entry.path);
        const int tagWidth = (tag.empty() ? 0 : static_cast<int>(tag.size()) + 1) +
                             (pathTag.empty() ? 0 : static_cast<int>(pathTag.size()) + 1);
        int x = canvas.put(y, 0, selected ? "> " : "  ", nameStyle);
        x += canvas.put(y, x, entry.name, nameStyle, std::max(width - x - countWidth - tagWidth - 12, 1));
        if (!entry.online) x += 1 + canvas.put(y, x + 1, "(offline)", selected ? Style::Selected : Style::Dim);
        if (!tag.empty()) x += 1 + canvas.put(y, x + 1, tag, selected ? Style::Selected : Style::Unverified);
        if (!pathTag.empty()) x += 1 + canvas.put(y, x + 1, pathTag, selected ? Style::Selected : Style::Dim);
        if (!count.empty()) canvas.put(y, std::max(width - countWidth - 1, x + 2), count, selected ? Style::Selected : Style::Unread);
    }
}

void RosterWindow::drawHeader(Canvas& canvas)
{
    const auto& roster = _host.roster();
    std::string state = "peerd unreachable";
    if (_host.connected())
        state = roster.welcomed() ? std::string(local::LocalProtocol::linkStateName(roster.linkState()))
                                  : std::string("waiting for peerd");
    std::string title = "peerchat ";
    if (!roster.self().empty()) title += roster.self() + " ";
    title += "[" + state + "]";

    canvas.fillRow(0, Style::Header);
    const int used = 1 + canvas.put(0, 1, title, Style::Header);
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
    if (!alert) text = _info.empty() ? "j/k move  Enter chat  i whoami  q quit" : _info;
    const Style style = alert ? Style::Alert : Style::Status;
    canvas.fillRow(row, style);
    canvas.put(row, 1, text, style);
}

} // namespace peerchat::chatui
