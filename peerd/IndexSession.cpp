#include "IndexSession.h"

#include "Fingerprint.h"

#include <sodium.h>

#include <map>
#include <utility>

namespace peerchat {

namespace {

// Heartbeats indexd may leave unanswered before peerd takes it for gone.
constexpr int kSilentHeartbeats = 3;
// Times an alive goes out again, a quarter heartbeat apart, while no seen answers it.
constexpr int kAliveResends = 2;

// interval made 10 % shorter or longer at random, so heartbeats of peerds
// that started together (after an indexd restart) spread out.
std::chrono::milliseconds jittered(std::chrono::milliseconds interval)
{
    return std::chrono::milliseconds(interval.count() * (900 + randombytes_uniform(201)) / 1000);
}

/// Why indexd refused a login, by the REASON token of its refusal.
enum class Refusal { Taken, Version, Key, Legacy, Auth, Busy, Other };

Refusal refusalOf(const std::string& reason)
{
    static const std::map<std::string, Refusal> reasons{
        {"taken", Refusal::Taken}, {"version", Refusal::Version}, {"key", Refusal::Key},
        {"legacy", Refusal::Legacy}, {"auth", Refusal::Auth},      {"busy", Refusal::Busy},
    };
    const auto it = reasons.find(reason);
    return it == reasons.end() ? Refusal::Other : it->second;
}

} // namespace

IndexSession::IndexSession(Timers& timers, DatagramSink& sink, PeerSessions& sessions, const SigningKey& identity,
                           KeyPins& pins, WireListener& listener, DropLog& drops, Settings settings, Hooks hooks)
    : _timers(timers),
      _sink(sink),
      _sessions(sessions),
      _drops(drops),
      _listener(listener),
      _settings(std::move(settings)),
      _hooks(std::move(hooks)),
      _login(_settings.self, identity, _settings.index, _settings.indexKey, pins),
      _helloTimer(timers),
      _heartbeatTimer(timers),
      _aliveResendTimer(timers),
      _reloginCheckTimer(timers),
      _logger(Poco::Logger::get("peerd.wire.index"))
{
}

void IndexSession::start()
{
    sendHello();
}

local::LinkState IndexSession::linkState() const
{
    switch (_phase) {
    case Phase::Online:
        return local::LinkState::Online;
    case Phase::Refused:
        return local::LinkState::Refused;
    case Phase::LoggingIn:
    case Phase::Welcomed:
        break;
    }
    return local::LinkState::Connecting;
}

void IndexSession::report(const std::string& detail)
{
    _listener.linkStateChanged(linkState(), detail);
}

// Sends a hello (of the login round under way, or of a new one) and arms the
// retry; while a welcomed login waits for its presence, only waits for it.
void IndexSession::sendHello()
{
    if (!_hooks.presencePending()) {
        _sink.sendTo(Protocol::encodeDatagram(_login.hello(), TextEncoding::Utf8), _settings.index);
    }
    _helloTimer.start(_settings.loginRetry, [this] {
        if (_phase == Phase::LoggingIn && !_silenceReported) {
            _silenceReported = true;
            const std::string detail = "no answer from indexd at " + _settings.index.toString() +
                                       " yet; retrying every " + std::to_string(_settings.loginRetry.count()) +
                                       " ms";
            _logger.warning(detail);
            report(detail);
        }
        sendHello();
    });
}

void IndexSession::challenge(const Challenge& challenge)
{
    const LoginState::Answer answer = _login.answer(challenge);
    if (answer.refused) {
        refuseLogin(answer.detail);
        return;
    }
    if (!answer.auth) {
        _drops.drop(answer.dropped, _settings.index, answer.detail);
        return;
    }
    _sink.sendTo(Protocol::encodeDatagram(*answer.auth, TextEncoding::Utf8), _settings.index);
}

void IndexSession::welcome(const Welcome& welcome)
{
    LoginState::Verdict verdict = _login.check(welcome);
    if (verdict.outcome == LoginState::Verdict::Outcome::Dropped) {
        _drops.drop(DropReason::Unauthentic, _settings.index, verdict.detail);
        return;
    }
    if (!verdict.detail.empty()) _logger.notice(verdict.detail);
    LoginState::Welcomed& welcomed = *verdict.welcomed;
    if (!_sessions.renew(std::move(welcomed.kx), welcomed.indexIdentity, welcomed.indexKx)) {
        _drops.drop(DropReason::Unauthentic, _settings.index, "welcome carries an unusable key-exchange key");
        return;
    }
    _phase = Phase::Welcomed;
    _welcomedThisRun = true;
    _unheededRefusal.clear();
    _whois.clear();
    _observed = welcomed.observed;
    _unansweredHeartbeats = 0;
    _verifier.reset(welcomed.indexIdentity, welcomed.epoch);
    _logger.information("indexd (" + Fingerprint::of(welcomed.indexIdentity) + ") welcomed " + _settings.self +
                        " at " + _observed.toString());
    _hooks.welcomed(welcomed);
}

void IndexSession::presenceLoaded(std::size_t peers)
{
    _helloTimer.cancel();
    if (_phase == Phase::Online) return;
    _silenceReported = false;
    _unansweredHeartbeats = 0;
    _phase = Phase::Online;
    report("logged in to indexd at " + _settings.index.toString() + " as " + _settings.self + "; " +
           std::to_string(peers) + " other users online");
    // indexd hands this login's candidates to the peers it introduces: at once, not at the first heartbeat.
    if (_settings.candidates) send(alive());
    _heartbeatTimer.start(jittered(_settings.heartbeat), [this] { heartbeat(); });
}

void IndexSession::presenceFailed(const std::string& detail)
{
    report(detail);
}

void IndexSession::refuse(const Refuse& refuse)
{
    if (refuse.name != _settings.self) {
        _drops.drop(DropReason::Unexpected, _settings.index, "refuse names " + refuse.name + ", not " + _settings.self);
        return;
    }
    if (_phase == Phase::Online || _phase == Phase::Refused) {
        _drops.drop(DropReason::Unexpected, _settings.index, "refuse after the login was settled");
        return;
    }
    // Nobody signs a refusal, and anyone can send one from indexd's address:
    // only one that echoes this login's own hello or auth comes from indexd.
    if (!_login.echoesOwn(refuse.echo)) {
        _drops.drop(DropReason::Unauthentic, _settings.index,
                    "refuse," + refuse.name + "," + refuse.reason +
                        " echoes no hello or auth of this login (forged, or late)");
        return;
    }
    std::string detail = "indexd refused " + _settings.self;
    bool transient = false;
    switch (refusalOf(refuse.reason)) {
    case Refusal::Auth:
        // The challenge expired on its way, or an answer crossed a newer one: the next hello asks again.
        _logger.warning(detail + "'s answer to its challenge (expired or not valid); asking again");
        return;
    case Refusal::Busy:
        detail += " for now: too many logins under this identity key in a short time; peerd keeps trying every " +
                  std::to_string(_settings.loginRetry.count()) + " ms";
        transient = true;
        break;
    case Refusal::Taken:
        detail += ": the name is online from another endpoint; choose another --user or stop the other peerd";
        break;
    case Refusal::Key:
        detail += ": the name belongs to another identity key; start peerd with the key file that registered it "
                  "(--key FILE) or choose another --user";
        break;
    case Refusal::Version:
        detail += ": it does not speak peerchat/3; run an indexd from the same release as this peerd";
        break;
    case Refusal::Legacy:
    case Refusal::Other:
        detail += " (reason: " + refuse.reason + ")";
        break;
    }
    if (!transient && !_welcomedThisRun) {
        refuseLogin(detail);
        return;
    }
    // Once indexd has welcomed this run, a refusal during a later login
    // (which a forged relogin can start) would let an on-path attacker, who
    // sees the echo, stop peerd.
    if (!transient) {
        detail += "; peerd was logged in before and refusals are not signed, so this one may be forged: it keeps "
                  "logging in";
    }
    if (detail == _unheededRefusal) {
        _logger.debug("the same refusal again: " + refuse.reason);
        return;
    }
    _unheededRefusal = detail;
    _logger.warning(detail);
    report(detail);
}

// The login failed for good: nothing more goes to indexd.
void IndexSession::refuseLogin(const std::string& detail)
{
    _helloTimer.cancel();
    _reloginCheckTimer.cancel();
    stopHeartbeat();
    _hooks.loginEnded();
    _login.reset();
    _sessions.clear();
    _verifier.clear();
    _logger.error(detail);
    _phase = Phase::Refused;
    report(detail);
    _hooks.refused(detail);
}

void IndexSession::relogin(const Relogin& relogin)
{
    if (!relogin.name.empty() && relogin.name != _settings.self) {
        _drops.drop(DropReason::Unexpected, _settings.index, "relogin names " + relogin.name + ", not " + _settings.self);
        return;
    }
    if (_phase != Phase::Online) {
        _logger.debug("relogin while not online ignored: a login is under way");
        return;
    }
    // Anyone can send the bare relogin in indexd's name: it is a hint, taken at most once per loginRetry.
    const auto now = _timers.now();
    if (_reloginCheckTimer.armed() || (_lastReloginHint && now - *_lastReloginHint < _settings.loginRetry)) {
        _logger.debug("relogin within " + std::to_string(_settings.loginRetry.count()) + " ms of the last one ignored");
        return;
    }
    _lastReloginHint = now;
    const std::string why = "indexd does not have " + _settings.self + " online (it restarted, or expired us)";
    if (!_sessions.ready()) {
        loginAgain(why);
        return;
    }
    // A new login is told to every contact: first ask indexd under the
    // session, which a forger cannot answer. An indexd that lost the session
    // answers the alive with another relogin, and no seen comes.
    _logger.information("relogin from indexd's address: asking indexd with a sealed alive before logging in again");
    send(alive());
    _reloginCheckTimer.start(_settings.loginRetry, [this, why] {
        loginAgain(why + "; no seen answered the alive within " + std::to_string(_settings.loginRetry.count()) +
                   " ms");
    });
}

void IndexSession::seen()
{
    _aliveResendTimer.cancel();
    if (_reloginCheckTimer.armed()) {
        _reloginCheckTimer.cancel();
        _logger.information("indexd answered the alive with seen: it still has " + _settings.self +
                            " online, so the relogin was not its own (forged, or late); no new login");
    }
}

void IndexSession::heartbeat()
{
    if (_phase != Phase::Online) return;
    // Counted in heartbeats, not in time: a loop that stalled (a suspended
    // laptop, a loaded machine) must ask indexd before taking it for gone.
    if (_unansweredHeartbeats >= kSilentHeartbeats) {
        loginAgain("no answer from indexd at " + _settings.index.toString() + " to " +
                   std::to_string(kSilentHeartbeats) + " heartbeats");
        return;
    }
    ++_unansweredHeartbeats;
    sendAlive(kAliveResends);
    _hooks.heartbeat();
    _heartbeatTimer.start(jittered(_settings.heartbeat), [this] { heartbeat(); });
}

// Sends an alive and, while no sealed seen answers it, again every quarter
// heartbeat, up to resends more times: one lost datagram must not bring this
// user a whole interval closer to indexd's expiry.
void IndexSession::sendAlive(int resends)
{
    _aliveResendTimer.cancel();
    send(alive());
    if (resends == 0) return;
    _aliveResendTimer.start(_settings.heartbeat / 4, [this, resends] { sendAlive(resends - 1); });
}

Alive IndexSession::alive() const
{
    Alive alive{_settings.self, _hooks.presenceSeq(), std::nullopt};
    if (_settings.candidates) alive.candidates = _settings.candidates();
    return alive;
}

void IndexSession::candidatesChanged()
{
    if (online() && _settings.candidates) sendAlive(kAliveResends);
}

void IndexSession::stopHeartbeat()
{
    _heartbeatTimer.cancel();
    _aliveResendTimer.cancel();
}

void IndexSession::whois(const std::string& name)
{
    _whois.insert(name);
    send(Whois{name});
}

void IndexSession::send(const Message& message)
{
    const std::optional<Seal> seal = _sessions.sealToIndex(message);
    if (!seal) {
        _logger.debug(std::string(Protocol::verb(message)) + " to indexd not sent: no session with it");
        return;
    }
    _sink.sendTo(Protocol::encodeDatagram(*seal, TextEncoding::Utf8), _settings.index);
}

// Goes back to logging in, with new keys; the snapshot that follows the
// welcome replaces the roster held now.
void IndexSession::loginAgain(const std::string& why)
{
    const std::string detail = why + "; logging in again";
    _logger.warning(detail);
    stopHeartbeat();
    _reloginCheckTimer.cancel();
    _hooks.loginEnded();
    _phase = Phase::LoggingIn;
    _silenceReported = true;
    report(detail);
    sendHello();
}

void IndexSession::logout()
{
    _helloTimer.cancel();
    _reloginCheckTimer.cancel();
    stopHeartbeat();
    _login.reset();
    // Only a welcomed login has a session to seal the logout with; indexd
    // expires one whose welcome is still on its way.
    if (!_sessions.ready()) return;
    Logout logout;
    logout.name = _settings.self;
    logout.endpoint = _observed;
    send(logout);
    _sessions.clear();
    _verifier.clear();
    _logger.information("logged out of indexd at " + _settings.index.toString());
}

} // namespace peerchat
