#pragma once

#include "DatagramSink.h"
#include "Endpoint.h"
#include "Protocol.h"
#include "Timers.h"
#include "TurnClient.h"

#include <Poco/Logger.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// peerd's TURN relay (RFC 8656, a coturn beside indexd) on peerd's one UDP
/// socket: the path of last resort, for a peer that punching cannot reach
/// (a symmetric NAT on one side). indexd offers the server and a short-lived
/// credential (turn); the allocation is made only when PeerPaths asks for it
/// (want()), kept while datagrams go through it, released after kIdleFor
/// without any and at logout. A failed allocation is logged once and not
/// tried again for kRetryAfter.
///
/// As a DatagramSink it relays to a peer what PeerPaths sends on a relayed
/// route; WireLink hands it every datagram from the TURN server's endpoint
/// (isServer()) before anything else, and gets back the peers' datagrams
/// that came through it.
class RelayLink : public DatagramSink
{
public:
    static constexpr std::chrono::seconds kRetryAfter{30};
    static constexpr std::chrono::minutes kIdleFor{5};

    struct Hooks
    {
        /// The relay candidate came (allocated) or went (released, failed).
        std::function<void()> changed;
    };

    /// socket is peerd's UDP socket; self the user peerd runs for (the NAME of its TURN username).
    RelayLink(Timers& timers, DatagramSink& socket, std::string self, Hooks hooks);
    RelayLink(const RelayLink&) = delete;
    RelayLink& operator=(const RelayLink&) = delete;

    /// indexd offers a TURN server and a credential: the next allocation uses them.
    void offer(const Turn& turn);
    /// A peer needs the relay: allocate, unless allocated, allocating, or
    /// waiting after a failure; without an offer, say once that there is no relay.
    void want();
    /// Lets the datagrams of the peer indexd introduces in through the
    /// relay: a permission for the host of each of its candidates.
    void permit(const Meet& meet);
    /// Frees the allocation (logout).
    void release();

    /// True when from is the TURN server in use: its datagrams are for receive(), whatever they look like.
    bool isServer(const Endpoint& from) const;
    /// A datagram from the TURN server: a peer's datagram relayed to us, or
    /// nothing (an answer to our requests, or something dropped and counted).
    std::optional<TurnClient::PeerDatagram> receive(std::string_view bytes);

    /// Relays bytes to peer (a datagram lost when there is no allocation, as UDP may lose any).
    void sendTo(std::string_view bytes, const Endpoint& peer) override;

    /// Our relayed endpoint while allocated: a relay candidate.
    std::optional<Endpoint> candidate() const;

private:
    void used();
    void settle();
    void arm();
    void wake();

    Timers& _timers;
    DatagramSink& _socket;
    std::string _self;
    Hooks _hooks;
    std::optional<Turn> _offer;
    std::optional<TurnClient> _client;
    std::optional<Endpoint> _announced;            ///< the candidate last told through changed
    std::optional<Timers::TimePoint> _retryAfter;  ///< set after a failure
    Timers::TimePoint _lastUsed{};
    bool _toldNoOffer = false;
    Timer _timer;
    Poco::Logger& _logger;
};

} // namespace peerchat
