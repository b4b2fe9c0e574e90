#include "App.h"

#include "ChatWindow.h"
#include "RosterWindow.h"

#include <algorithm>
#include <chrono>
#include <clocale>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <langinfo.h>
#include <poll.h>
#include <unistd.h>

namespace peerchat::chatui {

namespace {

volatile std::sig_atomic_t stopSignal = 0;

void onStopSignal(int signal) { stopSignal = signal; }

/// SIGTERM, SIGHUP (the terminal went away) and SIGINT end the loop, so the
/// terminal is always put back.
void catchStopSignals()
{
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    for (int signal : {SIGTERM, SIGHUP, SIGINT}) sigaction(signal, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

bool localeIsUtf8()
{
    const char* codeset = nl_langinfo(CODESET);
    return codeset && (std::strcmp(codeset, "UTF-8") == 0 || std::strcmp(codeset, "utf8") == 0);
}

/// What to tell a person when peerd's socket does not answer.
std::string unreachableMessage(const Options& options, const std::string& reason)
{
    std::string message = "cannot reach peerd";
    if (!options.user.empty()) message += " for " + options.user;
    message += " at " + options.socketPath + " (" + reason + "); ";
    if (options.user.empty()) return message + "start peerd with --socket " + options.socketPath + ", or check the path";
    return message + "start it with: peerd --user " + options.user + " --index HOST:PORT";
}

} // namespace

int App::main(int argc, char** argv)
{
    std::setlocale(LC_ALL, "");
    // Text is UTF-8 on the wire; a plain C locale would make wcwidth useless.
    if (!localeIsUtf8() && (!std::setlocale(LC_CTYPE, "C.UTF-8") || !localeIsUtf8())) {
        std::cerr << "chatui: needs a UTF-8 locale; set LANG=C.UTF-8 (or another UTF-8 locale)\n";
        return 1;
    }
    const auto options = CommandLine::parse(std::vector<std::string>(argv + 1, argv + argc), std::getenv("USER"));
    if (!options) {
        std::cerr << "chatui: " << options.error() << "\n(chatui --help shows the usage)\n";
        return 2;
    }
    if (options->help) {
        std::cout << CommandLine::usage();
        return 0;
    }
    if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO)) {
        std::cerr << "chatui: needs a terminal; run it in one (or in tmux)\n";
        return 1;
    }
    PeerClient client(options->socketPath);
    if (!client.connect()) {
        std::cerr << "chatui: " << unreachableMessage(*options, client.lastError()) << "\n";
        return 1;
    }
    try {
        App app(client, *options);
        return app.run();
    } catch (const std::exception& e) {
        std::cerr << "chatui: " << e.what() << "\n";
        return 1;
    }
}

App::App(PeerClient& client, const Options& options) : _client(client), _options(options) {}

int App::run()
{
    _screen = std::make_unique<Screen>();
    catchStopSignals();
    if (_options.peer.empty())
        open(std::make_unique<RosterWindow>(*this));
    else
        open(std::make_unique<ChatWindow>(*this, _options.peer, false));

    bool wasConnected = _client.connected();
    while (!_quit && !_windows.empty() && stopSignal == 0) {
        if (wasConnected && !_client.connected()) handleDisconnect();
        if (!_client.connected() && _client.reconnectIfDue()) _dirty = true;
        wasConnected = _client.connected();
        if (_dirty) {
            _screen->draw(*_windows.back());
            _dirty = false;
        }

        pollfd fds[2] = {{_screen->inputFd(), POLLIN, 0}, {_client.fd(), POLLIN, 0}};
        if (_client.wantsWrite()) fds[1].events |= POLLOUT;
        const nfds_t count = _client.connected() ? 2 : 1;
        // Wake now and then even when idle: a resize signal that lands just
        // before poll() shows up as KEY_RESIZE only at the next key read.
        int timeout = 500;
        if (!_client.connected())
            timeout = static_cast<int>(std::min<long long>(timeout, _client.untilReconnect().count()));
        // The window on top may change by itself (a typing notice that runs out): wake then to draw it.
        const auto changesAt = _windows.back()->changesAt(Window::Clock::now());
        if (changesAt) {
            const auto until = std::chrono::ceil<std::chrono::milliseconds>(*changesAt - Window::Clock::now());
            timeout = static_cast<int>(std::clamp<long long>(until.count(), 0, timeout));
        }
        ::poll(fds, count, timeout);
        if (changesAt && Window::Clock::now() >= *changesAt) _dirty = true;

        if (count == 2 && (fds[1].revents & POLLOUT)) _client.flush();
        if (count == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) readPeerd();
        while (auto key = _screen->readKey()) handleKey(*key);
        if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(fds[0].revents & POLLIN)) _quit = true;
        closePending();
    }
    _windows.clear();
    _screen.reset();
    return 0;
}

void App::readPeerd()
{
    for (const auto& event : _client.readEvents()) handleEvent(event);
}

void App::handleKey(const Key& key)
{
    _dirty = true;
    // ncurses already resized its idea of the screen; a redraw lays everything out again.
    if (key.isFunction(KEY_RESIZE)) return;
    _windows.back()->onKey(key);
}

void App::handleEvent(const local::Event& event)
{
    const auto change = _roster.apply(event);
    // Every connection starts with welcome: ask for the roster before the
    // windows ask for anything, so it arrives first.
    if (std::holds_alternative<local::WelcomeEvent>(event)) send(local::RosterRequest{});
    if (change.unreadRose) _screen->bell();
    for (auto& window : _windows) window->onEvent(event);
    _dirty = true;
}

void App::handleDisconnect()
{
    _roster.disconnected();
    for (auto& window : _windows) window->onDisconnected();
    _dirty = true;
}

bool App::send(const local::Request& request) { return _client.send(request); }

bool App::connected() const { return _client.connected(); }

std::string App::connectionProblem() const { return _client.lastError(); }

void App::open(std::unique_ptr<Window> window)
{
    _windows.push_back(std::move(window));
    _windows.back()->onOpen();
    _dirty = true;
}

void App::closeTop() { ++_pendingCloses; }

void App::closePending()
{
    for (; _pendingCloses > 0 && !_windows.empty(); --_pendingCloses) _windows.pop_back();
    _pendingCloses = 0;
    if (_windows.empty()) _quit = true;
    _dirty = true;
}

void App::quit() { _quit = true; }

} // namespace peerchat::chatui
