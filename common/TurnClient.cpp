#include "TurnClient.h"

#include <Poco/Logger.h>
#include <Poco/NumberFormatter.h>

#include <algorithm>
#include <iterator>

namespace peerchat {

namespace {

using Method = StunMessage::Method;
using Kind = StunMessage::Kind;
using Attribute = StunMessage::Attribute;

constexpr std::chrono::seconds kPermissionLifetime(300);
constexpr std::chrono::seconds kChannelLifetime(600);
constexpr int kMaxStaleNonceRetries = 2;

Poco::Logger& logger()
{
    static Poco::Logger& instance = Poco::Logger::get("TurnClient");
    return instance;
}

// A minute before the end, or halfway for lifetimes under two minutes, which
// leaves a refresh its whole retransmit schedule before the server forgets.
TurnClient::TimePoint refreshTime(TurnClient::TimePoint now, std::chrono::seconds lifetime)
{
    return now + lifetime - std::min(std::chrono::seconds(60), lifetime / 2);
}

// Errors a server sends without MESSAGE-INTEGRITY because it cannot or will
// not check ours (RFC 8489 9.2.4): the rest must prove they come from it.
bool errorWithoutIntegrity(int code)
{
    return code == 400 || code == 401 || code == 420 || code == 438;
}

// "401 Unauthorized", as the server put it.
std::string describe(const StunMessage& answer)
{
    return std::to_string(answer.errorCode().value_or(0)) + " " + answer.errorReason();
}

} // namespace

TurnClient::DatagramKind TurnClient::classify(std::uint8_t firstByte)
{
    if (firstByte <= 3) return DatagramKind::Stun;
    if (firstByte >= 64 && firstByte <= 79) return DatagramKind::ChannelData;
    return DatagramKind::Other;
}

TurnClient::TurnClient(Endpoint server, TurnCredentials credentials, std::chrono::seconds lifetime)
    : _server(std::move(server)), _credentials(std::move(credentials)), _lifetime(lifetime)
{
}

void TurnClient::allocate(TimePoint now)
{
    if (_state != State::Idle) return;
    _state = State::Allocating;
    start(Request(Purpose::Allocate), now);
}

void TurnClient::release(TimePoint now)
{
    if (_state == State::Allocating) {
        _pending.clear();
        _state = State::Released;
        return;
    }
    if (_state != State::Allocated) return;
    _pending.clear();
    for (auto& [peer, channel] : _channels) channel.queue.clear();
    _state = State::Releasing;
    Request request(Purpose::Refresh);
    request.lifetime = 0;
    start(request, now);
}

bool TurnClient::sendToPeer(const Endpoint& peer, std::string_view payload, TimePoint now)
{
    if (_state != State::Allocating && _state != State::Allocated) return false;
    auto it = _channels.find(peer);
    if (it == _channels.end()) {
        if (_nextChannel > ChannelData::kLastChannel) {
            logger().warning("cannot relay to %s: all 4096 channels of the allocation on %s are taken",
                             peer.toString(), _server.toString());
            return false;
        }
        it = _channels.emplace(peer, Channel{}).first;
        it->second.number = _nextChannel++;
        _channelPeers[it->second.number] = peer;
        if (_state == State::Allocated) bindChannel(peer, it->second, now);
    }
    Channel& channel = it->second;
    if (channel.confirmed) {
        _outgoing.push_back(ChannelData{channel.number, std::string(payload)}.encode());
        return true;
    }
    if (channel.queue.size() >= kMaxQueuedPerPeer) return false;
    channel.queue.emplace_back(payload);
    return true;
}

void TurnClient::permit(const Poco::Net::IPAddress& host, TimePoint now)
{
    if (_state != State::Allocating && _state != State::Allocated) return;
    if (!_permissions.emplace(host, Refreshable{}).second) return;
    if (_state == State::Allocated) requestPeerWork(now);
}

std::optional<TurnClient::PeerDatagram> TurnClient::receive(std::string_view bytes, TimePoint now)
{
    if (bytes.empty()) {
        drop("an empty datagram");
        return std::nullopt;
    }
    switch (classify(static_cast<std::uint8_t>(bytes[0]))) {
    case DatagramKind::ChannelData:
        return receiveChannelData(bytes);
    case DatagramKind::Other:
        drop("neither STUN nor ChannelData");
        return std::nullopt;
    case DatagramKind::Stun:
        break;
    }
    const auto message = StunMessage::decode(bytes);
    if (!message) {
        drop(message.error());
        return std::nullopt;
    }
    if (message->kind() == Kind::Indication && message->method() == Method::Data) return receiveIndication(*message);
    if (message->kind() == Kind::Success || message->kind() == Kind::Error) {
        handleAnswer(*message, now);
        return std::nullopt;
    }
    drop("a STUN request or an indication other than Data");
    return std::nullopt;
}

void TurnClient::tick(TimePoint now)
{
    std::vector<Request> unanswered;
    for (auto it = _pending.begin(); it != _pending.end();) {
        Transaction& transaction = it->second;
        if (transaction.nextSend > now) {
            ++it;
        } else if (transaction.sends == std::size(kRetransmitDelays)) {
            unanswered.push_back(transaction.request);
            it = _pending.erase(it);
        } else {
            _outgoing.push_back(transaction.bytes);
            transaction.nextSend = now + kRetransmitDelays[transaction.sends];
            ++transaction.sends;
            ++it;
        }
    }
    for (const Request& request : unanswered) handleTimeout(request);
    if (_state != State::Allocated) return;
    if (!_allocation.pending && _allocation.refreshAt <= now) {
        _allocation.pending = true;
        Request request(Purpose::Refresh);
        request.lifetime = static_cast<std::uint32_t>(_lifetime.count());
        start(request, now);
    }
    requestPeerWork(now);
}

std::optional<TurnClient::TimePoint> TurnClient::nextWakeup() const
{
    std::optional<TimePoint> next;
    const auto consider = [&](TimePoint at) {
        if (!next || at < *next) next = at;
    };
    for (const auto& [id, transaction] : _pending) consider(transaction.nextSend);
    if (_state != State::Allocated) return next;
    if (!_allocation.pending) consider(_allocation.refreshAt);
    for (const auto& [host, permission] : _permissions) {
        if (permission.confirmed && !permission.pending) consider(permission.refreshAt);
    }
    for (const auto& [peer, channel] : _channels) {
        if (channel.confirmed && !channel.pending) consider(channel.refreshAt);
    }
    return next;
}

std::vector<std::string> TurnClient::takeDatagrams()
{
    std::vector<std::string> out;
    out.swap(_outgoing);
    return out;
}

bool TurnClient::channelBound(const Endpoint& peer) const
{
    const auto it = _channels.find(peer);
    return it != _channels.end() && it->second.confirmed;
}

bool TurnClient::permitted(const Poco::Net::IPAddress& host) const
{
    const auto it = _permissions.find(host);
    return it != _permissions.end() && it->second.confirmed;
}

void TurnClient::start(Request request, TimePoint now)
{
    StunMessage message = StunMessage::make(methodOf(request.purpose), Kind::Request);
    switch (request.purpose) {
    case Purpose::Allocate:
        message.addUint32(Attribute::RequestedTransport, std::uint32_t{StunMessage::kTransportUdp} << 24);
        message.addUint32(Attribute::Lifetime, static_cast<std::uint32_t>(_lifetime.count()));
        break;
    case Purpose::Refresh:
        message.addUint32(Attribute::Lifetime, request.lifetime);
        break;
    case Purpose::Permission:
        // The port of a permission's address is ignored (RFC 8656 9.1).
        message.addXorAddress(Attribute::XorPeerAddress, Endpoint(Poco::Net::SocketAddress(request.host, 0)));
        break;
    case Purpose::Channel:
        message.addChannelNumber(request.channel);
        message.addXorAddress(Attribute::XorPeerAddress, request.peer);
        break;
    }
    Transaction transaction(std::move(request));
    transaction.authenticated = _key.has_value();
    if (transaction.authenticated) {
        message.addString(Attribute::Username, _credentials.username);
        message.addString(Attribute::Realm, _realm);
        message.addString(Attribute::Nonce, _nonce);
    }
    transaction.bytes = message.encode(transaction.authenticated ? &*_key : nullptr, true);
    transaction.nextSend = now + kRetransmitDelays[0];
    _outgoing.push_back(transaction.bytes);
    _pending.emplace(message.transaction(), std::move(transaction));
}

void TurnClient::handleAnswer(const StunMessage& answer, TimePoint now)
{
    const auto it = _pending.find(answer.transaction());
    if (it == _pending.end()) {
        drop("an answer to no request of ours");
        return;
    }
    const bool authenticated = it->second.authenticated;
    const auto code = answer.errorCode();
    if (answer.kind() == Kind::Error && !code) {
        drop("an error answer without a valid ERROR-CODE");
        return;
    }
    const bool mustProve = authenticated && (answer.kind() == Kind::Success || !errorWithoutIntegrity(*code));
    if ((mustProve || (answer.hasIntegrity() && _key)) && !(_key && answer.hasValidIntegrity(*_key))) {
        drop("an answer whose MESSAGE-INTEGRITY is missing or wrong");
        return;
    }
    if (methodOf(it->second.request.purpose) != answer.method()) {
        drop("an answer of another method than its request");
        return;
    }
    const Request answered = it->second.request;
    _pending.erase(it);
    if (answer.kind() == Kind::Success) {
        handleSuccess(answered, answer, now);
    } else {
        handleError(answered, answer, authenticated, now);
    }
}

void TurnClient::handleSuccess(const Request& request, const StunMessage& answer, TimePoint now)
{
    switch (request.purpose) {
    case Purpose::Allocate: {
        const auto relayed = answer.xorAddress(Attribute::XorRelayedAddress);
        if (!relayed) {
            fail("the TURN server " + _server.toString() + " granted an allocation without a relayed address; "
                 "point peerchat at a TURN server (RFC 8656) such as coturn");
            return;
        }
        _relayed = relayed;
        _mapped = answer.xorAddress(Attribute::XorMappedAddress);
        const std::chrono::seconds lifetime(answer.uint32(Attribute::Lifetime).value_or(_lifetime.count()));
        _state = State::Allocated;
        _allocation = {true, false, refreshTime(now, lifetime)};
        logger().information("relay %s allocated on %s for %d s", relayed->toString(), _server.toString(),
                             static_cast<int>(lifetime.count()));
        requestPeerWork(now);
        return;
    }
    case Purpose::Refresh: {
        if (request.lifetime == 0) {
            _state = State::Released;
            logger().information("relay on %s released", _server.toString());
            return;
        }
        const std::chrono::seconds lifetime(answer.uint32(Attribute::Lifetime).value_or(request.lifetime));
        _allocation = {true, false, refreshTime(now, lifetime)};
        return;
    }
    case Purpose::Permission: {
        const auto it = _permissions.find(request.host);
        if (it != _permissions.end()) it->second = {true, false, refreshTime(now, kPermissionLifetime)};
        return;
    }
    case Purpose::Channel: {
        const auto it = _channels.find(request.peer);
        if (it == _channels.end()) return;
        Channel& channel = it->second;
        channel.confirmed = true;
        channel.pending = false;
        channel.refreshAt = refreshTime(now, kChannelLifetime);
        // A ChannelBind installs or refreshes the permission for the peer's host (RFC 8656 11.2).
        Refreshable& permission = _permissions[request.peer.host()];
        if (!permission.pending) permission = {true, false, refreshTime(now, kPermissionLifetime)};
        for (std::string& payload : channel.queue) _outgoing.push_back(ChannelData{channel.number, std::move(payload)}.encode());
        channel.queue.clear();
        return;
    }
    }
}

void TurnClient::handleError(const Request& request, const StunMessage& answer, bool authenticated, TimePoint now)
{
    const int code = answer.errorCode().value_or(0);
    if ((code == 401 && !authenticated) || code == 438) {
        const auto nonce = answer.attribute(Attribute::Nonce);
        const auto realm = answer.attribute(Attribute::Realm);
        if (nonce && (realm || code == 438) && request.staleNonceRetries < kMaxStaleNonceRetries) {
            _nonce = *nonce;
            if (realm) _realm = *realm;
            _key = StunMessage::longTermKey(_credentials.username, _realm, _credentials.password);
            Request retry = request;
            ++retry.staleNonceRetries;
            start(retry, now);
            return;
        }
    }
    switch (request.purpose) {
    case Purpose::Allocate:
        if (code == 401) {
            fail("the TURN server " + _server.toString() + " refused the credentials for " + _credentials.username
                 + " (" + describe(answer) + "): they have expired, or indexd's TURN secret is not the server's "
                 "static-auth-secret; log in again for new ones, or check both secrets");
        } else {
            fail("the TURN server " + _server.toString() + " refused an allocation (" + describe(answer)
                 + "); its log says why");
        }
        return;
    case Purpose::Refresh:
        if (request.lifetime == 0) {
            _state = State::Released;
            return;
        }
        if (code == 401) {
            fail("the TURN server " + _server.toString() + " refused the credentials for " + _credentials.username
                 + " when refreshing the allocation (" + describe(answer) + "); allocate again with new ones");
        } else {
            fail("the TURN server " + _server.toString() + " refused to refresh our allocation (" + describe(answer)
                 + "); it has ended, allocate a new one");
        }
        return;
    case Purpose::Permission:
    case Purpose::Channel:
        logger().warning("the TURN server %s refused to let %s through (%s)", _server.toString(),
                         request.purpose == Purpose::Channel ? request.peer.toString() : request.host.toString(),
                         describe(answer));
        handleTimeout(request);
        return;
    }
}

void TurnClient::handleTimeout(const Request& request)
{
    const std::string unanswered = "no answer from the TURN server " + _server.toString() + " after "
                                   + std::to_string(std::size(kRetransmitDelays)) + " tries in "
                                   + Poco::NumberFormatter::format(kGiveUpAfter.count() / 1000.0, 2) + " s";
    switch (request.purpose) {
    case Purpose::Allocate:
        fail(unanswered + " to Allocate: check that it runs at that address and that UDP to it is not blocked");
        return;
    case Purpose::Refresh:
        if (request.lifetime == 0) {
            _state = State::Released;
            return;
        }
        fail(unanswered + " to Refresh: the allocation ends soon, allocate a new one");
        return;
    case Purpose::Permission:
        _permissions.erase(request.host);
        return;
    case Purpose::Channel: {
        const auto it = _channels.find(request.peer);
        if (it == _channels.end() || it->second.number != request.channel) return;
        if (!it->second.queue.empty()) {
            logger().warning("dropped %z datagrams for %s: its channel on %s could not be bound",
                             it->second.queue.size(), request.peer.toString(), _server.toString());
        }
        // The number is not handed out again: the server may still hold it for this peer.
        _channelPeers.erase(it->second.number);
        _channels.erase(it);
        return;
    }
    }
}

void TurnClient::requestPeerWork(TimePoint now)
{
    for (auto& [host, permission] : _permissions) {
        if (permission.pending || (permission.confirmed && permission.refreshAt > now)) continue;
        permission.pending = true;
        Request request(Purpose::Permission);
        request.host = host;
        start(request, now);
    }
    for (auto& [peer, channel] : _channels) {
        if (channel.pending || (channel.confirmed && channel.refreshAt > now)) continue;
        bindChannel(peer, channel, now);
    }
}

void TurnClient::bindChannel(const Endpoint& peer, Channel& channel, TimePoint now)
{
    channel.pending = true;
    Request request(Purpose::Channel);
    request.peer = peer;
    request.channel = channel.number;
    start(request, now);
}

void TurnClient::fail(std::string why)
{
    logger().error(why);
    _state = State::Failed;
    _error = std::move(why);
    _pending.clear();
    _permissions.clear();
    _channels.clear();
    _channelPeers.clear();
    _relayed.reset();
}

std::optional<TurnClient::PeerDatagram> TurnClient::receiveChannelData(std::string_view bytes)
{
    const auto data = ChannelData::decode(bytes);
    if (!data) {
        drop(data.error());
        return std::nullopt;
    }
    const auto it = _channelPeers.find(data->channel);
    if (it == _channelPeers.end()) {
        drop("ChannelData on a channel we did not bind");
        return std::nullopt;
    }
    return PeerDatagram{it->second, data->payload};
}

std::optional<TurnClient::PeerDatagram> TurnClient::receiveIndication(const StunMessage& message)
{
    const auto peer = message.xorAddress(Attribute::XorPeerAddress);
    auto payload = message.attribute(Attribute::Data);
    if (!peer || !payload) {
        drop("a Data indication without XOR-PEER-ADDRESS or DATA");
        return std::nullopt;
    }
    return PeerDatagram{*peer, std::move(*payload)};
}

void TurnClient::drop(const std::string& why)
{
    ++_dropped;
    logger().debug("dropped a datagram from the TURN server %s: %s", _server.toString(), why);
}

StunMessage::Method TurnClient::methodOf(Purpose purpose)
{
    switch (purpose) {
    case Purpose::Allocate: return Method::Allocate;
    case Purpose::Refresh: return Method::Refresh;
    case Purpose::Permission: return Method::CreatePermission;
    case Purpose::Channel: return Method::ChannelBind;
    }
    return Method::Binding;
}

} // namespace peerchat
