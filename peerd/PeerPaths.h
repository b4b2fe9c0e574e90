#pragma once

#include "Candidate.h"
#include "DatagramSink.h"
#include "Endpoint.h"
#include "PeerSessions.h"
#include "Protocol.h"
#include "Roster.h"
#include "Timers.h"

#include <Poco/Logger.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace peerchat {

/// How datagrams reach a peer: on a shared LAN (to one of its host
/// candidates), directly through NATs (to where its NAT maps it), through a
/// TURN relay, or not yet at all.
enum class PathKind : std::uint8_t { None, Lan, Direct, Relay };

/// The token of a kind in the local protocol and the logs: none, lan, direct, relay.
std::string_view pathToken(PathKind kind);

/// Where a datagram for a peer goes, decided in one place: everything peerd
/// sends to a peer goes through send() (sealed) or sendPlain() (seed and
/// .NET talk), and every authentic datagram from a peer is reported with
/// heard(). Per peer it keeps the candidates indexd handed out (meet), the
/// probes in flight, and the route: the endpoint the peer's datagrams last
/// came from, preferred by kind (lan over direct over relay).
///
/// A peer's route starts as the endpoint indexd registered (nothing else is
/// known, and on a flat network it works at once). When a msg (which is
/// always acked) goes out and nothing authentic comes back within
/// kPunchAfter, peerd asks indexd to introduce the two (punch, again every
/// kPunchEvery while nothing answers), and both probe every candidate of the
/// other every kProbeEvery for kSeekFor: the
/// first that answers becomes the route, a better kind that answers later
/// replaces it, and any answer replaces a route not heard from within kStale. A route in use is kept alive
/// by a probe when nothing was heard on it for kKeepalive, and dropped (path
/// none) after kKeepaliveMisses unanswered. Delivery never knows any of it.
///
/// When probing has found nothing for kRelayAfter, PeerPaths asks for this
/// peerd's own TURN relay (a symmetric NAT on one side defeats punching);
/// once it exists (relayReady()), indexd introduces the two again, so that
/// the peer learns the relay candidate and probes it. A route may then be
/// *relayed*: datagrams on it go out through the relay (the relay sink), and
/// those that came in through it are reported with relayed set. A relay
/// route is tried for an upgrade (a new introduction and probes) every
/// kUpgradeEvery while it carries lines.
///
/// What a peer's peerd takes beyond peerchat/3's first form is learnt per
/// login of the peer (its KXPK): before the first lines to it, peerd asks
/// with its own caps (again every kCapsEvery while lines go, kCapsTries
/// times at most; a peerd from before caps never answers). Once the peer
/// said it takes bundles, the messages handed to send() together go in as
/// few seals as fit kMaxBundleBytes each.
class PeerPaths
{
public:
    static constexpr std::chrono::milliseconds kPunchAfter{400};
    static constexpr std::chrono::milliseconds kPunchEvery{1200};  ///< at most one punch per peer this often
    static constexpr std::chrono::milliseconds kProbeEvery{100};
    static constexpr std::chrono::milliseconds kSeekFor{3000};
    static constexpr std::chrono::milliseconds kStale{10000};
    static constexpr std::chrono::milliseconds kKeepalive{15000};
    static constexpr int kKeepaliveMisses = 2;
    static constexpr std::chrono::minutes kActiveFor{5};  ///< a route is kept alive this long after its last line
    static constexpr std::chrono::milliseconds kRelayAfter{1000};
    static constexpr std::chrono::seconds kUpgradeEvery{30};
    static constexpr std::chrono::milliseconds kCapsEvery{1000};  ///< at most one caps to a peer this often
    static constexpr int kCapsTries = 3;  ///< caps that ask a peer's login for its own, at most

    struct Hooks
    {
        /// Ask indexd to introduce this peerd and peer (a sealed punch).
        std::function<void(const std::string& peer)> introduce;
        /// peer's route goes to another endpoint now: what waits for it may go at once.
        std::function<void(const std::string& peer)> moved;
        /// peer's route is now of another kind (None: no working path).
        std::function<void(const std::string& peer, PathKind kind)> changed;
        /// Probing found no path for a while: this peerd needs its relay.
        std::function<void()> needRelay;
    };

    /// sink sends straight from peerd's socket, relay through its TURN relay.
    PeerPaths(Timers& timers, DatagramSink& sink, DatagramSink& relay, const Roster& roster, PeerSessions& sessions,
              std::string self, Hooks hooks);

    /// Seals message to name, online with keys, and sends it on name's
    /// route; a message that cannot be sealed (keys a malicious indexd made
    /// up) is not sent, logged at debug as the drops it causes.
    void send(const std::string& name, const Message& message);
    /// The same for several messages: in bundles, when name takes them.
    void send(const std::string& name, const std::vector<Message>& messages);

    /// Sends talk as plain text to name, a seed or .NET peer online, in the
    /// encoding its client reads.
    void sendPlain(const std::string& name, const Talk& talk);

