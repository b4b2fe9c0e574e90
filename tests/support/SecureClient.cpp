#include "SecureClient.h"
#include "Wait.h"

#include <sodium.h>

#include "SignedStatement.h"

#include <Poco/Timespan.h>

#include <sodium.h>

#include <cppunit/extensions/HelperMacros.h>

#include <ctime>

namespace peerchat::test {

namespace {

Poco::Timespan toTimespan(std::chrono::milliseconds ms)
{
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

// The wall clock as peerd writes a msg's time: HH:MM:SS.
std::string clockTime()
{
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
    return text;
}

} // namespace

SecureClient::SecureClient(std::string name, const std::string& bindHost)
    : SecureClient(std::move(name), SigningKey::generate(), bindHost)
{
}

SecureClient::SecureClient(std::string name, const SigningKey& identity, const std::string& bindHost)
    : _name(std::move(name)), _identity(identity), _socket(Poco::Net::SocketAddress(bindHost, 0), false)
{
}

std::string SecureClient::endpoint() const
{
    return _socket.address().toString();
}

PeerKeys SecureClient::keys() const
{
    PeerKeys keys;
    keys.identity = _identity.publicKey();
    if (_kx) {
        keys.kx = _claimedKx.value_or(_kx->publicKey());
        keys.kxSig = _kxSig;
    }
    return keys;
}

void SecureClient::sendBytes(const std::string& bytes, const Poco::Net::SocketAddress& to)
{
    _sent.push_back(bytes);
    _socket.sendTo(bytes.data(), static_cast<int>(bytes.size()), to);
}

void SecureClient::rebind()
{
    _socket = Poco::Net::DatagramSocket(Poco::Net::SocketAddress(_socket.address().host(), 0), false);
}

void SecureClient::sendRaw(const std::string& bytes, const std::string& to)
{
    sendBytes(bytes, Poco::Net::SocketAddress(to));
}

void SecureClient::sendHello(const std::string& index, const std::string& dialect, std::optional<std::size_t> padding)
{
    Nonce nonce{};
    randombytes_buf(nonce.data(), nonce.size());
    Hello hello{_name, dialect, 0, nonce};
    if (padding) {
        hello.padding = *padding;
    } else {
        const std::size_t bare = Protocol::encode(hello).size();
        hello.padding = bare < Protocol::kMinHelloBytes ? Protocol::kMinHelloBytes - bare : 0;
    }
    sendRaw(Protocol::encodeDatagram(hello, TextEncoding::Utf8), index);
}

std::optional<Challenge> SecureClient::awaitChallenge(std::chrono::milliseconds timeout)
{
    const auto received = receiveMatching(
        [&](const Received& r) {
            return r.message && std::holds_alternative<Challenge>(*r.message) &&
                   std::get<Challenge>(*r.message).name == _name;
        },
        timeout);
    if (!received) return std::nullopt;
    return std::get<Challenge>(*received->message);
}

std::string SecureClient::authFor(const Challenge& challenge)
{
    _kx = KxKeyPair::generate();
    _kxSig = _identity.sign(SignedStatement::kx(_identity.publicKey(), _name, _claimedKx.value_or(_kx->publicKey()),
                                                challenge.indexIdentity, challenge.epoch));
    // Sessions belong to a key-exchange key: the peers' are made anew for this one.
    for (auto it = _peers.begin(); it != _peers.end();) {
        auto session = SessionCipher::between(*_kx, _identity, it->second.keys.identity, it->second.keys.kx);
        if (session) {
            it->second.session = std::move(*session);
            ++it;
        } else {
            it = _peers.erase(it);
        }
    }
    Auth auth{_name, challenge.observed, std::string(dialectToken(Dialect::Peerchat)), keys(), challenge.nonce, {}};
    auth.sig = _identity.sign(SignedStatement::auth(auth));
    _nonce = challenge.nonce;
    return Protocol::encodeDatagram(auth, TextEncoding::Utf8);
}

Parsed<Welcome> SecureClient::login(const std::string& index, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    _index = index;
    _welcome.reset();
    _indexSession.reset();
    const auto isReply = [&](const Received& r, bool challengeToo) {
        if (!r.message) return false;
        if (const auto* refuse = std::get_if<Refuse>(&*r.message)) return refuse->name == _name;
        if (const auto* welcome = std::get_if<Welcome>(&*r.message)) return welcome->name == _name;
        const auto* challenge = std::get_if<Challenge>(&*r.message);
        return challengeToo && challenge && challenge->name == _name;
    };

    sendHello(index);
    const auto first = receiveMatching([&](const Received& r) { return isReply(r, true); }, timeLeft(deadline));
    if (!first) return Parsed<Welcome>::refuse("no challenge");
    const auto* challenge = std::get_if<Challenge>(&*first->message);
    if (!challenge) return Parsed<Welcome>::refuse(Protocol::encode(*first->message));
    if (!SigningKey::verify(challenge->indexIdentity, SignedStatement::challenge(*challenge), challenge->sig))
        return Parsed<Welcome>::refuse("the challenge's signature does not verify");
    if (_indexPin && *_indexPin != challenge->indexIdentity)
        return Parsed<Welcome>::refuse("the challenge is signed by another index key");

    sendRaw(authFor(*challenge), index);
    const auto reply = receiveMatching([&](const Received& r) { return isReply(r, false); }, timeLeft(deadline));
    if (!reply) return Parsed<Welcome>::refuse("no welcome");
    const auto* welcome = std::get_if<Welcome>(&*reply->message);
    if (!welcome) return Parsed<Welcome>::refuse(Protocol::encode(*reply->message));
    if (reply->from != Poco::Net::SocketAddress(index)) return Parsed<Welcome>::refuse("welcome from elsewhere");
    if (!SigningKey::verify(welcome->indexIdentity, SignedStatement::welcome(*welcome, *_nonce), welcome->sig))
        return Parsed<Welcome>::refuse("the welcome's signature does not verify");
    if (_indexPin && *_indexPin != welcome->indexIdentity)
        return Parsed<Welcome>::refuse("the welcome is signed by another index key");
    if (_claimedKx) {
        _welcome = *welcome;
        return *welcome;
    }
    auto session = SessionCipher::between(*_kx, _identity, welcome->indexIdentity, welcome->indexKx);
    if (!session) return Parsed<Welcome>::refuse("indexd's key-exchange key makes no session");
    _indexPin = welcome->indexIdentity;
    _indexSession = std::move(*session);
    _welcome = *welcome;
    return *welcome;
}

const Welcome& SecureClient::welcome() const
{
    CPPUNIT_ASSERT_MESSAGE(_name + " is not logged in", _welcome.has_value());
    return *_welcome;
}

Seal SecureClient::sealForIndex(const Message& inner)
{
    CPPUNIT_ASSERT_MESSAGE(_name + " has no session with indexd", _indexSession.has_value());
    return _indexSession->seal(Protocol::encode(inner));
}

void SecureClient::sendToIndex(const Message& inner)
{
    sendRaw(Protocol::encodeDatagram(sealForIndex(inner), TextEncoding::Utf8), _index);
}

void SecureClient::logout()
{
    sendToIndex(Logout{_name, Endpoint(_socket.address())});
}

Seal SecureClient::sealForPeer(const std::string& name, const Message& inner)
{
    const auto peer = _peers.find(name);
    CPPUNIT_ASSERT_MESSAGE(_name + " knows no keys of " + name, peer != _peers.end());
    return peer->second.session.seal(Protocol::encode(inner));
}

std::pair<std::string, PeerKeys> SecureClient::peer(const std::string& name) const
{
    const auto peer = _peers.find(name);
    CPPUNIT_ASSERT_MESSAGE(_name + " knows no keys of " + name, peer != _peers.end());
    return {peer->second.endpoint, peer->second.keys};
}

bool SecureClient::addPeer(const std::string& name, const std::string& endpoint, const PeerKeys& keys)
{
    if (!_kx || !_welcome ||
        !SigningKey::verify(keys.identity,
                            SignedStatement::kx(keys.identity, name, keys.kx, _welcome->indexIdentity, _welcome->epoch),
                            keys.kxSig))
        return false;
    auto session = SessionCipher::between(*_kx, _identity, keys.identity, keys.kx);
    if (!session) return false;
    _peers.insert_or_assign(name, Peer{endpoint, keys, std::move(*session)});
    return true;
}

void SecureClient::sendToPeer(const std::string& name, const Message& inner)
{
    const Seal seal = sealForPeer(name, inner);
    sendRaw(Protocol::encodeDatagram(seal, TextEncoding::Utf8), _peers.at(name).endpoint);
}

void SecureClient::sendMsg(const std::string& to, const std::string& stream, std::uint64_t seq, const std::string& text)
{
    sendToPeer(to, Msg{stream, seq, clockTime(), _name, to, text});
}

void SecureClient::declare(const std::vector<std::string>& contacts, PresenceState state, const std::string& status)
{
    ContactsDeclaration part{_name, ++_declared, 1, 1, state, status, contacts, {}};
    part.sig = _identity.sign(SignedStatement::contacts(part));
    sendToIndex(part);
}

std::optional<Here> SecureClient::awaitHere(const std::string& name, std::chrono::milliseconds timeout)
{
    std::optional<Here> found;
    receiveMatching(
        [&](const Received& r) {
            for (const Message& inner : r.bundle) {
                if (const auto* here = std::get_if<Here>(&inner); here && here->name == name) found = *here;
            }
            return found.has_value();
        },
        timeout);
    return found;
}

void SecureClient::open(Received& received)
{
    const Seal& seal = std::get<Seal>(*received.message);
    SessionCipher* session = nullptr;
    if (_indexSession && seal.sender == _indexSession->remoteId()) session = &*_indexSession;
    for (auto& [name, peer] : _peers) {
        if (!session && seal.sender == peer.session.remoteId()) session = &peer.session;
    }
    if (!session) {
        received.problem = "sealed by a key this client has no session with";
        return;
    }
    const auto plaintext = session->open(seal);
    if (!plaintext) {
        received.problem = "seal refused: " + plaintext.error();
        return;
    }
    for (auto& inner : Protocol::decodeBundle(*plaintext)) {
        if (!inner) {
            received.problem = "inner message refused: " + inner.error();
            return;
        }
        received.bundle.push_back(std::move(*inner));
    }
    received.inner = received.bundle.front();
}

void SecureClient::learn(const Received& received)
{
    if (_index.empty() || received.from != Poco::Net::SocketAddress(_index)) return;
    for (const Message& inner : received.bundle) {
        const auto* here = std::get_if<Here>(&inner);
        if (here && here->keys && here->name != _name) addPeer(here->name, here->endpoint.toString(), *here->keys);
    }
}

std::optional<SecureClient::Received> SecureClient::receive(std::chrono::milliseconds timeout)
{
    if (!_socket.poll(toTimespan(timeout), Poco::Net::Socket::SELECT_READ)) return std::nullopt;
    char buffer[65536];
    Received received;
    const int n = _socket.receiveFrom(buffer, sizeof buffer, received.from);
    received.bytes.assign(buffer, static_cast<std::size_t>(n < 0 ? 0 : n));
    auto decoded = Protocol::decodeDatagram(received.bytes);
    if (!decoded) {
        received.problem = decoded.error();
        return received;
    }
    received.message = decoded->message;
    if (std::holds_alternative<Seal>(*received.message)) open(received);
    learn(received);
    return received;
}

std::optional<SecureClient::Received> SecureClient::receiveMatching(const Match& match,
                                                                    std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (timeLeft(deadline).count() > 0) {
        auto received = receive(timeLeft(deadline));
        if (received && match(*received)) return received;
    }
    return std::nullopt;
}

std::optional<SecureClient::Received> SecureClient::receiveInner(const std::string& verb,
                                                                 std::chrono::milliseconds timeout)
{
    return receiveMatching(
        [&](const Received& r) {
            for (const Message& inner : r.bundle) {
                if (Protocol::verb(inner) == verb) return true;
            }
            return false;
        },
        timeout);
}

std::optional<SecureClient::Received> SecureClient::receivePlain(const std::string& verb,
                                                                 std::chrono::milliseconds timeout)
{
    return receiveMatching([&](const Received& r) { return r.message && Protocol::verb(*r.message) == verb; },
                           timeout);
}

bool SecureClient::quietFor(std::chrono::milliseconds window)
{
    return !_socket.poll(toTimespan(window), Poco::Net::Socket::SELECT_READ);
}

std::string SecureClient::lastSent(const std::string& prefix) const
{
    for (auto it = _sent.rbegin(); it != _sent.rend(); ++it) {
        if (it->compare(0, prefix.size(), prefix) == 0) return *it;
    }
    CPPUNIT_FAIL(_name + " sent no datagram starting with " + prefix);
    return {};
}

} // namespace peerchat::test
