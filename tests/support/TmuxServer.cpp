#include "TmuxServer.h"

#include "Wait.h"

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>

#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>
#include <cstring>

namespace peerchat::test {

namespace {

/// Printed after a window's program ends, followed by its exit status and "]".
constexpr const char* kExitMark = "[program exited with status ";

std::string joined(const std::vector<std::string>& args)
{
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
}

} // namespace

TmuxServer::TmuxServer(int columns, int rows) : _socketPath(_dir.file("tmux.sock"))
{
    const std::string size = std::to_string(columns) + "x" + std::to_string(rows);
    // The first window only holds the session open; tests make their own.
    tmux({"new-session", "-d", "-s", _session, "-x", std::to_string(columns), "-y", std::to_string(rows), "-n",
          "idle", "cat", ";", "set-option", "-g", "default-size", size});
}

TmuxServer::~TmuxServer()
{
    try {
        tmux({"kill-server"});
    } catch (...) {
        // Already gone: nothing left to kill.
    }
}

std::string TmuxServer::tmux(const std::vector<std::string>& args)
{
    std::vector<std::string> argv{"-S", _socketPath, "-f", "/dev/null", "-u"};
    argv.insert(argv.end(), args.begin(), args.end());
    Poco::Process::Env env{{"LANG", "C.UTF-8"}, {"LC_ALL", "C.UTF-8"}};
    Poco::Pipe output;
    Poco::ProcessHandle process = Poco::Process::launch("tmux", argv, nullptr, &output, &output, env);
    Poco::PipeInputStream stream(output);
    std::string text;
    Poco::StreamCopier::copyToString(stream, text);
    const int status = process.wait();
    if (status != 0) CPPUNIT_FAIL("tmux " + joined(args) + " failed (" + std::to_string(status) + "): " + text);
    return text;
}

void TmuxServer::newWindow(const std::string& window, const std::vector<std::string>& command)
{
    // A shell around the program prints how it ended, then keeps the pane
    // open: tmux 3.3a closes a pane's pty as soon as it reaps the pane's
    // process and drops the output it has not read yet, which on a busy
    // machine can be the program's last lines and this one. kill-server
    // hangs up the pty, which ends the sleep.
    std::vector<std::string> args{"new-window", "-d", "-t", _session, "-n", window, "--", "sh", "-c",
                                  std::string("\"$@\"; echo \"") + kExitMark + "$?]\"; exec sleep infinity", "sh"};
    args.insert(args.end(), command.begin(), command.end());
    tmux(args);
}

void TmuxServer::sendText(const std::string& window, const std::string& text)
{
    tmux({"send-keys", "-t", target(window), "-l", "--", text});
}

void TmuxServer::sendKeys(const std::string& window, const std::vector<std::string>& keys)
{
    std::vector<std::string> args{"send-keys", "-t", target(window)};
    args.insert(args.end(), keys.begin(), keys.end());
    tmux(args);
}

std::string TmuxServer::capture(const std::string& window) { return tmux({"capture-pane", "-p", "-t", target(window)}); }

std::string TmuxServer::transcript(const std::string& window)
{
    return tmux({"capture-pane", "-p", "-J", "-S", "-", "-t", target(window)});
}

bool TmuxServer::waitForTmux(const std::function<bool()>& condition, std::chrono::milliseconds timeout)
{
    // Each look runs tmux once; looking every 50 ms is quick enough for a
    // person's screen and spares the CPU the other tests share.
    auto lastLook = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    return waitUntil(
        [&] {
            const auto now = std::chrono::steady_clock::now();
            if (now - lastLook < std::chrono::milliseconds(50)) return false;
            lastLook = now;
            return condition();
        },
        timeout);
}

bool TmuxServer::waitForScreen(const std::string& window, const ScreenCondition& condition,
                               std::chrono::milliseconds timeout)
{
    return waitForTmux([&] { return condition(capture(window)); }, timeout);
}

bool TmuxServer::waitForText(const std::string& window, const std::string& text, std::chrono::milliseconds timeout)
{
    return waitForScreen(window, [&](const std::string& screen) { return screen.find(text) != std::string::npos; },
                         timeout);
}

bool TmuxServer::waitForExit(const std::string& window, std::chrono::milliseconds timeout)
{
    return waitForTmux([&] { return exited(window); }, timeout);
}

void TmuxServer::resize(const std::string& window, int columns, int rows)
{
    tmux({"resize-window", "-t", target(window), "-x", std::to_string(columns), "-y", std::to_string(rows)});
}

bool TmuxServer::exited(const std::string& window) { return exitStatus(window) >= 0; }

int TmuxServer::exitStatus(const std::string& window)
{
    const std::string text = transcript(window);
    const auto at = text.rfind(kExitMark);
    if (at == std::string::npos) return -1;
    return std::atoi(text.c_str() + at + std::strlen(kExitMark));
}

} // namespace peerchat::test
