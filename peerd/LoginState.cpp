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
        return {std::nullopt, DropReason::Unauthentic, "challenge echoes no hello of this login (forged, or late)"};
    }
    if (hello->second) return {std::nullopt, DropReason::Unexpected, "a second challenge for one hello"};
    // Whoever saw the hello can echo its HNONCE: only indexd's signature
    // makes its OBSERVED an endpoint worth signing.
    if (!SigningKey::verify(challenge.indexIdentity, SignedStatement::challenge(challenge), challenge.sig)) {
        return {std::nullopt, DropReason::Unauthentic, "challenge not signed by the index key it names (forged)"};
    }
    if (const std::optional<PublicKey> expected = expectedIndexKey();
        expected && *expected != challenge.indexIdentity) {
        return {std::nullopt, DropReason::Unauthentic, impostorDetail(challenge.indexIdentity, *expected), true};
    }
    hello->second = true;
    Auth auth;
    auth.name = _self;
    auth.observed = challenge.observed;
    auth.dialect = std::string(dialectToken(Dialect::Peerchat));
    auth.keys = PeerKeys{_identity.publicKey(), _kx->publicKey(),
                         _identity.sign(SignedStatement::kx(_identity.publicKey(), _self, _kx->publicKey(),
                                                            challenge.indexIdentity, challenge.epoch))};
    auth.nonce = challenge.nonce;
    auth.sig = _identity.sign(SignedStatement::auth(auth));
    if (_nonces.size() == kMaxNonces) _nonces.erase(_nonces.begin());
    _nonces.push_back(Answered{challenge.nonce, challenge.observed, challenge.indexIdentity, challenge.epoch});
    return {auth, DropReason::Unexpected, {}};
}

bool LoginState::echoesOwn(const std::optional<Nonce>& echo) const
{
    if (!echo) return false;
    return std::any_of(_hellos.begin(), _hellos.end(), [&](const auto& hello) { return hello.first == *echo; }) ||
           std::any_of(_nonces.begin(), _nonces.end(), [&](const Answered& answered) { return answered.nonce == *echo; });
}

LoginState::Verdict LoginState::check(const Welcome& welcome)
{
    using Outcome = Verdict::Outcome;
    if (welcome.name != _self) return {Outcome::Dropped, "welcome names " + welcome.name + ", not " + _self, {}};
    if (!_kx) return {Outcome::Dropped, "welcome while no login is under way", {}};
    // The KXSIGs of this round name the indexd run of the challenge they answered: the welcome must be that run's.
    const auto answered = std::find_if(_nonces.begin(), _nonces.end(), [&](const Answered& challenge) {
        return challenge.indexIdentity == welcome.indexIdentity && challenge.epoch == welcome.epoch &&
               SigningKey::verify(welcome.indexIdentity, SignedStatement::welcome(welcome, challenge.nonce),
                                  welcome.sig);
    });
    if (answered == _nonces.end()) {
        return {Outcome::Dropped,
                "welcome is not signed over a nonce this login answered by the index key and run of its challenge",
                {}};
    }

    std::string pinned;
    if (_pins.indexPin(_index.toString()) != welcome.indexIdentity) {
        _pins.pinIndex(_index.toString(), welcome.indexIdentity);
        pinned = "pinned indexd's identity key for " + _index.toString() + ": " +
                 Fingerprint::of(welcome.indexIdentity);
    }

    Verdict verdict{Outcome::Accepted, pinned,
                    Welcomed{welcome.epoch, welcome.indexIdentity, welcome.indexKx, answered->observed,
                             std::move(*_kx)}};
    reset();
    return verdict;
}

std::optional<PublicKey> LoginState::expectedIndexKey() const
{
    return _configuredIndexKey ? _configuredIndexKey : _pins.indexPin(_index.toString());
}

std::string LoginState::impostorDetail(const PublicKey& presented, const PublicKey& expected) const
{
    const std::string source =
        _configuredIndexKey ? "the key given by --index-key (peerd.indexKey)" : "the key pinned at first contact";
    return "indexd at " + _index.toString() + " presents the identity key " + Fingerprint::of(presented) +
           ", but peerd expects " + Fingerprint::of(expected) + " (" + source +
           "): someone may be impersonating indexd. Compare fingerprints with indexd's operator (indexd logs its own "
           "at start); only if its key was replaced on purpose, start peerd with --index-key " +
           Base64::encode(presented);
}

void LoginState::reset()
{
    _kx.reset();
    _nonces.clear();
    _hellos.clear();
}

} // namespace peerchat
