#include "KxKeyPair.h"

#include "SigningKey.h"

#include <sodium.h>

#include <algorithm>

namespace peerchat {

KxKeyPair KxKeyPair::generate()
{
    Sodium::init();
    KxKeyPair pair;
    crypto_kx_keypair(pair._public.data(), pair._secret->data());
    return pair;
}

KeyId KxKeyPair::idOf(const PublicKey& key)
{
    KeyId id;
    std::copy_n(key.begin(), id.size(), id.begin());
    return id;
}

} // namespace peerchat
