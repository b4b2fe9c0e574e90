#pragma once

#include "CryptoTypes.h"
#include "LockedSecret.h"

#include <string_view>

namespace peerchat {

/// A long-term Ed25519 identity key pair (libsodium crypto_sign): a user's,
/// or indexd's. The seed and the secret half live in locked memory
/// (LockedSecret), wiped when the object goes; a copy is a second locked
/// copy. Also converts to the X25519 keys OfflineBox seals offline messages
/// with.
class SigningKey
{
public:
    /// A fresh random key pair. Calls sodium_init first (see Sodium::init).
    static SigningKey generate();
    /// The key pair a seed makes (crypto_sign_seed_keypair).
    static SigningKey fromSeed(const KeySeed& seed);

    SigningKey(const SigningKey& other);
    SigningKey& operator=(const SigningKey& other);
    SigningKey(SigningKey&& other) noexcept = default;
    SigningKey& operator=(SigningKey&& other) noexcept = default;
    ~SigningKey() = default;

    const PublicKey& publicKey() const { return _public; }
    const KeySeed& seed() const { return _secrets->seed; }

    /// A detached signature over message.
    Signature sign(std::string_view message) const;

    /// True when signature is key's valid signature over message.
    static bool verify(const PublicKey& key, std::string_view message, const Signature& signature);

    /// The X25519 secret key of this pair (crypto_sign_ed25519_sk_to_curve25519), for OfflineBox.
    LockedSecret<std::array<std::uint8_t, 32>> curveSecret() const;
    /// The X25519 public key of an Ed25519 public key, or false when key is not a valid point.
    static bool curvePublic(const PublicKey& key, PublicKey& out);

private:
    // Both secrets in one holder: one slot of locked memory per key.
    struct Secrets
    {
        KeySeed seed;
        std::array<std::uint8_t, 64> secret;
    };

    SigningKey() = default;
    // The public and secret halves of the seed already in place.
    void deriveFromSeed();

    LockedSecret<Secrets> _secrets;
    PublicKey _public{};
};

/// Initialises libsodium once per process; throws Poco::RuntimeException if it cannot.
struct Sodium
{
    static void init();
};

} // namespace peerchat
