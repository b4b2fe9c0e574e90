#include "SessionCipher.h"

#include "SigningKey.h"

#include <sodium.h>

#include <algorithm>

namespace peerchat {

namespace {

constexpr std::string_view kAssociatedPrefix = "peerchat/3 seal";
constexpr std::string_view kSessionLabel = "peerchat/3 session";

using SharedSecret = std::array<std::uint8_t, crypto_scalarmult_BYTES>;

// secret times point into out; false for a point libsodium refuses (the
// result would be all zeros: a low-order point).
bool diffieHellman(SharedSecret& out, const std::uint8_t* secret, const PublicKey& point)
{
    return crypto_scalarmult(out.data(), secret, point.data()) == 0;
}

void putLittleEndian(std::uint64_t value, std::uint8_t* out)
{
    for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonceFor(std::uint64_t counter)
{
    std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
    putLittleEndian(counter, nonce.data());
    return nonce;
}

// The seal's header, bound to the box so that no field of it can be changed.
// In place: a string of it was an allocation per datagram sealed or opened.
using AssociatedData = std::array<std::uint8_t, kAssociatedPrefix.size() + 2 * std::tuple_size_v<KeyId> + 8>;

AssociatedData associatedData(const KeyId& sender, const KeyId& recipient, std::uint64_t counter)
{
    AssociatedData data{};
    std::uint8_t* out = std::copy(kAssociatedPrefix.begin(), kAssociatedPrefix.end(), data.begin());
    out = std::copy(sender.begin(), sender.end(), out);
    out = std::copy(recipient.begin(), recipient.end(), out);
    putLittleEndian(counter, out);
    return data;
}

const unsigned char* bytesOf(std::string_view text)
{
    return reinterpret_cast<const unsigned char*>(text.data());
}

} // namespace

std::optional<SessionCipher> SessionCipher::between(const KxKeyPair& mine, const SigningKey& myIdentity,
                                                   const PublicKey& theirIdentity, const PublicKey& theirKx)
{
    Sodium::init();
    if (theirKx == mine.publicKey()) return std::nullopt;
    PublicKey theirStatic;
    if (!SigningKey::curvePublic(theirIdentity, theirStatic)) return std::nullopt;
    // Both sides must agree on who is client without a handshake: the smaller key is.
    const bool client = mine.publicKey() < theirKx;
    const LockedSecret<std::array<std::uint8_t, 32>> myStatic = myIdentity.curveSecret();
    const std::uint8_t* myEphemeral = mine.secretKey().data();
    // The three shared secrets and the hash of the transcript: secrets too, so in locked memory.
    struct Derivation
    {
        std::array<SharedSecret, 3> shared;
        std::array<std::uint8_t, 64> keys;
    };
    LockedSecret<Derivation> derivation;
    SharedSecret& ephemeral = derivation->shared[0];
    SharedSecret& clientEphemeralServerStatic = derivation->shared[1];
    SharedSecret& clientStaticServerEphemeral = derivation->shared[2];
    const bool agreed =
        diffieHellman(ephemeral, myEphemeral, theirKx) &&
        (client ? diffieHellman(clientEphemeralServerStatic, myEphemeral, theirStatic) &&
                      diffieHellman(clientStaticServerEphemeral, myStatic->data(), theirKx)
                : diffieHellman(clientEphemeralServerStatic, myStatic->data(), theirKx) &&
                      diffieHellman(clientStaticServerEphemeral, myEphemeral, theirStatic));
    if (!agreed) return std::nullopt;

    const PublicKey& clientIdentity = client ? myIdentity.publicKey() : theirIdentity;
    const PublicKey& serverIdentity = client ? theirIdentity : myIdentity.publicKey();
    const PublicKey& clientKx = client ? mine.publicKey() : theirKx;
    const PublicKey& serverKx = client ? theirKx : mine.publicKey();
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, derivation->keys.size());
    crypto_generichash_update(&state, bytesOf(kSessionLabel), kSessionLabel.size());
    for (const SharedSecret& secret : derivation->shared) crypto_generichash_update(&state, secret.data(), secret.size());
    for (const PublicKey* key : {&clientIdentity, &serverIdentity, &clientKx, &serverKx})
        crypto_generichash_update(&state, key->data(), key->size());
    crypto_generichash_final(&state, derivation->keys.data(), derivation->keys.size());
    sodium_memzero(&state, sizeof state);

    SessionCipher cipher;
    const auto clientToServer = derivation->keys.begin();
    const auto serverToClient = derivation->keys.begin() + 32;
    std::copy_n(client ? clientToServer : serverToClient, 32, cipher._keys->tx.begin());
    std::copy_n(client ? serverToClient : clientToServer, 32, cipher._keys->rx.begin());
    cipher._localId = mine.id();
    cipher._remoteId = KxKeyPair::idOf(theirKx);
    return cipher;
}

Seal SessionCipher::seal(std::string_view plaintext)
{
    Seal seal;
    seal.sender = _localId;
    seal.recipient = _remoteId;
    seal.counter = _nextCounter++;
    const auto nonce = nonceFor(seal.counter);
    const AssociatedData associated = associatedData(seal.sender, seal.recipient, seal.counter);
    seal.box.resize(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    unsigned long long length = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(seal.box.data()), &length,
                                               bytesOf(plaintext), plaintext.size(), associated.data(),
                                               associated.size(), nullptr, nonce.data(), _keys->tx.data());
    seal.box.resize(length);
    return seal;
}

Parsed<std::string> SessionCipher::open(const Seal& seal)
{
    if (!carries(seal))
        return Parsed<std::string>::refuse("sealed between other keys");
    if (!_window.fresh(seal.counter))
        return Parsed<std::string>::refuse("counter " + std::to_string(seal.counter) + " replayed or too old");
    if (seal.box.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES)
        return Parsed<std::string>::refuse("not authentic: box too short");
    const auto nonce = nonceFor(seal.counter);
    const AssociatedData associated = associatedData(seal.sender, seal.recipient, seal.counter);
    std::string plaintext(seal.box.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    unsigned long long length = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plaintext.data()), &length,
                                                   nullptr, bytesOf(seal.box), seal.box.size(),
                                                   associated.data(), associated.size(), nonce.data(),
                                                   _keys->rx.data())
        != 0)
        return Parsed<std::string>::refuse("not authentic");
    plaintext.resize(length);
    _window.accept(seal.counter);
    return plaintext;
}

} // namespace peerchat
