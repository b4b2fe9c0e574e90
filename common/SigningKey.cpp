#include "SigningKey.h"

#include <Poco/Exception.h>

#include <sodium.h>

#include <mutex>

namespace peerchat {

void Sodium::init()
{
    static std::once_flag once;
    static bool ready = false;
    std::call_once(once, [] { ready = sodium_init() >= 0; });
    if (!ready) throw Poco::RuntimeException("libsodium could not be initialised (sodium_init failed)");
}

SigningKey SigningKey::generate()
{
    Sodium::init();
    SigningKey key;
    // The seed is drawn straight into locked memory: no copy of it elsewhere.
    randombytes_buf(key._secrets->seed.data(), key._secrets->seed.size());
    key.deriveFromSeed();
    return key;
}

SigningKey SigningKey::fromSeed(const KeySeed& seed)
{
    Sodium::init();
    SigningKey key;
    key._secrets->seed = seed;
    key.deriveFromSeed();
    return key;
}

void SigningKey::deriveFromSeed()
{
    crypto_sign_seed_keypair(_public.data(), _secrets->secret.data(), _secrets->seed.data());
}

SigningKey::SigningKey(const SigningKey& other) : _secrets(other._secrets.clone()), _public(other._public)
{
}

SigningKey& SigningKey::operator=(const SigningKey& other)
{
    if (this != &other) {
        _secrets = other._secrets.clone();
        _public = other._public;
    }
    return *this;
}

Signature SigningKey::sign(std::string_view message) const
{
    Signature signature;
    crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), _secrets->secret.data());
    return signature;
}

bool SigningKey::verify(const PublicKey& key, std::string_view message, const Signature& signature)
{
    Sodium::init();
    return crypto_sign_verify_detached(signature.data(), reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(), key.data())
        == 0;
}

LockedSecret<std::array<std::uint8_t, 32>> SigningKey::curveSecret() const
{
    LockedSecret<std::array<std::uint8_t, 32>> secret;
    crypto_sign_ed25519_sk_to_curve25519(secret->data(), _secrets->secret.data());
    return secret;
}

bool SigningKey::curvePublic(const PublicKey& key, PublicKey& out)
{
    Sodium::init();
    return crypto_sign_ed25519_pk_to_curve25519(out.data(), key.data()) == 0;
}

} // namespace peerchat
