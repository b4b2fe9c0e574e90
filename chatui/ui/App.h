#pragma once

#include "CommandLine.h"
#include "PeerClient.h"
#include "RosterModel.h"
#include "Screen.h"
#include "Window.h"
#include "WindowHost.h"

#include <memory>
#include <vector>

namespace peerchat::chatui {

/// chatui itself: one loop over the keyboard and peerd's socket. Keys go to
/// the window on top, events from peerd to the shared roster and then to
/// every open window; the terminal is redrawn when something changed and
/// when it is resized (KEY_RESIZE, handled here and nowhere else).
class App : public WindowHost
{
public:
    /// The whole program: parses args, connects, runs; returns the exit code.
    static int main(int argc, char** argv);

    /// client must be connected already; peer empty opens the roster.
    App(PeerClient& client, const Options& options);

    /// Runs until the last window closes or a quit; returns the exit code.
    int run();

    bool send(const local::Request& request) override;
    bool connected() const override;
    std::string connectionProblem() const override;
    const RosterModel& roster() const override { return _roster; }
    void open(std::unique_ptr<Window> window) override;
    void closeTop() override;
    void quit() override;

private:
    void handleKey(const Key& key);
    void handleEvent(const local::Event& event);
    void handleDisconnect();
    void readPeerd();
    void closePending();

    PeerClient& _client;
    Options _options;
    RosterModel _roster;
    std::unique_ptr<Screen> _screen;
    std::vector<std::unique_ptr<Window>> _windows;
    /// Windows asked to close while their own callbacks ran; closed after.
    int _pendingCloses = 0;
    bool _quit = false;
    bool _dirty = true;
};

} // namespace peerchat::chatui
