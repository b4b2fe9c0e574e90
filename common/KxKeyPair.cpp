#include "KxKeyPair.h"

#include "SigningKey.h"

#include <sodium.h>

#include <algorithm>

namespace peerchat {

KxKeyPair KxKeyPair::generate()
{
    Sodium::init();
    KxKeyPair pair;
    crypto_kx_keypair(pair._public.data(), pair._secret.data());
    return pair;
}

KxKeyPair::KxKeyPair(KxKeyPair&& other) noexcept : _public(other._public), _secret(other._secret)
{
    sodium_memzero(other._secret.data(), other._secret.size());
}

KxKeyPair& KxKeyPair::operator=(KxKeyPair&& other) noexcept
{
    if (this != &other) {
        _public = other._public;
        _secret = other._secret;
        sodium_memzero(other._secret.data(), other._secret.size());
    }
    return *this;
}

KxKeyPair::~KxKeyPair()
{
    sodium_memzero(_secret.data(), _secret.size());
}

KeyId KxKeyPair::idOf(const PublicKey& key)
{
    KeyId id;
    std::copy_n(key.begin(), id.size(), id.begin());
    return id;
}

} // namespace peerchat
