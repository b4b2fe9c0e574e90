#pragma once

#include "Directory.h"
#include "Endpoint.h"
#include "IndexIdentity.h"
#include "KxKeyPair.h"
#include "Protocol.h"
#include "SessionCipher.h"
#include "SignedStatement.h"
#include "SigningKey.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace peerchat::test {

/// A peerchat/3 peerd as indexd sees it, made of the real crypto classes:
/// an identity key, the key-exchange pair of its current login, and its
/// session with indexd once welcomed. It builds the datagrams a peerd sends
/// (hello, auth, seals) and opens what indexd seals for it.
class TestPeer
{
public:
    TestPeer(std::string name, const std::string& endpoint, SigningKey key = SigningKey::generate())
        : _name(std::move(name)),
          _endpoint(Endpoint::parse(endpoint).value()),
          _key(std::move(key)),
          _kx(KxKeyPair::generate())
    {
    }

    const std::string& name() const { return _name; }
    const Endpoint& endpoint() const { return _endpoint; }
    const SigningKey& key() const { return _key; }
    const KxKeyPair& kx() const { return _kx; }

    /// The keys this peer's auth presents, its kx signature included (made
    /// for the indexd run of indexIdentity and epoch).
    PeerKeys keys(const PublicKey& indexIdentity = {}, const Epoch& epoch = {}) const
    {
        return PeerKeys{_key.publicKey(), _kx.publicKey(),
                        _key.sign(SignedStatement::kx(_key.publicKey(), _name, _kx.publicKey(), indexIdentity, epoch))};
    }

    /// What indexd holds for this peer once its auth is taken: its keys and
    /// indexd's side of the session.
    PeerSession sessionAt(const IndexIdentity& index) const
    {
        auto cipher = SessionCipher::between(index.kx(), index.key(), _key.publicKey(), _kx.publicKey());
        return PeerSession{keys(index.publicKey(), index.epoch()), std::move(*cipher)};
    }

    /// A hello padded to Protocol::kMinHelloBytes, or with the padding given.
    std::string hello(std::optional<std::size_t> padding = std::nullopt) const
    {
        Hello hello{_name, "peerchat/3", 0, Nonce{}};
        const std::size_t bare = Protocol::encode(hello).size();
        hello.padding = padding ? *padding : (bare < Protocol::kMinHelloBytes ? Protocol::kMinHelloBytes - bare : 0);
        return Protocol::encode(hello);
    }

    /// The auth answering a challenge datagram, signed as peerd signs it.
    Auth authFor(const std::string& challengeDatagram) const
    {
        const Challenge challenge = std::get<Challenge>(Protocol::decode(challengeDatagram).value());
        Auth auth{_name, challenge.observed, "peerchat/3", keys(challenge.indexIdentity, challenge.epoch),
                  challenge.nonce, Signature{}};
        auth.sig = _key.sign(SignedStatement::auth(auth));
        return auth;
    }

    std::string auth(const std::string& challengeDatagram) const { return Protocol::encode(authFor(challengeDatagram)); }

    /// Takes indexd's welcome: the session with indexd's kx key. False when
    /// the datagram is no welcome for this peer.
    bool welcome(const std::string& datagram)
    {
        auto message = Protocol::decode(datagram);
        if (!message || !std::holds_alternative<Welcome>(*message)) return false;
        const Welcome& welcome = std::get<Welcome>(*message);
        if (welcome.name != _name) return false;
        _session = SessionCipher::between(_kx, _key, welcome.indexIdentity, welcome.indexKx);
        return _session.has_value();
    }

    /// Makes the session with indexd directly, as if welcomed.
    void sessionWith(const IndexIdentity& index)
    {
        _session = SessionCipher::between(_kx, _key, index.publicKey(), index.kx().publicKey());
    }

    /// Draws a new key-exchange pair, as peerd does at each login.
    void rekey()
    {
        _kx = KxKeyPair::generate();
        _session.reset();
    }

    /// inner sealed for indexd.
    std::string seal(const Message& inner) { return Protocol::encode(_session->seal(Protocol::encode(inner))); }

    /// What indexd sealed in datagram, or nullopt when it does not open.
    std::optional<Message> open(const std::string& datagram)
    {
        auto message = Protocol::decode(datagram);
        if (!message || !std::holds_alternative<Seal>(*message) || !_session) return std::nullopt;
        auto plaintext = _session->open(std::get<Seal>(*message));
        if (!plaintext) return std::nullopt;
        auto inner = Protocol::decode(*plaintext);
        if (!inner) return std::nullopt;
        return *inner;
    }

    /// Every message indexd sealed in datagram (a bundle holds several);
    /// none when it does not open.
    std::vector<Message> openBundle(const std::string& datagram)
    {
        std::vector<Message> messages;
        auto message = Protocol::decode(datagram);
        if (!message || !std::holds_alternative<Seal>(*message) || !_session) return messages;
        auto plaintext = _session->open(std::get<Seal>(*message));
        if (!plaintext) return messages;
        for (auto& inner : Protocol::decodeBundle(*plaintext)) {
            if (inner) messages.push_back(std::move(*inner));
        }
        return messages;
    }

private:
    std::string _name;
    Endpoint _endpoint;
    SigningKey _key;
    KxKeyPair _kx;
    std::optional<SessionCipher> _session;
};

} // namespace peerchat::test
