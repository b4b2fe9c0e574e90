#include "SessionCipher.h"

#include "SigningKey.h"

#include <sodium.h>

namespace peerchat {

namespace {

constexpr std::string_view kAssociatedPrefix = "peerchat/2 seal";

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
std::string associatedData(const KeyId& sender, const KeyId& recipient, std::uint64_t counter)
{
    std::string data(kAssociatedPrefix);
    data.append(sender.begin(), sender.end());
    data.append(recipient.begin(), recipient.end());
    std::uint8_t bytes[8];
    putLittleEndian(counter, bytes);
    data.append(std::begin(bytes), std::end(bytes));
    return data;
}

const unsigned char* bytesOf(std::string_view text)
{
    return reinterpret_cast<const unsigned char*>(text.data());
}

} // namespace

std::optional<SessionCipher> SessionCipher::between(const KxKeyPair& mine, const PublicKey& theirs)
{
    Sodium::init();
    if (theirs == mine.publicKey()) return std::nullopt;
    SessionCipher cipher;
    // Both sides must agree on who is client without a handshake: the smaller key is.
    const int refused = mine.publicKey() < theirs
        ? crypto_kx_client_session_keys(cipher._rx.data(), cipher._tx.data(), mine.publicKey().data(),
                                        mine.secretKey().data(), theirs.data())
        : crypto_kx_server_session_keys(cipher._rx.data(), cipher._tx.data(), mine.publicKey().data(),
                                        mine.secretKey().data(), theirs.data());
    if (refused != 0) return std::nullopt;
    cipher._localId = mine.id();
    cipher._remoteId = KxKeyPair::idOf(theirs);
    return cipher;
}

SessionCipher::~SessionCipher()
{
    sodium_memzero(_rx.data(), _rx.size());
    sodium_memzero(_tx.data(), _tx.size());
}

Seal SessionCipher::seal(std::string_view plaintext)
{
    Seal seal;
    seal.sender = _localId;
    seal.recipient = _remoteId;
    seal.counter = _nextCounter++;
    const auto nonce = nonceFor(seal.counter);
    const std::string associated = associatedData(seal.sender, seal.recipient, seal.counter);
    seal.box.resize(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    unsigned long long length = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(seal.box.data()), &length,
                                               bytesOf(plaintext), plaintext.size(), bytesOf(associated),
                                               associated.size(), nullptr, nonce.data(), _tx.data());
    seal.box.resize(length);
    return seal;
}

Parsed<std::string> SessionCipher::open(const Seal& seal)
{
    if (seal.sender != _remoteId || seal.recipient != _localId)
        return Parsed<std::string>::refuse("sealed between other keys");
    if (!_window.fresh(seal.counter))
        return Parsed<std::string>::refuse("counter " + std::to_string(seal.counter) + " replayed or too old");
    if (seal.box.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES)
        return Parsed<std::string>::refuse("not authentic: box too short");
    const auto nonce = nonceFor(seal.counter);
    const std::string associated = associatedData(seal.sender, seal.recipient, seal.counter);
    std::string plaintext(seal.box.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    unsigned long long length = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plaintext.data()), &length,
                                                   nullptr, bytesOf(seal.box), seal.box.size(),
                                                   bytesOf(associated), associated.size(), nonce.data(),
                                                   _rx.data())
        != 0)
        return Parsed<std::string>::refuse("not authentic");
    plaintext.resize(length);
    _window.accept(seal.counter);
    return plaintext;
}

} // namespace peerchat
