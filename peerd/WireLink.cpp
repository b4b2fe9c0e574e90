#include "WireLink.h"

#include <Poco/Net/DatagramSocket.h>

#include <chrono>
#include <ctime>
#include <utility>

namespace peerchat {

namespace {

constexpr std::string_view kDialect = "peerchat/1";

// This machine's wall clock as HH:MM:SS, 24-hour, local time: the time field of our talk.
std::string localClockText()
{
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
    return text;
}

std::int64_t nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

struct WireLink::Dispatch
{
    WireLink& link;
    const Endpoint& from;

    void operator()(const Accept& message) const { link.handleAccept(message, from); }
    void operator()(const Refuse& message) const { link.handleRefuse(message, from); }
    void operator()(const Login& message) const { link.handleLogin(message, from); }
    void operator()(const Logout& message) const { link.handleLogout(message, from); }
    void operator()(const Talk& message) const { link.handleTalk(message, from); }
    /// Verbs peerd never receives (those it sends to indexd).
    template <typename Other>
    void operator()(const Other& message) const
    {
        link.drop(from, std::string(Protocol::verb(message)) + " is not a message for peerd");
    }
};

WireLink::WireLink(EventLoop& loop, DatagramSink& sink, Roster& roster, ConversationStore& store,
                   WireListener& listener, Settings settings, std::function<void()> onRefused)
    : _loop(loop),
      _sink(sink),
      _roster(roster),
      _store(store),
      _listener(listener),
      _settings(std::move(settings)),
      _onRefused(std::move(onRefused)),
      _fetcher(loop, _settings.rosterDeadline),
      _logger(Poco::Logger::get("peerd.wire"))
{
}

WireLink::~WireLink()
{
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
}

Endpoint WireLink::loginEndpoint(const Endpoint& bound, const Endpoint& index)
{
    if (!bound.host().isWildcard()) return bound;
    // Connecting a UDP socket sends nothing; it only makes the kernel pick the route and source address.
    Poco::Net::DatagramSocket probe(index.address().family());
    probe.connect(index.address());
    return Endpoint(Poco::Net::SocketAddress(probe.address().host(), bound.port()));
}

void WireLink::start()
{
    _logger.information("logging in to indexd at " + _settings.index.toString() + " as " + _settings.self +
                        " (local endpoint " + _settings.loginEndpoint.toString() + ")");
    sendLogin();
}

void WireLink::sendLogin()
{
    const Login login{_settings.self, _settings.loginEndpoint, std::string(kDialect)};
    _sink.sendTo(Protocol::encodeDatagram(login, TextEncoding::Utf8), _settings.index);
    _loginSent = true;
    _retryTimer = _loop.runAfter(_settings.loginRetry, [this] {
        _retryTimer = 0;
        if (!_accepted && !_silenceReported) {
            _silenceReported = true;
            const std::string detail = "no answer from indexd at " + _settings.index.toString() +
                                       " yet; retrying every " + std::to_string(_settings.loginRetry.count()) +
                                       " ms";
            _logger.warning(detail);
            setState(local::LinkState::Connecting, detail);
        }
        sendLogin();
    });
}

void WireLink::handleDatagram(std::string_view bytes, const Endpoint& from)
{
    const Parsed<Inbound> inbound = Protocol::decodeDatagram(bytes);
    if (!inbound) {
        drop(from, inbound.error());
        return;
    }
    std::visit(Dispatch{*this, from}, inbound->message);
}

bool WireLink::fromIndex(const Endpoint& from, std::string_view verb)
{
    if (from == _settings.index) return true;
    drop(from, std::string(verb) + " not from indexd at " + _settings.index.toString());
    return false;
}

void WireLink::handleAccept(const Accept& accept, const Endpoint& from)
{
    if (!fromIndex(from, "Accept")) return;
    if (_state == local::LinkState::Online || _state == local::LinkState::Refused || _fetcher.busy()) {
        _logger.debug("repeated Accept from indexd ignored");
        return;
    }
    _accepted = true;
    const Endpoint rosterServer(Poco::Net::SocketAddress(_settings.index.host(), accept.port));
    _logger.information("indexd accepted " + _settings.self + "; reading the roster from " +
                        rosterServer.toString());
    _fetcher.fetch(rosterServer, [this](Parsed<RosterFetcher::Entries> roster) { rosterFetched(std::move(roster)); });
}

void WireLink::rosterFetched(Parsed<RosterFetcher::Entries> roster)
{
    std::vector<Presence> presenceDuringFetch = std::move(_presenceDuringFetch);
    _presenceDuringFetch.clear();
    if (!roster) {
        const std::string detail = "could not read the roster (" + roster.error() + "); retrying";
        _logger.warning(detail);
        setState(local::LinkState::Connecting, detail);
        return;
    }
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
    _retryTimer = 0;
    for (const Roster::Change& change : _roster.replace(*roster)) _listener.presenceChanged(change);
    // indexd may have written the snapshot before a broadcast that reached us
    // first; presence is idempotent, so replaying it in order is right either way.
    for (const Presence& presence : presenceDuringFetch) {
        if (const auto* login = std::get_if<Login>(&presence)) {
            applyLogin(*login);
        } else {
            applyLogout(std::get<Logout>(presence));
        }
    }
    setState(local::LinkState::Online, "logged in to indexd at " + _settings.index.toString() + " as " +
                                           _settings.self + "; " + std::to_string(_roster.peers().size()) +
                                           " other users online");
}

void WireLink::handleRefuse(const Refuse& refuse, const Endpoint& from)
{
    if (!fromIndex(from, "refuse")) return;
    if (refuse.name != _settings.self) {
        drop(from, "refuse names " + refuse.name + ", not " + _settings.self);
        return;
    }
    if (_state == local::LinkState::Online || _state == local::LinkState::Refused) {
        drop(from, "refuse after the login was settled");
        return;
    }
    std::string detail = "indexd refused " + _settings.self;
    if (refuse.reason == "taken") {
        detail += ": the name is online from another endpoint; choose another --user or stop the other peerd";
    } else if (refuse.reason == "version") {
        detail += ": it does not speak peerchat/1; run an indexd from the same release as this peerd";
    } else {
        detail += " (reason: " + refuse.reason + ")";
    }
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
    _retryTimer = 0;
    _fetcher.cancel();
    _presenceDuringFetch.clear();
    _loginSent = false;
    _logger.error(detail);
    setState(local::LinkState::Refused, detail);
    if (_onRefused) _onRefused();
}

void WireLink::handleLogin(const Login& login, const Endpoint& from)
{
    if (!fromIndex(from, "login")) return;
    if (_fetcher.busy()) _presenceDuringFetch.emplace_back(login);
    applyLogin(login);
}

void WireLink::handleLogout(const Logout& logout, const Endpoint& from)
{
    if (!fromIndex(from, "logout")) return;
    if (_fetcher.busy()) _presenceDuringFetch.emplace_back(logout);
    applyLogout(logout);
}

void WireLink::applyLogin(const Login& login)
{
    const auto change = _roster.login(login.name, Roster::Peer{login.endpoint, Roster::dialectOf(login.dialect)});
    if (!change) return;
    _logger.information(login.name + " is online at " + login.endpoint.toString());
    _listener.presenceChanged(*change);
}

void WireLink::applyLogout(const Logout& logout)
{
    const auto change = _roster.logout(logout.name, logout.endpoint);
    if (!change) {
        _logger.debug("logout of " + logout.name + " at " + logout.endpoint.toString() + " changes nothing");
        return;
    }
    _logger.information(logout.name + " went offline");
    _listener.presenceChanged(*change);
}

void WireLink::handleTalk(const Talk& talk, const Endpoint& from)
{
    const Roster::Peer* peer = _roster.find(talk.from);
    if (peer == nullptr) {
        drop(from, "talk from " + talk.from + ", who is not online");
        return;
    }
    // The .NET program sends from a throwaway socket: only its address is known.
    const bool sameSender =
        peer->dialect == Dialect::DotNet ? from.host() == peer->endpoint.host() : from == peer->endpoint;
    if (!sameSender) {
        drop(from, "talk names " + talk.from + ", who is at " + peer->endpoint.toString());
        return;
    }
    const local::ChatLine line = _store.addIncoming(talk.from, talk.time, nowMs(), talk.text);
    _listener.lineReceived(line, _store.unread(talk.from));
}

Parsed<local::ChatLine> WireLink::sendTalk(const std::string& to, const std::string& text)
{
    if (to == _settings.self) return Parsed<local::ChatLine>::refuse("you cannot send to yourself (" + to + ")");
    const Roster::Peer* peer = _roster.find(to);
    if (peer == nullptr) {
        return Parsed<local::ChatLine>::refuse(
            to + " is not online; send again once a presence event shows " + to + " online");
    }
    const Talk talk{localClockText(), _settings.self, text};
    const TextEncoding encoding = peer->dialect == Dialect::DotNet ? TextEncoding::Utf16le : TextEncoding::Utf8;
    _sink.sendTo(Protocol::encodeDatagram(talk, encoding), peer->endpoint);
    return _store.addOutgoing(to, _settings.self, talk.time, nowMs(), text);
}

void WireLink::logout()
{
    if (_retryTimer != 0) _loop.cancel(_retryTimer);
    _retryTimer = 0;
    _fetcher.cancel();
    _presenceDuringFetch.clear();
    // Logout follows any login that was not refused: indexd may have accepted
    // it with the Accept still on its way. A logout for a name that is not
    // registered from here is dropped by indexd.
    if (!_loginSent) return;
    _loginSent = false;
    _sink.sendTo(Protocol::encodeDatagram(Logout{_settings.self, _settings.loginEndpoint}, TextEncoding::Utf8),
                 _settings.index);
    _logger.information("logged out of indexd at " + _settings.index.toString());
}

void WireLink::setState(local::LinkState state, const std::string& detail)
{
    _state = state;
    _listener.linkStateChanged(state, detail);
}

void WireLink::drop(const Endpoint& from, std::string_view reason)
{
    _logger.warning("dropped datagram from " + from.toString() + ": " + std::string(reason));
}

} // namespace peerchat
