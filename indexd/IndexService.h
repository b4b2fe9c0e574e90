#pragma once

#include "Broadcaster.h"
#include "DaemonService.h"
#include "Directory.h"
#include "EventLoop.h"
#include "IndexSettings.h"
#include "LoginHandler.h"
#include "MailCarrier.h"
#include "Mailbox.h"
#include "RosterListener.h"
#include "UdpChannel.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace peerchat {

/// Everything indexd serves, on one EventLoop: the UDP socket with its
/// LoginHandler, Broadcaster and MailCarrier, the three roster ports, the
/// Directory they share, the offline Mailbox, and two periodic sweeps: one
/// expires silent peerchat users, one resends unacked offline lines.
class IndexService : public DaemonService
{
public:
    /// Opens the mailbox and binds every socket; throws Poco::IOException with
    /// a message for a person ("cannot listen on UDP 0.0.0.0:9400: address in
    /// use; ...") when the database cannot be opened or a socket bound.
    explicit IndexService(const IndexSettings& settings);
    ~IndexService() override;
    IndexService(const IndexService&) = delete;
    IndexService& operator=(const IndexService&) = delete;

    /// The line scripts and tests wait for, with the real ports:
    /// "indexd ready udp=HOST:PORT seed-roster=P1 dotnet-roster=P2 peerchat-roster=P3".
    std::string readyLine() const override;

    /// Serves until stop(); call from the thread that owns the service.
    void run() override;
    /// Makes run() return; safe from any thread.
    void stop() override;

private:
    std::unique_ptr<RosterListener> listen(RosterFormat format, std::uint16_t port, const std::string& flag);
    static std::unique_ptr<Mailbox> openMailbox(const IndexSettings& settings);
    /// Runs task every period on the loop, for as long as the loop runs.
    void every(std::chrono::milliseconds period, const std::function<void()>& task);

    IndexSettings _settings;
    EventLoop _loop;
    Directory _directory;
    std::unique_ptr<Mailbox> _mailbox;
    std::unique_ptr<MailCarrier> _carrier;
    std::unique_ptr<RosterListener> _seedRoster;
    std::unique_ptr<RosterListener> _dotnetRoster;
    std::unique_ptr<RosterListener> _peerchatRoster;
    std::unique_ptr<LoginHandler> _handler;
    std::unique_ptr<UdpChannel> _udp;
    std::unique_ptr<Broadcaster> _broadcaster;
};

} // namespace peerchat
