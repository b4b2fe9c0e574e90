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
    KeySeed seed;
    randombytes_buf(seed.data(), seed.size());
    SigningKey key = fromSeed(seed);
    sodium_memzero(seed.data(), seed.size());
    return key;
}

SigningKey SigningKey::fromSeed(const KeySeed& seed)
{
    Sodium::init();
    SigningKey key;
    key._seed = seed;
    crypto_sign_seed_keypair(key._public.data(), key._secret.data(), key._seed.data());
    return key;
}

SigningKey::SigningKey(const SigningKey& other)
    : _seed(other._seed), _public(other._public), _secret(other._secret)
{
}

SigningKey& SigningKey::operator=(const SigningKey& other)
{
    _seed = other._seed;
    _public = other._public;
    _secret = other._secret;
    return *this;
}

SigningKey::~SigningKey()
{
    sodium_memzero(_seed.data(), _seed.size());
    sodium_memzero(_secret.data(), _secret.size());
}

Signature SigningKey::sign(std::string_view message) const
{
    Signature signature;
    crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), _secret.data());
    return signature;
}

bool SigningKey::verify(const PublicKey& key, std::string_view message, const Signature& signature)
{
    Sodium::init();
    return crypto_sign_verify_detached(signature.data(), reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(), key.data())
        == 0;
}

std::array<std::uint8_t, 32> SigningKey::curveSecret() const
{
    std::array<std::uint8_t, 32> secret;
    crypto_sign_ed25519_sk_to_curve25519(secret.data(), _secret.data());
    return secret;
}

bool SigningKey::curvePublic(const PublicKey& key, PublicKey& out)
{
    Sodium::init();
    return crypto_sign_ed25519_pk_to_curve25519(out.data(), key.data()) == 0;
}

} // namespace peerchat
