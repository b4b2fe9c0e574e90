#pragma once

#include "ConversationStore.h"
#include "DatagramSink.h"
#include "Endpoint.h"
#include "EventLoop.h"
#include "LocalProtocol.h"
#include "Parsed.h"
#include "Protocol.h"
#include "Roster.h"
#include "RosterFetcher.h"
#include "WireListener.h"

#include <Poco/Logger.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace peerchat {

/// peerd's side of the wire: logs in to indexd and keeps retrying until it
/// answers, fetches the roster, follows presence, accepts talk only from
/// where the roster says the sender is, and sends talk in each peer's
/// encoding. Datagrams go out through a DatagramSink; what changed goes to a
/// WireListener.
class WireLink
{
public:
    struct Settings
    {
        std::string self;                 ///< the user peerd runs for
        Endpoint index;                   ///< indexd's UDP endpoint
        Endpoint loginEndpoint;           ///< LOCALENDPOINT written in login and logout
        std::chrono::milliseconds loginRetry{2000};
        std::chrono::milliseconds rosterDeadline{5000};
    };

    /// onRefused is called once indexd has refused the login for good (after
    /// the listener has heard of it), so the program can stop.
    WireLink(EventLoop& loop, DatagramSink& sink, Roster& roster, ConversationStore& store,
             WireListener& listener, Settings settings, std::function<void()> onRefused);
    ~WireLink();
    WireLink(const WireLink&) = delete;
    WireLink& operator=(const WireLink&) = delete;

    /// Sends the first login and keeps resending it every loginRetry until
    /// the roster has arrived.
    void start();

    /// Handles one datagram that arrived from from; drops (and logs) what
    /// does not parse or does not come from where it should.
    void handleDatagram(std::string_view bytes, const Endpoint& from);

    /// Sends text to the online user to and stores the line; returns it, or
    /// a refusal for a person ("bob is not online; ...").
    Parsed<local::ChatLine> sendTalk(const std::string& to, const std::string& text);

    /// Stops retrying and, unless indexd refused the login, sends logout.
    void logout();

    local::LinkState state() const { return _state; }
    const Endpoint& index() const { return _settings.index; }
    const std::string& self() const { return _settings.self; }

    /// The endpoint to write in login: bound itself, or, when bound is a
    /// wildcard address, the local address the kernel uses to reach index.
    static Endpoint loginEndpoint(const Endpoint& bound, const Endpoint& index);

private:
    struct Dispatch;
    using Presence = std::variant<Login, Logout>;

    void handleAccept(const Accept& accept, const Endpoint& from);
    void handleRefuse(const Refuse& refuse, const Endpoint& from);
    void handleLogin(const Login& login, const Endpoint& from);
    void handleLogout(const Logout& logout, const Endpoint& from);
    void handleTalk(const Talk& talk, const Endpoint& from);

    void applyLogin(const Login& login);
    void applyLogout(const Logout& logout);
    bool fromIndex(const Endpoint& from, std::string_view verb);
    void sendLogin();
    void rosterFetched(Parsed<RosterFetcher::Entries> roster);
    void setState(local::LinkState state, const std::string& detail);
    void drop(const Endpoint& from, std::string_view reason);

    EventLoop& _loop;
    DatagramSink& _sink;
    Roster& _roster;
    ConversationStore& _store;
    WireListener& _listener;
    Settings _settings;
    std::function<void()> _onRefused;
    RosterFetcher _fetcher;
    std::vector<Presence> _presenceDuringFetch;  ///< broadcasts that arrived while the roster was on its way
    EventLoop::TimerId _retryTimer = 0;
    local::LinkState _state = local::LinkState::Connecting;
    bool _loginSent = false;
    bool _accepted = false;
    bool _silenceReported = false;
    Poco::Logger& _logger;
};

} // namespace peerchat
