#include "LoginState.h"

#include "Base64.h"
#include "Fingerprint.h"
#include "SignedStatement.h"

#include <sodium.h>

#include <algorithm>
#include <utility>

namespace peerchat {

LoginState::LoginState(std::string self, const SigningKey& identity, const Endpoint& index,
                       std::optional<PublicKey> configuredIndexKey, KeyPins& pins)
    : _self(std::move(self)),
      _identity(identity),
      _index(index),
      _configuredIndexKey(configuredIndexKey),
      _pins(pins)
{
}

Hello LoginState::hello()
{
    if (!_kx) {
        _kx.emplace(KxKeyPair::generate());
        _kxSig = _identity.sign(SignedStatement::kx(_self, _kx->publicKey()));
        _nonces.clear();
        _hellos.clear();
    }
    Nonce nonce{};
    randombytes_buf(nonce.data(), nonce.size());
    if (_hellos.size() == kMaxHellos) _hellos.erase(_hellos.begin());
    _hellos.emplace_back(nonce, false);
    Hello hello{_self, std::string(dialectToken(Dialect::Peerchat)), 1, nonce};
    const std::size_t size = Protocol::encode(hello).size();
    if (size < Protocol::kMinHelloBytes) hello.padding += Protocol::kMinHelloBytes - size;
    return hello;
}

LoginState::Answer LoginState::answer(const Challenge& challenge)
{
    if (challenge.name != _self) {
        return {std::nullopt, DropReason::Unexpected, "challenge names " + challenge.name + ", not " + _self};
    }
    if (!_kx) return {std::nullopt, DropReason::Unexpected, "challenge while no login is under way"};
    const auto hello = std::find_if(_hellos.begin(), _hellos.end(),
                                    [&](const auto& sent) { return challenge.echo == sent.first; });
    if (hello == _hellos.end()) {
        return {std::nullopt, DropReason::Unauthentic,
                challenge.echo ? "challenge echoes no hello of this login (forged, or late)"
                               : "challenge echoes no hello (forged, or from an indexd that does not echo)"};
    }
    if (hello->second) return {std::nullopt, DropReason::Unexpected, "a second challenge for one hello"};
    hello->second = true;
    Auth auth;
    auth.name = _self;
    auth.observed = challenge.observed;
    auth.dialect = std::string(dialectToken(Dialect::Peerchat));
    auth.keys = PeerKeys{_identity.publicKey(), _kx->publicKey(), _kxSig};
    auth.nonce = challenge.nonce;
    auth.sig = _identity.sign(SignedStatement::auth(auth));
    if (_nonces.size() == kMaxNonces) _nonces.erase(_nonces.begin());
    _nonces.emplace_back(challenge.nonce, challenge.observed);
    return {auth, DropReason::Unexpected, {}};
}

bool LoginState::echoesOwn(const std::optional<Nonce>& echo) const
{
    if (!echo) return false;
    const auto same = [&](const auto& remembered) { return remembered.first == *echo; };
    return std::any_of(_hellos.begin(), _hellos.end(), same) || std::any_of(_nonces.begin(), _nonces.end(), same);
}

LoginState::Verdict LoginState::check(const Welcome& welcome)
{
    using Outcome = Verdict::Outcome;
    if (welcome.name != _self) return {Outcome::Dropped, "welcome names " + welcome.name + ", not " + _self, {}};
    if (!_kx) return {Outcome::Dropped, "welcome while no login is under way", {}};
    const std::pair<Nonce, Endpoint>* answered = nullptr;
    for (const auto& nonce : _nonces) {
        if (SigningKey::verify(welcome.indexIdentity, SignedStatement::welcome(welcome, nonce.first), welcome.sig)) {
            answered = &nonce;
            break;
        }
    }
    if (answered == nullptr) {
        return {Outcome::Dropped, "welcome is not signed by its INDEXID over a nonce this login answered", {}};
    }

    std::string pinned;
    const std::optional<PublicKey> expected =
        _configuredIndexKey ? _configuredIndexKey : _pins.indexPin(_index.toString());
    if (expected && *expected != welcome.indexIdentity) {
        const std::string source = _configuredIndexKey ? "the key given by --index-key (peerd.indexKey)"
                                                       : "the key pinned at first contact";
        return {Outcome::Refused,
                "indexd at " + _index.toString() + " presents the identity key " +
                    Fingerprint::of(welcome.indexIdentity) + ", but peerd expects " + Fingerprint::of(*expected) +
                    " (" + source + "): someone may be impersonating indexd. Compare fingerprints with indexd's "
                    "operator (indexd logs its own at start); only if its key was replaced on purpose, start peerd "
                    "with --index-key " + Base64::encode(welcome.indexIdentity),
                {}};
    }
    if (_pins.indexPin(_index.toString()) != welcome.indexIdentity) {
        _pins.pinIndex(_index.toString(), welcome.indexIdentity);
        pinned = "pinned indexd's identity key for " + _index.toString() + ": " +
                 Fingerprint::of(welcome.indexIdentity);
    }

    Verdict verdict{Outcome::Accepted, pinned,
                    Welcomed{welcome.port, welcome.epoch, welcome.indexIdentity, welcome.indexKx, answered->second,
                             std::move(*_kx)}};
    reset();
    return verdict;
}

void LoginState::reset()
{
    _kx.reset();
    _nonces.clear();
    _hellos.clear();
}

} // namespace peerchat
