#pragma once

#include "TempDir.h"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace peerchat::test {

/// A private tmux server to run terminal programs in, as a person at a
/// terminal would: its own socket in a private directory (tmux -S, which
/// leaves nothing behind, unlike -L), no configuration, windows of a
/// fixed size, UTF-8 (LANG and LC_ALL are C.UTF-8). Tests type with
/// sendText/sendKeys and read the screen with capture. Windows stay after
/// their program exits, with a line saying how it ended, so a test can read
/// what it printed and its exit status.
/// The server and everything in it is killed when the object goes away.
class TmuxServer
{
public:
    using ScreenCondition = std::function<bool(const std::string& screen)>;

    TmuxServer(int columns, int rows);
    ~TmuxServer();
    TmuxServer(const TmuxServer&) = delete;
    TmuxServer& operator=(const TmuxServer&) = delete;

    /// Runs command (program and arguments, no shell) in a new window named window.
    void newWindow(const std::string& window, const std::vector<std::string>& command);
    /// Types text literally (UTF-8 as it is).
    void sendText(const std::string& window, const std::string& text);
    /// Presses keys by tmux's names: "Enter", "Escape", "BSpace", "C-c", "PPage".
    void sendKeys(const std::string& window, const std::vector<std::string>& keys);
    /// The window's screen now, one line per row, trailing blanks dropped.
    std::string capture(const std::string& window);
    /// True when condition holds for the window's screen before timeout.
    bool waitForScreen(const std::string& window, const ScreenCondition& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// True when text appears on the window's screen before timeout.
    bool waitForText(const std::string& window, const std::string& text,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// True when the window's program exits before timeout.
    bool waitForExit(const std::string& window, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// Resizes the window (its program gets SIGWINCH).
    void resize(const std::string& window, int columns, int rows);
    /// Everything the window showed, scrolled-off lines included, with rows
    /// the terminal wrapped joined again: for reading what a program printed.
    std::string transcript(const std::string& window);
    /// True when the window's program has exited.
    bool exited(const std::string& window);
    /// How the window's program ended: its exit code, 128 + the signal that
    /// killed it, or -1 while it runs.
    int exitStatus(const std::string& window);

    /// Runs one tmux command on this server and returns what it printed;
    /// fails the test when tmux fails.
    std::string tmux(const std::vector<std::string>& args);

private:
    /// waitUntil, looking at most every 50 ms.
    bool waitForTmux(const std::function<bool()>& condition, std::chrono::milliseconds timeout);
    std::string target(const std::string& window) const { return _session + ":" + window; }

    TempDir _dir;
    std::string _socketPath;
    std::string _session = "test";
};

} // namespace peerchat::test
