#pragma once

#include "ConversationStore.h"
#include "CryptoTypes.h"
#include "EventLoop.h"
#include "KeyPins.h"
#include "LocalProtocol.h"
#include "Roster.h"
#include "UiSession.h"
#include "WireListener.h"

#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace peerchat {

class WireLink;

/// peerd's local socket: accepts any number of UIs, hands each to a
/// UiSession, and turns what happens on the wire into events for them
/// (docs/PROTOCOL.md section 3).
class UiServer : public WireListener
{
public:
    /// Claims socketPath for user and listens on it (mode 0600, directory
    /// 0700); a socket file nobody answers on is stale and replaced. Only
    /// clients running as this process's effective uid are served (SO_PEERCRED);
    /// others are disconnected at once. pins are the peer keys peerd holds,
    /// identity the user's own public key (its fingerprint goes in the welcome
    /// and keys events). Throws Poco::ExistsException when another peerd
    /// answers there ("peerd for alice is already running (pid 1234); ..."),
    /// another Poco::Exception with a message for a person when the path
    /// cannot be used.
    UiServer(EventLoop& loop, Roster& roster, ConversationStore& store, KeyPins& pins, const PublicKey& identity,
             const std::string& user, const std::string& socketPath);
    ~UiServer() override;
    UiServer(const UiServer&) = delete;
    UiServer& operator=(const UiServer&) = delete;

    /// Throws Poco::ExistsException ("peerd for alice is already running (pid
    /// 1234); attach with ...") when another peerd answers on socketPath.
    static void refuseIfServed(const std::string& user, const std::string& socketPath);

    /// Starts accepting clients; their sends go out through wire.
    void serve(WireLink& wire);

    /// Tells every client detail in a `state stopping` event, sends what they
    /// will take, disconnects them, stops listening and removes the socket file.
    void stop(const std::string& detail);

    const std::string& path() const { return _path; }

    void linkStateChanged(local::LinkState state, const std::string& detail) override;
    void presenceChanged(const Roster::Change& change) override;
    void lineReceived(const local::ChatLine& line, std::uint32_t unread) override;
    void lineStateChanged(const std::string& peer, std::uint64_t id, local::LineState state) override;
    void deliveryProblem(const std::string& peer, const std::string& detail) override;
    void trustChanged(const std::string& peer, local::Trust trust) override;

    // ---- for UiSession --------------------------------------------------

    local::WelcomeEvent welcome() const;
    local::RosterEvent roster() const;
    /// The history with peer as history events that each fit in one line (oldest first).
    std::vector<local::HistoryEvent> history(const std::string& peer) const;
    /// The fingerprints to compare for peer.
    local::KeysEvent keys(const std::string& peer) const;
    WireLink& wire() { return *_wire; }
    ConversationStore& store() { return _store; }
    KeyPins& pins() { return _pins; }

    /// Sends event to every client.
    void broadcast(const local::Event& event);
    /// Sends a message event for line to every client subscribed to its peer.
    void broadcastLine(const local::ChatLine& line);
    /// Sends event to every client subscribed to peer.
    void broadcastTo(const std::string& peer, const local::Event& event);
    /// Forgets a session that closed, once its callback has returned.
    void sessionClosed(std::uint64_t id);

private:
    void acceptClient();
    /// The user info a UI sees for name at peer, with its trust.
    local::UserInfo userInfo(const std::string& name, const Roster::Peer& peer) const;

    EventLoop& _loop;
    Roster& _roster;
    ConversationStore& _store;
    KeyPins& _pins;
    PublicKey _identity;
    std::string _user;
    std::string _path;
    Poco::Net::ServerSocket _listener;
    bool _listening = false;
    WireLink* _wire = nullptr;
    std::map<std::uint64_t, std::unique_ptr<UiSession>> _sessions;
    std::uint64_t _nextSessionId = 1;
    Poco::Logger& _logger;
};

} // namespace peerchat
