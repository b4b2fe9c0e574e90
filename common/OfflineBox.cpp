#include "OfflineBox.h"

#include "SignedStatement.h"

#include <Poco/Exception.h>

#include <sodium.h>

#include <algorithm>

namespace peerchat {

namespace {

constexpr std::string_view kLabel = "peerchat/3 mail";

using BoxKey = std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_KEYBYTES>;
using SharedSecret = std::array<std::uint8_t, crypto_scalarmult_BYTES>;

static_assert(OfflineBox::kOverheadBytes
              == crypto_box_PUBLICKEYBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES + crypto_sign_BYTES);

const unsigned char* bytesOf(std::string_view text)
{
    return reinterpret_cast<const unsigned char*>(text.data());
}

// K of the box: the DH of its ephemeral key with the recipient's, bound to
// that ephemeral key and to who sends to whom.
LockedSecret<BoxKey> boxKey(const SharedSecret& shared, const PublicKey& ephemeral, const PublicKey& sender,
                            const PublicKey& recipient)
{
    LockedSecret<BoxKey> key;
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, key->size());
    crypto_generichash_update(&state, bytesOf(kLabel), kLabel.size());
    crypto_generichash_update(&state, shared.data(), shared.size());
    for (const PublicKey* part : {&ephemeral, &sender, &recipient})
        crypto_generichash_update(&state, part->data(), part->size());
    crypto_generichash_final(&state, key->data(), key->size());
    sodium_memzero(&state, sizeof state);
    return key;
}

std::string associatedData(const PublicKey& sender, const PublicKey& recipient)
{
    std::string data(kLabel);
    data.append(sender.begin(), sender.end());
    data.append(recipient.begin(), recipient.end());
    return data;
}

} // namespace

std::string OfflineBox::seal(const SigningKey& sender, const PublicKey& recipient, std::string_view plaintext)
{
    if (plaintext.size() > kMaxPlaintextBytes)
        throw Poco::InvalidArgumentException("offline message of " + std::to_string(plaintext.size())
                                             + " bytes is longer than " + std::to_string(kMaxPlaintextBytes));
    PublicKey recipientCurve;
    if (!SigningKey::curvePublic(recipient, recipientCurve))
        throw Poco::InvalidArgumentException("the recipient's identity key is not a usable public key");
    PublicKey ephemeral;
    LockedSecret<std::array<std::uint8_t, crypto_box_SECRETKEYBYTES>> ephemeralSecret;
    crypto_box_keypair(ephemeral.data(), ephemeralSecret->data());
    LockedSecret<SharedSecret> shared;
    if (crypto_scalarmult(shared->data(), ephemeralSecret->data(), recipientCurve.data()) != 0)
        throw Poco::InvalidArgumentException("the recipient's identity key is not a usable public key");
    const LockedSecret<BoxKey> key = boxKey(*shared, ephemeral, sender.publicKey(), recipient);

    const Signature signature = sender.sign(SignedStatement::mail(recipient, ephemeral, plaintext));
    std::string inner(signature.begin(), signature.end());
    inner.append(plaintext);
    const std::string associated = associatedData(sender.publicKey(), recipient);
    const std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
    std::string box(ephemeral.begin(), ephemeral.end());
    box.resize(ephemeral.size() + inner.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(box.data()) + ephemeral.size(),
                                               nullptr, bytesOf(inner), inner.size(), bytesOf(associated),
                                               associated.size(), nullptr, nonce.data(), key->data());
    return box;
}

Parsed<std::string> OfflineBox::open(const SigningKey& recipient, const PublicKey& sender, std::string_view box)
{
    if (box.size() < kOverheadBytes) return Parsed<std::string>::refuse("box too short");
    if (box.size() - kOverheadBytes > kMaxPlaintextBytes) return Parsed<std::string>::refuse("box too long");
    PublicKey ephemeral;
    std::copy_n(bytesOf(box), ephemeral.size(), ephemeral.begin());
    LockedSecret<SharedSecret> shared;
    // A low-order EPK makes an all-zero DH, which crypto_scalarmult refuses.
    if (crypto_scalarmult(shared->data(), recipient.curveSecret()->data(), ephemeral.data()) != 0)
        return Parsed<std::string>::refuse("not sealed for this recipient: unusable ephemeral key");
    const LockedSecret<BoxKey> key = boxKey(*shared, ephemeral, sender, recipient.publicKey());

    const std::string_view sealed = box.substr(ephemeral.size());
    const std::string associated = associatedData(sender, recipient.publicKey());
    const std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
    std::string inner(sealed.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(inner.data()), nullptr, nullptr,
                                                   bytesOf(sealed), sealed.size(), bytesOf(associated),
                                                   associated.size(), nonce.data(), key->data())
        != 0)
        return Parsed<std::string>::refuse("not sealed by this sender for this recipient");
    Signature signature;
    std::copy_n(bytesOf(inner), signature.size(), signature.begin());
    std::string plaintext = inner.substr(signature.size());
    if (!SigningKey::verify(sender, SignedStatement::mail(recipient.publicKey(), ephemeral, plaintext), signature))
        return Parsed<std::string>::refuse("not signed by the sender for this recipient");
    return plaintext;
}

} // namespace peerchat