    /// True when a datagram from from may be a peer's: its registered
    /// endpoint, a candidate or its route.
    bool knows(const Endpoint& from) const;

    /// The peer a seal from from, under the key-exchange key id sender, is
    /// taken to be from: the one registered at from, else the one of from's
    /// candidates whose key id is sender; nullptr when none.
    const std::string* peerAt(const Endpoint& from, const KeyId& sender) const;
    /// The same for a seal that came through this peerd's relay from from:
    /// the peer with an address (registered or candidate) of from's host and
    /// the key id sender. Only the host counts: a peer behind a symmetric NAT
    /// reaches the relay from a port nobody has seen, and the relay lets in
    /// only the hosts it was told to (permissions).
    const std::string* peerRelayedFrom(const Endpoint& from, const KeyId& sender) const;

    /// An authentic datagram of name came from from (through this peerd's
    /// relay when relayed): the route, if from is no worse than it, or it has
    /// gone stale.
    void heard(const std::string& name, const Endpoint& from, bool relayed = false);

    /// name's peerd says what it takes (caps); one that asks is answered.
    void caps(const std::string& name, const Caps& caps);

    /// indexd introduces peer: probe its candidates now.
    void meet(const Meet& meet);
    /// name probes this peerd at the endpoint it came from: answer there
    /// (the answer, like every authentic datagram, counts through heard()).
    void probe(const std::string& name, const Probe& probe, const Endpoint& from, bool relayed = false);

    /// This peerd's relay is allocated: the peers still sought are introduced again.
    void relayReady();
    /// This peerd's relay is gone: so are the routes through it.
    void relayLost();

    /// A peer came, moved or left: a move or a new login forgets its route and candidates.
    void peerChanged(const Roster::Change& change);

    /// How name is reached now.
    PathKind kindOf(const std::string& name) const;

private:
    struct Route
    {
        Endpoint endpoint;
        PathKind kind = PathKind::None;
        Timers::TimePoint heard{};
        bool relayed = false;  ///< through this peerd's own relay
    };

    struct State
    {
        Endpoint registered;
        std::vector<Candidate> candidates;            ///< from the last meet
        std::optional<Route> route;
        std::optional<Timers::TimePoint> seekUntil;   ///< set while seeking
        Timers::TimePoint seekSince{};
        Timers::TimePoint nextProbe{};
        std::optional<Timers::TimePoint> punchAt;     ///< set while an unproven route waits for an answer
        std::optional<Timers::TimePoint> lastPunch;
        Timers::TimePoint lastUsed{};
        int missedKeepalives = 0;
        PublicKey capsOf{};                           ///< the peer's KXPK (its login) the caps fields are about
        std::optional<bool> bundles;                  ///< whether that login takes bundles, once it said
        std::optional<Timers::TimePoint> capsSent;    ///< this peerd's last caps to it
        int capsAsked = 0;                            ///< caps sent to that login that asked for its own
    };

    State* stateOf(const std::string& name);
    const std::string* knownAt(const Endpoint& from, const KeyId& sender) const;
    bool holdsKey(const std::string& name, const KeyId& sender) const;
    bool proven(const State& state, Timers::TimePoint now) const;
    PathKind kindAt(const State& state, const Endpoint& endpoint) const;
    void seal(const std::string& name, const Message& message, const Endpoint& to, bool relayed = false);
    void seal(const std::string& name, std::string_view plaintext, std::string_view what, const Endpoint& to,
              bool relayed);
    /// state's caps fields, about name's current login (reset when it logged in again); nullptr without keys.
    State* capsState(const std::string& name, State& state);
    void askCaps(const std::string& name, State& state, Timers::TimePoint now);
    void sendCaps(const std::string& name, State& state, bool answer, Timers::TimePoint now);
    void seek(const std::string& name, State& state, Timers::TimePoint now);
    void introduce(const std::string& name, State& state, Timers::TimePoint now);
    void sendProbes(const std::string& name, const State& state);
    void tickPeer(const std::string& name, State& state, Timers::TimePoint now);
    std::optional<Timers::TimePoint> nextDue(const State& state) const;
    void setRoute(const std::string& name, State& state, std::optional<Route> route);
    void reindex(const std::string& name, const State& state);
    void tick();
    void arm();
    void armBy(Timers::TimePoint at);

    Timers& _timers;
    DatagramSink& _sink;
    DatagramSink& _relay;
    const Roster& _roster;
    PeerSessions& _sessions;
    std::string _self;
    Hooks _hooks;
    std::map<std::string, State> _peers;
    std::multimap<Endpoint, std::string> _byEndpoint;  ///< candidates and routes (the registered ones are the Roster's)
    Timer _timer;                                      ///< the next probe, punch or keepalive due
    Timers::TimePoint _armedFor{};                     ///< when _timer is due, while it is armed
    Poco::Logger& _logger;
};

} // namespace peerchat
