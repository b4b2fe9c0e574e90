#include "RelayLink.h"

#include <algorithm>
#include <utility>

namespace peerchat {

RelayLink::RelayLink(Timers& timers, DatagramSink& socket, std::string self, Hooks hooks)
    : _timers(timers),
      _socket(socket),
      _self(std::move(self)),
      _hooks(std::move(hooks)),
      _timer(timers),
      _logger(Poco::Logger::get("peerd.wire.relay"))
{
}

void RelayLink::offer(const Turn& turn)
{
    if (!_offer || _offer->server != turn.server) {
        _logger.information("indexd offers the TURN relay at " + turn.server.toString() +
                            " for peers that cannot be reached directly");
    }
    _offer = turn;
}

void RelayLink::want()
{
    if (_client && (_client->state() == TurnClient::State::Allocating ||
                    _client->state() == TurnClient::State::Allocated)) {
        return;
    }
    if (!_offer) {
        if (!_toldNoOffer) {
            _logger.warning("a peer cannot be reached directly, and indexd offers no TURN relay (it runs without "
                            "--turn): lines to such a peer wait, and go to indexd's mailbox when it goes offline");
            _toldNoOffer = true;
        }
        return;
    }
    const auto now = _timers.now();
    if (_retryAfter && now < *_retryAfter) return;
    _retryAfter.reset();
    _logger.information("no direct path to a peer: allocating a relay on " + _offer->server.toString());
    _client.emplace(_offer->server, TurnCredentials::of(_self, _offer->expiry, _offer->key));
    _lastUsed = now;
    _client->allocate(now);
    settle();
}

void RelayLink::permit(const Meet& meet)
{
    if (!_client) return;
    const auto now = _timers.now();
    for (const Candidate& candidate : meet.candidates) _client->permit(candidate.endpoint.host(), now);
    settle();
}

void RelayLink::release()
{
    if (!_client) return;
    _client->release(_timers.now());
    // Logging out: nobody is to hear that the candidate went.
    _announced.reset();
    settle();
}

bool RelayLink::isServer(const Endpoint& from) const
{
    return _client && from == _client->server();
}

std::optional<TurnClient::PeerDatagram> RelayLink::receive(std::string_view bytes)
{
    auto datagram = _client->receive(bytes, _timers.now());
    if (datagram) used();
    settle();
    return datagram;
}

void RelayLink::sendTo(std::string_view bytes, const Endpoint& peer)
{
    if (!_client || !_client->sendToPeer(peer, bytes, _timers.now())) {
        _logger.debug("datagram for " + peer.toString() + " not relayed: no allocation, or too many wait for its channel");
        return;
    }
    used();
    settle();
}

std::optional<Endpoint> RelayLink::candidate() const
{
    if (!_client || _client->state() != TurnClient::State::Allocated) return std::nullopt;
    return _client->relayedEndpoint();
}

void RelayLink::used()
{
    _lastUsed = _timers.now();
}

// After every turn of the TurnClient: its datagrams go out, a failure is
// waited out, and a relay candidate that came or went is told.
void RelayLink::settle()
{
    for (const std::string& datagram : _client->takeDatagrams()) _socket.sendTo(datagram, _client->server());
    if (_client->state() == TurnClient::State::Failed && !_retryAfter) {
        _retryAfter = _timers.now() + kRetryAfter;
        _logger.warning("no relay for now (" + _client->error() + "); trying again in " +
                        std::to_string(kRetryAfter.count()) + " s when a peer needs it");
    }
    const std::optional<Endpoint> now = candidate();
    if (now != _announced) {
        if (now) {
            _logger.information("relay allocated on " + _client->server().toString() + ": peers may reach us at " +
                                now->toString());
        } else {
            _logger.information("relay on " + _client->server().toString() + " is gone");
        }
        _announced = now;
        _hooks.changed();
    }
    arm();
}

void RelayLink::arm()
{
    std::optional<Timers::TimePoint> due = _client->nextWakeup();
    if (candidate()) due = due ? std::min(*due, _lastUsed + kIdleFor) : _lastUsed + kIdleFor;
    if (!due) {
        _timer.cancel();
        return;
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*due - _timers.now());
    _timer.start(std::max(wait, std::chrono::milliseconds(0)), [this] { wake(); });
}

void RelayLink::wake()
{
    const auto now = _timers.now();
    if (candidate() && now - _lastUsed >= kIdleFor) {
        _logger.information("nothing went through the relay for " + std::to_string(kIdleFor.count()) +
                            " minutes: releasing it");
        _client->release(now);
    } else {
        _client->tick(now);
    }
    settle();
}

} // namespace peerchat
