#pragma once

#include "DatagramSink.h"
#include "DropLog.h"
#include "Endpoint.h"
#include "IndexVerifier.h"
#include "LocalProtocol.h"
#include "LoginState.h"
#include "PeerSessions.h"
#include "Protocol.h"
#include "Timers.h"
#include "WireListener.h"

#include <Poco/Logger.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace peerchat {

/// peerd's session with indexd: logs in by challenge and signature
/// (LoginState) and keeps retrying until indexd welcomes it, sends sealed
/// heartbeats (with jitter; an unanswered one again) and logs in again when
/// indexd has forgotten it or gone quiet. A bare relogin, which anyone can
/// forge, is checked first with a sealed alive while a session holds; a
/// refusal, which nobody signs, counts only when it echoes a hello or auth of
/// the login under way, and stops peerd only before its first welcome.
/// Whoever feeds it datagrams has checked that they come from indexd's
/// endpoint. Presence is not its job: it says when a login was welcomed
/// and hears when the login's first snapshot of presence has arrived (or
/// has not come).
class IndexSession
{
public:
    struct Settings
    {
        std::string self;
        Endpoint index;
        std::optional<PublicKey> indexKey;
        std::chrono::milliseconds loginRetry{2000};
        std::chrono::milliseconds heartbeat{10000};
        /// This peerd's candidates (host and relay), sent with each alive; unset: none sent.
        std::function<std::vector<Candidate>()> candidates;
    };

    /// Where the session is: logging in (hellos until a welcome), welcomed
    /// (its presence on the way), online (heartbeats), or refused for good.
    enum class Phase { LoggingIn, Welcomed, Online, Refused };

    /// What the rest of the wire does when the session moves.
    struct Hooks
    {
        /// indexd welcomed a login: its presence and contact list start afresh.
        std::function<void(const LoginState::Welcomed& welcomed)> welcomed;
        /// True while the welcomed login waits for its first snapshot of presence.
        std::function<bool()> presencePending;
        /// A heartbeat went out.
        std::function<void()> heartbeat;
        /// The welcomed login is over (a new login replaces it, or it was refused): forget its presence.
        std::function<void()> loginEnded;
        /// The presence number peerd has applied, which alive reports.
        std::function<std::uint64_t()> presenceSeq;
        /// The login failed for good, with the reason for a person; after the listener heard of it.
        std::function<void(const std::string& why)> refused;
    };

    IndexSession(Timers& timers, DatagramSink& sink, PeerSessions& sessions, const SigningKey& identity,
                 KeyPins& pins, WireListener& listener, DropLog& drops, Settings settings, Hooks hooks);

    /// Sends the first hello and keeps resending it every loginRetry until presence has arrived.
    void start();

    void challenge(const Challenge& challenge);
    void welcome(const Welcome& welcome);
    void refuse(const Refuse& refuse);
    void relogin(const Relogin& relogin);
    /// indexd answered an alive with a sealed seen.
    void seen();
    /// indexd was heard from (a seal): not silent.
    void heard() { _unansweredHeartbeats = 0; }

    /// The welcomed login's first snapshot of presence arrived: online, with
    /// heartbeats; peers is how many other users are online, for the log.
    void presenceLoaded(std::size_t peers);
    /// Presence has not come yet (detail says so, for a person); once the
    /// tracker gives up, the next hello logs in again.
    void presenceFailed(const std::string& detail);

    /// This peerd's candidates changed: indexd hears them at once (while online).
    void candidatesChanged();

    /// Seals message to indexd and sends it (nothing without a session).
    void send(const Message& message);

    /// Asks indexd which identity key name is bound to (whois), noting the
    /// question until its answer or the next welcome.
    void whois(const std::string& name);
    /// True while a whois for name of this login waits for its answer.
    bool asking(const std::string& name) const { return _whois.count(name) > 0; }
    /// indexd's answer to a whois: true, the question forgotten, when this
    /// login asked it; false for an answer nobody asked for.
    bool answered(const NameKey& answer) { return _whois.erase(answer.name) > 0; }

    /// Stops retrying and heartbeats and, when indexd welcomed this login,
    /// sends it a sealed logout.
    void logout();

    Phase phase() const { return _phase; }
    bool online() const { return _phase == Phase::Online; }
    local::LinkState linkState() const;
    const IndexVerifier& verifier() const { return _verifier; }
    const Endpoint& index() const { return _settings.index; }

private:
    void sendHello();
    void refuseLogin(const std::string& detail);
    void loginAgain(const std::string& why);
    void heartbeat();
    void sendAlive(int resends);
    Alive alive() const;
    void stopHeartbeat();
    void report(const std::string& detail);

    Timers& _timers;
    DatagramSink& _sink;
    PeerSessions& _sessions;
    DropLog& _drops;
    WireListener& _listener;
    Settings _settings;
    Hooks _hooks;
    LoginState _login;
    IndexVerifier _verifier;
    Phase _phase = Phase::LoggingIn;
    bool _welcomedThisRun = false;   ///< indexd welcomed some login of this run: a refusal is no longer final
    bool _silenceReported = false;   ///< the login under way was reported as unanswered
    std::string _unheededRefusal;    ///< the last refusal logged that did not stop peerd (busy, or of a later login)
    Endpoint _observed;              ///< this peerd's endpoint as indexd registered it
    int _unansweredHeartbeats = 0;   ///< heartbeats sent since indexd was last heard from
    std::optional<Timers::TimePoint> _lastReloginHint;
    Timer _helloTimer;          ///< the next hello, while no presence has arrived
    Timer _heartbeatTimer;
    Timer _aliveResendTimer;    ///< an alive waits for a sealed seen until it fires
    Timer _reloginCheckTimer;   ///< a relogin hint waits for a sealed seen until it fires
    std::set<std::string> _whois;  ///< names asked of indexd (whois) in this login, not answered yet
    Poco::Logger& _logger;
};

} // namespace peerchat
