#include "ChatWindow.h"

#include "ContactText.h"
#include "IdentityText.h"
#include "LineEditing.h"
#include "LineMark.h"
#include "PathText.h"
#include "PresenceText.h"
#include "Protocol.h"
#include "StatusText.h"
#include "TextLayout.h"

#include <algorithm>
#include <optional>

namespace peerchat::chatui {

namespace {

std::string plural(std::size_t count, const std::string& noun)
{
    return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

/// Draws text wrapped across the whole width in style, in rows from top on,
/// at most maxRows; returns the rows it took.
int drawBar(Canvas& canvas, int top, int maxRows, const std::string& text, Style style)
{
    const auto rows = TextLayout::wrap(TextLayout::widen(text), canvas.columns() - 2, canvas.columns() - 2);
    const int shown = std::min(static_cast<int>(rows.size()), std::max(maxRows, 0));
    for (int i = 0; i < shown; ++i) {
        canvas.fillRow(top + i, style);
        canvas.put(top + i, 1, rows[static_cast<std::size_t>(i)], style);
    }
    return shown;
}

} // namespace

ChatWindow::ChatWindow(WindowHost& host, std::string peer, bool fromRoster)
    : _host(host),
      _model(peer),
      _results(peer),
      _conversationList(_model.lines(), LineList::Clock::TimeOfDay),
      _resultsList(_results.lines(), LineList::Clock::DateAndTime),
      _input(Protocol::kMaxTextBytes),
      _fromRoster(fromRoster),
      _typing(peer)
{
}

void ChatWindow::onOpen()
{
    if (_host.roster().welcomed()) subscribe();
}

void ChatWindow::subscribe() { _host.send(local::SubscribeRequest{_model.conversation()}); }

void ChatWindow::markReadIfUnread()
{
    if (_model.loaded() && _host.roster().unread(_model.peer()) > 0)
        _host.send(local::ReadRequest{_model.conversation()});
}

void ChatWindow::close()
{
    if (_fromRoster) _host.send(local::UnsubscribeRequest{_model.conversation()});
    _host.closeTop();
}

LineList& ChatWindow::shownList() { return _results.active() ? _resultsList : _conversationList; }

void ChatWindow::onEvent(const local::Event& event)
{
    if (std::holds_alternative<local::WelcomeEvent>(event)) {
        subscribe();
        // Sends the last connection did not answer go again under their keys:
        // peerd answers one it stored already with that line.
        for (const local::SendRequest& request : _sends.unanswered()) _host.send(request);
        // A search or keys asked of the last connection got no reply; ask this one.
        if (_results.active()) _host.send(_results.start(_results.text()));
        if (!_verifying.empty()) _host.send(local::VerifyRequest{_verifying});
        return;
    }
    applyToConversation(event);
    _typing.apply(event, Clock::now());
    if (const auto answer = _contacts.answer(event); answer && answer->now) _confirmation = ContactText::done(*answer);
    const bool searchChanged = _results.apply(event);
    if (searchChanged && std::holds_alternative<local::FoundEvent>(event)) _resultsList.reset();

    if (const auto* unread = std::get_if<local::UnreadEvent>(&event)) {
        if (unread->conversation == _model.conversation()) markReadIfUnread();
    } else if (std::holds_alternative<local::SentEvent>(event)) {
        answerSend(event);
    } else if (const auto* keys = std::get_if<local::KeysEvent>(&event)) {
        if (keys->peer == _verifying) {
            _verifying.clear();
            _panel.show("Keys of " + keys->peer, IdentityText::keys(*keys));
        }
    } else if (const auto* trust = std::get_if<local::TrustEvent>(&event)) {
        if (trust->peer == _trusting && trust->trust == local::Trust::Pinned) {
            _trusting.clear();
            _panel.show("Key of " + trust->peer + " accepted", IdentityText::trusted(trust->peer));
        }
    } else if (const auto* error = std::get_if<local::ErrorEvent>(&event)) {
        if (error->op == "send") answerSend(event);
        if (error->op == "trust") _trusting.clear();
        if (error->op == "verify" && !_verifying.empty()) {
            _verifying.clear();
            _panel.clear();
        }
        // A refused search shows in place of its results.
        if (!searchChanged) _notice = error->message;
    }
}

void ChatWindow::answerSend(const local::Event& event)
{
    const std::optional<local::SendRequest> answered = _sends.answer(event);
    // A refused line goes back to the input, unless something new is being typed there.
    if (!answered || !std::holds_alternative<local::ErrorEvent>(event) || !_input.empty()) return;
    for (wchar_t c : TextLayout::widen(answered->text)) _input.insert(c);
}

void ChatWindow::applyToConversation(const local::Event& event)
{
    const std::size_t held = _model.lines().size();
    switch (_model.apply(event)) {
    case ConversationModel::Change::Replaced:
        _conversationList.reset();
        markReadIfUnread();
        break;
    case ConversationModel::Change::Appended: _conversationList.appended(held); break;
    case ConversationModel::Change::Restated:
    case ConversationModel::Change::None: break;
    }
}

void ChatWindow::onDisconnected()
{
    _model.disconnected();
    // Whether peerd took a trust, or a contact command, shows in the next roster.
    _trusting.clear();
    _contacts.clear();
}

std::optional<Window::Clock::time_point> ChatWindow::changesAt(Clock::time_point now) const
{
    return _typing.endsAt(now);
}

void ChatWindow::onKey(const Key& key)
{
    const std::wstring before = _input.text();
    switch (LineEditing::apply(_input, key)) {
    case LineEditing::Result::Edited:
        if (_input.text() != before) reportTyping();
        return;
    case LineEditing::Result::Full:
        _notice = "a line holds at most " + std::to_string(Protocol::kMaxTextBytes) + " bytes";
        return;
    case LineEditing::Result::Other: break;
    }
    if (key.function) {
        LineList& list = shownList();
        const int page = std::max(list.pageRows() - 1, 1);
        switch (key.code) {
        case KEY_ENTER: submit(); break;
        case KEY_PPAGE: list.scrollBy(page); break;
        case KEY_NPAGE: list.scrollBy(-page); break;
        case KEY_UP: list.scrollBy(1); break;
        case KEY_DOWN: list.scrollBy(-1); break;
        default: break;
        }
        return;
    }
    if (key.isCharacter(L'\r') || key.isCharacter(L'\n')) {
        submit();
    } else if (key.isControl('d')) {
        close();
    } else if (key.isControl('c')) {
        _host.quit();
    } else if (key.isCharacter(0x1b)) {
        if (_panel.shown())
            _panel.clear();
        else if (_results.active())
            leaveSearch();
        else if (_fromRoster)
            close();
    }
}

void ChatWindow::submit()
{
    if (_input.text().find_first_not_of(L' ') == std::wstring::npos) return;
    _notice.clear();
    _confirmation.clear();
    const auto command = ChatCommand::parse(_input.text());
    if (!command) {
        _notice = command.error();
        return;
    }
    run(*command);
}

void ChatWindow::run(const ChatCommand& command)
{
    const std::string peer = command.peer.empty() ? _model.peer() : command.peer;
    switch (command.kind) {
    case ChatCommand::Kind::Send: sendLine(command.text); return;
    case ChatCommand::Kind::Quit:
        _input.take();
        close();
        return;
    case ChatCommand::Kind::Search:
        _input.take();
        _panel.clear();
        search(command.text);
        return;
    case ChatCommand::Kind::Help:
        _input.take();
        showHelp();
        return;
    case ChatCommand::Kind::Whoami:
        _input.take();
        _panel.show("Who you are", IdentityText::whoami(_host.roster().self(), _host.roster().fingerprint()));
        return;
    case ChatCommand::Kind::Verify: verify(peer); return;
    case ChatCommand::Kind::Trust: trust(peer); return;
    case ChatCommand::Kind::Contact: changeContact(command, peer); return;
    case ChatCommand::Kind::Status: setStatus(command); return;
    }
}

void ChatWindow::reportTyping()
{
    // An emptied line is no longer being typed, and a command is not for the peer's eyes.
    if (_input.empty() || ChatCommand::isCommand(_input.text())) return;
    if (_typingPacer.due(Clock::now())) _host.send(local::TypingRequest{_model.peer()});
}

void ChatWindow::sendLine(const std::wstring& text)
{
    if (!_host.connected()) {
        _notice = "peerd is unreachable; the line stays here until it is back";
        return;
    }
    _host.send(_sends.add(_model.conversation(), TextLayout::narrow(text)));
    _input.take();
    // The line just sent shows in the conversation, at its end.
    _panel.clear();
    leaveSearch();
    _conversationList.followNewest();
}

void ChatWindow::showHelp()
{
    auto lines = ChatCommand::help();
    lines.push_back("Marks: " + TextLayout::narrow(LineMark::legend(true)));
    for (auto& line : IdentityText::tagHelp()) lines.push_back(std::move(line));
    for (auto& line : PathText::help()) lines.push_back(std::move(line));
    _panel.show("Commands", std::move(lines));
}

void ChatWindow::verify(const std::string& peer)
{
    if (!_host.connected()) {
        _notice = "peerd is unreachable; ask again when it is back";
        return;
    }
    _input.take();
    _verifying = peer;
    _host.send(local::VerifyRequest{peer});
    _panel.show("Keys of " + peer, {"Asking peerd for the fingerprints..."});
}

void ChatWindow::trust(const std::string& peer)
{
    if (!_host.connected()) {
        _notice = "peerd is unreachable; ask again when it is back";
        return;
    }
    _input.take();
    _trusting = peer;
    _host.send(local::TrustRequest{peer});
}

void ChatWindow::changeContact(const ChatCommand& command, const std::string& peer)
{
    if (!_host.connected()) {
        _notice = "peerd is unreachable; ask again when it is back";
        return;
    }
    _input.take();
    _host.send(_contacts.start(command.contactRequest(peer), _host.roster().contact(peer).relation));
}

void ChatWindow::setStatus(const ChatCommand& command)
{
    if (!_host.connected()) {
        _notice = "peerd is unreachable; set it again when it is back";
        return;
    }
    _input.take();
    // peerd answers with a self event to every window, which the header shows.
    _host.send(command.statusRequest());
}

void ChatWindow::search(const std::wstring& text)
{
    if (text.empty()) {
        leaveSearch();
        return;
    }
    _resultsList.setHighlight(Highlight(text));
    // While peerd is unreachable the request waits for the next welcome.
    _host.send(_results.start(TextLayout::narrow(text)));
    _resultsList.reset();
}

void ChatWindow::leaveSearch() { _results.clear(); }

void ChatWindow::onDraw(Canvas& canvas)
{
    const int rows = canvas.rows();
    const bool typing = _typing.typing(Clock::now());
    // Between the header and the status line: the warning, the request, the
    // panel, the lines, and the peer typing when they are.
    const int bottom = rows - 2 - (typing ? 1 : 0);
    drawHeader(canvas);
    int top = 1;
    top += drawKeyWarning(canvas, top, bottom - top);
    top += drawRequest(canvas, top, bottom - top);
    top += _panel.draw(canvas, top, bottom - top);
    drawBody(canvas, top, std::max(bottom - top, 0));
    if (typing) drawTyping(canvas, bottom);
    drawStatus(canvas, rows - 2);
    drawInput(canvas, rows - 1);
}

bool ChatWindow::isContact() const
{
    return _host.roster().contact(_model.peer()).relation == local::Relation::Contact;
}

void ChatWindow::drawHeader(Canvas& canvas)
{
    const auto& roster = _host.roster();
    const std::string self = roster.self().empty() ? std::string("?") : roster.self();
    // Who the identity is and how others see it, then whom it talks to.
    const std::wstring own = TextLayout::widen(roster.ownStatus() ? PresenceText::ownLine(self, *roster.ownStatus()) : self);
    std::string peer = _model.peer();
    if (roster.rosterLoaded())
        peer += " " + PresenceText::peerTag(isContact(), roster.isOnline(_model.peer()), roster.state(_model.peer()));
    if (const std::string tag = IdentityText::tag(roster.trust(_model.peer())); !tag.empty()) peer += " " + tag;
    if (const std::string tag = PathText::tag(roster.path(_model.peer())); !tag.empty()) peer += " " + tag;
    if (_results.active()) peer += "  search: " + _results.text();
    const std::wstring talk = L" \u2192 " + TextLayout::widen(peer);

    canvas.fillRow(0, Style::Header);
    // A long status message is cut short before it pushes the peer off the row.
    const int ownRoom = std::max(canvas.columns() - 2 - TextLayout::width(talk), TextLayout::width(TextLayout::widen(self)));
    int column = 1 + canvas.put(0, 1, own, Style::Header, ownRoom);
    column += canvas.put(0, column, talk, Style::Header);
    // What the marks mean, on the right, when there is room for it.
    const std::wstring legend = LineMark::legend(_model.unverified() > 0);
    const int legendWidth = TextLayout::width(legend);
    if (column + 2 + legendWidth + 1 <= canvas.columns())
        canvas.put(0, canvas.columns() - legendWidth - 1, legend, Style::Header);
}

int ChatWindow::drawKeyWarning(Canvas& canvas, int top, int maxRows)
{
    if (_host.roster().trust(_model.peer()) != local::Trust::Changed) return 0;
    return drawBar(canvas, top, maxRows, IdentityText::keyChanged(_model.peer()), Style::Alert);
}

int ChatWindow::drawRequest(Canvas& canvas, int top, int maxRows)
{
    const local::ContactInfo contact = _host.roster().contact(_model.peer());
    if (contact.relation != local::Relation::AskedMe || contact.blocked) return 0;
    return drawBar(canvas, top, maxRows, ContactText::requestBar(contact), Style::Request);
}

void ChatWindow::drawBody(Canvas& canvas, int top, int height)
{
    if (height <= 0) return;
    if (_results.active()) {
        const std::string looked = "'" + _results.text() + "'";
        switch (_results.phase()) {
        case SearchResults::Phase::Waiting:
            canvas.put(top, 1, "Searching the conversation with " + _model.peer() + " for " + looked + "...", Style::Dim);
            return;
        case SearchResults::Phase::Refused:
            canvas.put(top, 1, "peerd did not search: " + _results.refusal(), Style::Dim);
            return;
        case SearchResults::Phase::Found:
            if (_results.lines().empty()) {
                canvas.put(top, 1, "No line with " + _model.peer() + " contains " + looked + ".", Style::Dim);
                return;
            }
            _resultsList.draw(canvas, top, height);
            return;
        case SearchResults::Phase::Idle: break;
        }
    }
    if (_model.lines().empty()) {
        if (_model.loaded())
            canvas.put(top, 1, "No messages with " + _model.peer() + " yet: type below and press Enter.", Style::Dim);
        else if (_host.connected())
            canvas.put(top, 1, "Loading the conversation...", Style::Dim);
        return;
    }
    _conversationList.draw(canvas, top, height);
}

void ChatWindow::drawTyping(Canvas& canvas, int row)
{
    if (row < 1) return;
    canvas.put(row, 1, PresenceText::typing(_model.peer()), Style::Dim);
}

void ChatWindow::drawStatus(Canvas& canvas, int row)
{
    const auto& roster = _host.roster();
    std::string text = _host.connected() && !_notice.empty() ? _notice : StatusText::linkProblem(_host);
    // First, where a long reason cannot push it off the row: the person's lines are not lost.
    if (!_host.connected() && !_sends.empty())
        text = plural(_sends.size(), "line") + (_sends.size() == 1 ? " waits: " : " wait: ") + text;
    // A confirmation of what the person just did comes before the standing
    // note of where lines go when the peer is not an online contact.
    if (text.empty() && _confirmation.empty()) {
        if (roster.rosterLoaded()) text = PresenceText::reachNote(_model.peer(), isContact(), roster.isOnline(_model.peer()));
        const std::size_t failed = _model.count(local::LineState::Failed);
        if (failed > 0)
            text += (text.empty() ? "" : "; ") + plural(failed, "line") + " not yet delivered (will retry)";
    }
    const bool alert = !text.empty();
    if (!alert) {
        const int scrolled = shownList().scrolledRows();
        const std::string scroll = scrolled > 0 ? "scrolled back " + std::to_string(scrolled) + " rows; PgDn for newer lines"
                                                : "PgUp/PgDn scroll";
        if (!_confirmation.empty())
            text = _confirmation;
        else if (_panel.shown())
            text = "Esc close the panel  Enter send  /help commands";
        else if (!_results.active())
            text = (scrolled > 0 ? scroll : "Enter send  " + scroll + "  " + (_fromRoster ? "Esc roster  " : "")
                                                + "/search find  /help more  /quit close");
        else if (_results.phase() == SearchResults::Phase::Found && !_results.lines().empty())
            text = plural(_results.lines().size(), "line") + " found  " + scroll + "  Esc back";
        else
            text = "Esc or /search: back to the conversation";
    }
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
