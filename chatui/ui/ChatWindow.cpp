#include "ChatWindow.h"

#include "Protocol.h"
#include "StatusText.h"
#include "TextLayout.h"

#include <algorithm>
#include <ctime>
#include <cwchar>

namespace peerchat::chatui {

namespace {

/// "HH:MM:SS" on this machine's clock for a time in ms since the epoch.
std::wstring clockTime(std::int64_t epochMs)
{
    const std::time_t seconds = static_cast<std::time_t>(epochMs / 1000);
    std::tm local{};
    if (!::localtime_r(&seconds, &local)) return L"--:--:--";
    wchar_t text[16];
    std::wcsftime(text, sizeof(text) / sizeof(text[0]), L"%H:%M:%S", &local);
    return text;
}

std::wstring trimmed(const std::wstring& text)
{
    const auto first = text.find_first_not_of(L' ');
    if (first == std::wstring::npos) return {};
    return text.substr(first, text.find_last_not_of(L' ') - first + 1);
}

} // namespace

ChatWindow::ChatWindow(WindowHost& host, std::string peer, bool fromRoster)
    : _host(host), _model(std::move(peer)), _input(Protocol::kMaxTextBytes), _fromRoster(fromRoster)
{
}

void ChatWindow::onOpen()
{
    if (_host.roster().welcomed()) subscribe();
}

void ChatWindow::subscribe() { _host.send(local::SubscribeRequest{_model.peer()}); }

void ChatWindow::markReadIfUnread()
{
    if (_model.loaded() && _host.roster().unread(_model.peer()) > 0) _host.send(local::ReadRequest{_model.peer()});
}

void ChatWindow::close()
{
    if (_fromRoster) _host.send(local::UnsubscribeRequest{_model.peer()});
    _host.closeTop();
}

void ChatWindow::onEvent(const local::Event& event)
{
    if (std::holds_alternative<local::WelcomeEvent>(event)) {
        subscribe();
    } else if (std::holds_alternative<local::HistoryEvent>(event) || std::holds_alternative<local::MessageEvent>(event)) {
        const std::size_t held = _model.lines().size();
        switch (_model.apply(event)) {
        case ConversationModel::Change::Replaced:
            _layouts.clear();
            _scrollRows = 0;
            markReadIfUnread();
            break;
        case ConversationModel::Change::Appended:
            // Keep a reader who scrolled back looking at the same lines.
            if (_scrollRows > 0 && _layoutWidth > 0)
                for (std::size_t i = held; i < _model.lines().size(); ++i)
                    _scrollRows += static_cast<int>(layoutOf(i, _layoutWidth).rows.size());
            break;
        case ConversationModel::Change::None: break;
        }
    } else if (const auto* unread = std::get_if<local::UnreadEvent>(&event)) {
        if (unread->peer == _model.peer()) markReadIfUnread();
    } else if (const auto* error = std::get_if<local::ErrorEvent>(&event)) {
        _notice = error->message;
    }
}

void ChatWindow::onDisconnected() { _model.disconnected(); }

void ChatWindow::onKey(const Key& key)
{
    if (key.function) {
        switch (key.code) {
        case KEY_LEFT: _input.moveLeft(); break;
        case KEY_RIGHT: _input.moveRight(); break;
        case KEY_HOME: _input.moveHome(); break;
        case KEY_END: _input.moveEnd(); break;
        case KEY_BACKSPACE: _input.deleteBefore(); break;
        case KEY_DC: _input.deleteAt(); break;
        case KEY_ENTER: submit(); break;
        case KEY_PPAGE: scrollBy(std::max(_pageRows - 1, 1)); break;
        case KEY_NPAGE: scrollBy(-std::max(_pageRows - 1, 1)); break;
        case KEY_UP: scrollBy(1); break;
        case KEY_DOWN: scrollBy(-1); break;
        default: break;
        }
        return;
    }
    if (key.isCharacter(L'\r') || key.isCharacter(L'\n')) {
        submit();
    } else if (key.isCharacter(0x7f) || key.isControl('h')) {
        _input.deleteBefore();
    } else if (key.isControl('a')) {
        _input.moveHome();
    } else if (key.isControl('e')) {
        _input.moveEnd();
    } else if (key.isControl('u')) {
        _input.killToStart();
    } else if (key.isControl('k')) {
        _input.killToEnd();
    } else if (key.isControl('w')) {
        _input.killWordBefore();
    } else if (key.isControl('d')) {
        close();
    } else if (key.isControl('c')) {
        _host.quit();
    } else if (key.isCharacter(0x1b)) {
        if (_fromRoster) close();
    } else if (const auto c = static_cast<wchar_t>(key.code); !_input.insert(c) && !_input.fits(c)) {
        _notice = "a line holds at most " + std::to_string(Protocol::kMaxTextBytes) + " bytes";
    }
}

void ChatWindow::submit()
{
    const std::wstring command = trimmed(_input.text());
    if (command.empty()) return;
    _notice.clear();
    std::wstring text = _input.text();
    if (command[0] == L'/') {
        if (command == L"/quit") {
            _input.take();
            close();
            return;
        }
        if (command.compare(0, 2, L"//") != 0) {
            _notice = "unknown command " + TextLayout::narrow(command) + "; /quit closes, // starts a line with /";
            return;
        }
        text.erase(0, text.find(L'/') + 1);
    }
    if (!_host.connected()) {
        _notice = "peerd is unreachable; the line stays here until it is back";
        return;
    }
    const auto& roster = _host.roster();
    if (roster.rosterLoaded() && !roster.isOnline(_model.peer())) {
        _notice = _model.peer() + " is offline; the line stays here until they are back";
        return;
    }
    _host.send(local::SendRequest{_model.peer(), TextLayout::narrow(text)});
    _input.take();
    _scrollRows = 0;
}

void ChatWindow::scrollBy(int rows) { _scrollRows = std::max(_scrollRows + rows, 0); }

const ChatWindow::Layout& ChatWindow::layoutOf(std::size_t index, int width)
{
    if (width != _layoutWidth || _layouts.size() > _model.lines().size()) {
        _layouts.clear();
        _layoutWidth = width;
    }
    while (_layouts.size() <= index) {
        const auto& line = _model.lines()[_layouts.size()];
        Layout layout;
        layout.time = clockTime(line.receivedAtMs) + L" ";
        layout.sender = TextLayout::widen(line.from);
        layout.outgoing = line.outgoing;
        layout.textColumn = TextLayout::width(layout.time) + TextLayout::width(layout.sender) + 2;
        // Continuation rows line up under the text unless the prefix eats half the width.
        layout.indent = layout.textColumn <= width / 2 ? layout.textColumn : 2;
        const std::wstring text = TextLayout::widen(line.text);
        if (width - layout.textColumn >= 8) {
            layout.rows = TextLayout::wrap(text, width - layout.textColumn, width - layout.indent);
        } else {
            layout.textColumn = layout.indent;
            layout.rows = TextLayout::wrap(text, width - layout.indent, width - layout.indent);
            layout.rows.insert(layout.rows.begin(), std::wstring());
        }
        _layouts.push_back(std::move(layout));
    }
    return _layouts[index];
}

int ChatWindow::totalRows(int width)
{
    int total = 0;
    for (std::size_t i = 0; i < _model.lines().size(); ++i) total += static_cast<int>(layoutOf(i, width).rows.size());
    return total;
}

void ChatWindow::onDraw(Canvas& canvas)
{
    const int rows = canvas.rows();
    drawHeader(canvas);
    drawBody(canvas, 1, std::max(rows - 3, 0));
    drawStatus(canvas, rows - 2);
    drawInput(canvas, rows - 1);
}

void ChatWindow::drawHeader(Canvas& canvas)
{
    const auto& roster = _host.roster();
    canvas.fillRow(0, Style::Header);
    int column = canvas.put(0, 1, roster.self().empty() ? std::string("?") : roster.self(), Style::Header);
    column += canvas.put(0, 1 + column, std::wstring(L" \u2192 "), Style::Header);
    column += canvas.put(0, 1 + column, _model.peer(), Style::Header);
    if (roster.rosterLoaded())
        canvas.put(0, 2 + column, roster.isOnline(_model.peer()) ? "(online)" : "(offline)", Style::Header);
}

void ChatWindow::drawBody(Canvas& canvas, int top, int height)
{
    _pageRows = std::max(height, 1);
    const int width = canvas.columns();
    if (height <= 0 || width <= 0) return;
    if (_model.lines().empty()) {
        if (_model.loaded())
            canvas.put(top, 1, "No messages with " + _model.peer() + " yet: type below and press Enter.", Style::Dim);
        else if (_host.connected())
            canvas.put(top, 1, "Loading the conversation...", Style::Dim);
        return;
    }

    const int total = totalRows(width);
    _scrollRows = std::min(_scrollRows, std::max(total - height, 0));
    const int first = std::max(total - height - _scrollRows, 0);
    int row = 0;
    for (std::size_t i = 0; i < _model.lines().size() && row < first + height; ++i) {
        const Layout& layout = layoutOf(i, width);
        for (std::size_t k = 0; k < layout.rows.size(); ++k, ++row) {
            if (row < first || row >= first + height) continue;
            const int y = top + row - first;
            if (k == 0) {
                int x = canvas.put(y, 0, layout.time, Style::Time);
                x += canvas.put(y, x, layout.sender, layout.outgoing ? Style::Self : Style::Peer);
                canvas.put(y, x, std::wstring(L": "));
            }
            canvas.put(y, k == 0 ? layout.textColumn : layout.indent, layout.rows[k]);
        }
    }
}

void ChatWindow::drawStatus(Canvas& canvas, int row)
{
    const auto& roster = _host.roster();
    std::string text = _host.connected() && !_notice.empty() ? _notice : StatusText::linkProblem(_host);
    if (text.empty() && roster.rosterLoaded() && !roster.isOnline(_model.peer())) text = _model.peer() + " is offline";
    const bool alert = !text.empty();
    if (!alert)
        text = _scrollRows > 0 ? "scrolled back " + std::to_string(_scrollRows) + " rows; PgDn for newer lines"
                               : std::string("Enter send  PgUp/PgDn scroll  ") + (_fromRoster ? "Esc roster  " : "")
                                     + "/quit close";
    const Style style = alert ? Style::Alert : Style::Status;
    canvas.fillRow(row, style);
    canvas.put(row, 1, text, style);
}

void ChatWindow::drawInput(Canvas& canvas, int row)
{
    if (row < 1) return;
    const int prompt = canvas.put(row, 0, std::wstring(L"> "), Style::Prompt);
    const auto view = _input.view(canvas.columns() - prompt);
    canvas.put(row, prompt, view.text);
    canvas.placeCursor(row, prompt + view.cursorColumn);
}

} // namespace peerchat::chatui
