#pragma once

#include "ChannelData.h"
#include "Endpoint.h"
#include "StunMessage.h"
#include "TurnCredentials.h"

#include <Poco/Net/IPAddress.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

/// The client side of one TURN allocation (RFC 8656) over UDP, as state: it
/// never touches a socket and takes the time from its caller. The caller
/// sends what takeDatagrams() returns to the server, hands every datagram
/// that came from the server's endpoint to receive(), and calls tick() at
/// nextWakeup(). It allocates (the 401 that teaches realm and nonce, the
/// retry with long-term credentials, the retry on 438 stale nonce),
/// refreshes the allocation, the permissions and the channel bindings a
/// minute before they end, binds a channel per peer the first time
/// sendToPeer() names it, and retransmits requests on a bounded schedule,
/// failing with an error a person can act on when the server does not answer.
/// Answers are matched by transaction id; a success, or an error other than
/// 400/401/420/438, must carry a valid MESSAGE-INTEGRITY once credentials are
/// in use, and a FINGERPRINT, when present, must match: anything else is
/// dropped and counted.
class TurnClient
{
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    enum class State {
        Idle,       ///< allocate() not called yet
        Allocating, ///< Allocate sent, no success yet
        Allocated,  ///< relayedEndpoint() is ours
        Releasing,  ///< Refresh with lifetime 0 sent
        Released,   ///< freed (or the server stopped answering the release)
        Failed,     ///< see error()
    };

    /// What a datagram on the shared UDP socket is, by its first byte (RFC
    /// 7983): 0-3 STUN, 64-79 TURN ChannelData, anything else not TURN. Only
    /// datagrams from the TURN server's endpoint may be asked: peerchat's own
    /// start with a letter, and 'A'-'O' (65-79, as in the seed's "Accept")
    /// fall in the ChannelData range.
    enum class DatagramKind { Stun, ChannelData, Other };
    static DatagramKind classify(std::uint8_t firstByte);

    /// A peer's datagram that came through the relay.
    struct PeerDatagram
    {
        Endpoint peer;
        std::string payload;
    };

    /// Requests are sent at 0, 0.25, 0.75, 1.75 and 3.75 s and given up at 7.75 s.
    static constexpr std::chrono::milliseconds kRetransmitDelays[] = {
        std::chrono::milliseconds(250), std::chrono::milliseconds(500), std::chrono::milliseconds(1000),
        std::chrono::milliseconds(2000), std::chrono::milliseconds(4000)};
    /// How long a request goes unanswered before it is given up: the sum of the delays.
    static constexpr std::chrono::milliseconds kGiveUpAfter = kRetransmitDelays[0] + kRetransmitDelays[1]
        + kRetransmitDelays[2] + kRetransmitDelays[3] + kRetransmitDelays[4];
    /// Datagrams for a peer held while its channel is being bound.
    static constexpr std::size_t kMaxQueuedPerPeer = 16;

    /// server is the TURN server's UDP endpoint; lifetime is what Allocate
    /// asks for (the server may grant another).
    TurnClient(Endpoint server, TurnCredentials credentials,
               std::chrono::seconds lifetime = std::chrono::seconds(600));

    /// Starts the allocation; does nothing unless Idle.
    void allocate(TimePoint now);
    /// Frees the allocation (Refresh with lifetime 0) and drops every queued
    /// datagram. While still Allocating it only stops: an allocation whose
    /// success was lost on the way ends with its lifetime.
    void release(TimePoint now);

    /// Sends payload to peer through the relay: as ChannelData once peer's
    /// channel is bound; before that it is queued (a Send indication would be
    /// dropped by the server until the permission the ChannelBind installs
    /// exists, and the bind takes one round trip) and the bind is started.
    /// False when the datagram was dropped: no allocation, the queue is full,
    /// or all 4096 channels are taken.
    bool sendToPeer(const Endpoint& peer, std::string_view payload, TimePoint now);

