#include "CrowdUser.h"

#include "Fingerprint.h"
#include "SignedStatement.h"

#include <sodium.h>

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

namespace peerchat::bench {

CrowdUser::CrowdUser(std::uint32_t number, SigningKey identity, const PublicKey& indexKey)
    : _number(number), _identity(std::move(identity)), _indexKey(indexKey)
{
}

Hello CrowdUser::hello()
{
    if (!_kx) {
        _kx.emplace(KxKeyPair::generate());
        _hellosSent = 0;
        _answers = 0;
    }
    Nonce nonce{};
    randombytes_buf(nonce.data(), nonce.size());
    _hellos[_hellosSent % kRemembered] = nonce;
    _helloAnswered[_hellosSent % kRemembered] = false;
    ++_hellosSent;
    _phase = Phase::AwaitingChallenge;
    Hello hello{name(), std::string(dialectToken(Dialect::Peerchat)), 1, nonce};
    const std::size_t size = Protocol::encode(hello).size();
    if (size < Protocol::kMinHelloBytes) hello.padding += Protocol::kMinHelloBytes - size;
    return hello;
}

CrowdUser::Answer CrowdUser::answer(const Challenge& challenge)
{
    const auto drop = [](std::string why) { return Answer{std::nullopt, std::move(why), false}; };
    if (challenge.name != name()) return drop("challenge names " + challenge.name);
    if (!_kx) return drop("challenge while no login is under way");
    const std::size_t remembered = std::min(_hellosSent, kRemembered);
    const auto hello = std::find(_hellos.begin(), _hellos.begin() + static_cast<std::ptrdiff_t>(remembered),
                                 challenge.echo);
    if (hello == _hellos.begin() + static_cast<std::ptrdiff_t>(remembered))
        return drop("challenge echoes no hello of this login");
    bool& answered = _helloAnswered[static_cast<std::size_t>(hello - _hellos.begin())];
    if (answered) return drop("a second challenge for one hello");
    if (!SigningKey::verify(challenge.indexIdentity, SignedStatement::challenge(challenge), challenge.sig))
        return drop("challenge not signed by the index key it names");
    if (challenge.indexIdentity != _indexKey)
        return Answer{std::nullopt, "indexd signs with identity key " + Fingerprint::of(challenge.indexIdentity)
                                        + ", not the " + Fingerprint::of(_indexKey) + " given",
                      true};
    answered = true;

    Auth auth;
    auth.name = name();
    auth.observed = challenge.observed;
    auth.dialect = std::string(dialectToken(Dialect::Peerchat));
    auth.keys = PeerKeys{_identity.publicKey(), _kx->publicKey(),
                         _identity.sign(SignedStatement::kx(_identity.publicKey(), auth.name, _kx->publicKey(),
                                                            challenge.indexIdentity, challenge.epoch))};
    auth.nonce = challenge.nonce;
    auth.sig = _identity.sign(SignedStatement::auth(auth));
    _answered[_answers % kRemembered] = Answered{challenge.nonce, challenge.epoch};
    _observed = challenge.observed;
    ++_answers;
    _phase = Phase::AwaitingWelcome;
    return Answer{std::move(auth), {}, false};
}

std::string CrowdUser::welcome(const Welcome& welcome)
{
    if (welcome.name != name()) return "welcome names " + welcome.name;
    if (!_kx) return "welcome while no login is under way";
    if (welcome.indexIdentity != _indexKey) return "welcome names another index key";
    const auto first = _answered.begin();
    const auto last = first + static_cast<std::ptrdiff_t>(std::min(_answers, kRemembered));
    const bool signedForUs = std::any_of(first, last, [&](const Answered& challenge) {
        return challenge.epoch == welcome.epoch
               && SigningKey::verify(_indexKey, SignedStatement::welcome(welcome, challenge.nonce), welcome.sig);
    });
    if (!signedForUs) return "welcome not signed over a nonce this login answered, for its run";
    _session = SessionCipher::between(*_kx, _identity, welcome.indexIdentity, welcome.indexKx);
    if (!_session) return "welcome's key-exchange key makes no session";
    _kx.reset();
    _phase = Phase::InSession;
    return {};
}

bool CrowdUser::echoesOwn(const std::optional<Nonce>& echo) const
{
    if (!echo || !_kx) return false;
    const auto hellos = _hellos.begin() + static_cast<std::ptrdiff_t>(std::min(_hellosSent, kRemembered));
    const auto answered = _answered.begin() + static_cast<std::ptrdiff_t>(std::min(_answers, kRemembered));
    return std::find(_hellos.begin(), hellos, *echo) != hellos
           || std::any_of(_answered.begin(), answered, [&](const Answered& a) { return a.nonce == *echo; });
}

std::vector<Seal> CrowdUser::declare(const std::vector<std::string>& names, std::uint64_t version,
                                     PresenceState state)
{
    // Cut as peerd's ContactDeclaration::parts cuts a list: names in order,
    // each part's NAMES within the bytes one part may hold.
    const ContactsDeclaration first{name(), version, 1, 1, state, {}, {}, {}};
    std::vector<ContactsDeclaration> parts(1, first);
    std::size_t bytes = 0;
    for (const std::string& contact : names) {
        const std::size_t more = (parts.back().names.empty() ? 0 : 1) + contact.size();
        if (bytes + more > Protocol::kMaxDeclarationNamesBytes) {
            parts.push_back(first);
            parts.back().part = static_cast<std::uint32_t>(parts.size());
            bytes = 0;
        }
        bytes += (parts.back().names.empty() ? 0 : 1) + contact.size();
        parts.back().names.push_back(contact);
    }
    std::vector<Seal> seals;
    seals.reserve(parts.size());
    for (ContactsDeclaration& part : parts) {
        part.parts = static_cast<std::uint32_t>(parts.size());
        part.sig = _identity.sign(SignedStatement::contacts(part));
        seals.push_back(_session->seal(Protocol::encode(part)));
    }
    return seals;
}

Seal CrowdUser::alive()
{
    return _session->seal(Protocol::encode(Alive{name(), 0, std::nullopt}));
}

Seal CrowdUser::logout()
{
    return _session->seal(Protocol::encode(Logout{name(), _observed}));
}

CrowdUser::Opened CrowdUser::open(const Seal& seal)
{
    Opened opened;
    if (!_session) {
        opened.refused = "a seal while no session holds";
        return opened;
    }
    const Parsed<std::string> plaintext = _session->open(seal);
    if (!plaintext) {
        opened.refused = plaintext.error();
        return opened;
    }
    using Kind = Presence::Kind;
    for (const Parsed<Message>& part : Protocol::decodeBundle(*plaintext)) {
        if (!part) {
            ++opened.passedOver;
            continue;
        }
        std::visit(
            [&](const auto& message) {
                using T = std::decay_t<decltype(message)>;
                if constexpr (std::is_same_v<T, Declared>) {
                    opened.declared = message.version;
                } else if constexpr (std::is_same_v<T, Seen>) {
                    opened.seen = true;
                } else if constexpr (std::is_same_v<T, Snapshot>) {
                    opened.presence.push_back(Presence{Kind::Snapshot, message.seq, message.count, {}, {}});
                } else if constexpr (std::is_same_v<T, Here>) {
                    opened.presence.push_back(Presence{Kind::Here, message.seq, 0, message.name, message.state});
                } else if constexpr (std::is_same_v<T, Gone>) {
                    opened.presence.push_back(Presence{Kind::Gone, message.seq, 0, message.name, {}});
                } else {
                    ++opened.passedOver;
                }
            },
            *part);
    }
    return opened;
}

} // namespace peerchat::bench
