#pragma once

#include "CryptoTypes.h"

#include <string>

namespace peerchat {

/// What a person compares out of band to check a key: the first 16 bytes of
/// BLAKE2b-256 (crypto_generichash) of the public key as 8 groups of 4 lower
/// hex digits, "3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3".
class Fingerprint
{
public:
    static std::string of(const PublicKey& key);
};

} // namespace peerchat