    /// Lets datagrams from host reach us through the relay (CreatePermission),
    /// refreshed while the allocation lasts; sendToPeer() does it for the
    /// peers it names (their ChannelBind installs it).
    void permit(const Poco::Net::IPAddress& host, TimePoint now);

    /// Handles a datagram from the server: a peer's datagram (ChannelData or
    /// Data indication) comes back; answers to our requests update the state.
    std::optional<PeerDatagram> receive(std::string_view bytes, TimePoint now);

    /// Retransmits, gives up, and refreshes what is due by now.
    void tick(TimePoint now);
    /// When tick() has something to do next; nullopt when nothing is scheduled.
    std::optional<TimePoint> nextWakeup() const;

    /// The datagrams to send to server(), oldest first; empties the list.
    std::vector<std::string> takeDatagrams();

    const Endpoint& server() const { return _server; }
    State state() const { return _state; }
    /// Why the state is Failed, with what to do about it; empty otherwise.
    const std::string& error() const { return _error; }
    /// Our address on the relay, which peers send to (XOR-RELAYED-ADDRESS).
    const std::optional<Endpoint>& relayedEndpoint() const { return _relayed; }
    /// Our address as the server sees it (XOR-MAPPED-ADDRESS): a server-reflexive candidate.
    const std::optional<Endpoint>& mappedEndpoint() const { return _mapped; }
    bool channelBound(const Endpoint& peer) const;
    bool permitted(const Poco::Net::IPAddress& host) const;
    /// Datagrams from the server refused: malformed, unknown transaction or
    /// channel, bad integrity.
    std::uint64_t dropped() const { return _dropped; }

private:
    enum class Purpose { Allocate, Refresh, Permission, Channel };
    struct Request
    {
        explicit Request(Purpose what) : purpose(what) {}
        Purpose purpose;
        Endpoint peer;                 ///< Channel
        Poco::Net::IPAddress host;     ///< Permission
        std::uint16_t channel = 0;     ///< Channel
        std::uint32_t lifetime = 0;    ///< Refresh
        int staleNonceRetries = 0;
    };
    struct Transaction
    {
        explicit Transaction(Request what) : request(std::move(what)) {}
        Request request;
        std::string bytes;
        std::size_t sends = 1;
        TimePoint nextSend;
        bool authenticated = false;
    };
    struct Refreshable
    {
        bool confirmed = false;
        bool pending = false;
        TimePoint refreshAt;
    };
    struct Channel : Refreshable
    {
        std::uint16_t number = 0;
        std::deque<std::string> queue;
    };

    void start(Request request, TimePoint now);
    void handleAnswer(const StunMessage& answer, TimePoint now);
    void handleSuccess(const Request& request, const StunMessage& answer, TimePoint now);
    void handleError(const Request& request, const StunMessage& answer, bool authenticated, TimePoint now);
    void handleTimeout(const Request& request);
    void requestPeerWork(TimePoint now);
    void bindChannel(const Endpoint& peer, Channel& channel, TimePoint now);
    void fail(std::string why);
    std::optional<PeerDatagram> receiveChannelData(std::string_view bytes);
    std::optional<PeerDatagram> receiveIndication(const StunMessage& message);
    void drop(const std::string& why);
    static StunMessage::Method methodOf(Purpose purpose);

    Endpoint _server;
    TurnCredentials _credentials;
    std::chrono::seconds _lifetime;
    State _state = State::Idle;
    std::string _error;
    std::string _realm;
    std::string _nonce;
    std::optional<std::string> _key;
    std::optional<Endpoint> _relayed;
    std::optional<Endpoint> _mapped;
    Refreshable _allocation;
    std::map<StunMessage::TransactionId, Transaction> _pending;
    std::map<Poco::Net::IPAddress, Refreshable> _permissions;
    std::map<Endpoint, Channel> _channels;
    std::map<std::uint16_t, Endpoint> _channelPeers;
    std::uint16_t _nextChannel = ChannelData::kFirstChannel;
    std::vector<std::string> _outgoing;
    std::uint64_t _dropped = 0;
};

} // namespace peerchat
