#pragma once

#include "CryptoTypes.h"
#include "LockedSecret.h"

namespace peerchat {

/// An ephemeral X25519 key-exchange pair (crypto_kx_keypair). peerd makes a
/// new one at each login and indexd one at each start; session keys come
/// from it (SessionCipher), so they die with the login. The secret half
/// lives in locked memory (LockedSecret), wiped when the object goes; it
/// cannot be copied, and a moved-from pair holds no secret.
class KxKeyPair
{
public:
    static KxKeyPair generate();

    KxKeyPair(KxKeyPair&& other) noexcept = default;
    KxKeyPair& operator=(KxKeyPair&& other) noexcept = default;
    KxKeyPair(const KxKeyPair&) = delete;
    KxKeyPair& operator=(const KxKeyPair&) = delete;
    ~KxKeyPair() = default;

    const PublicKey& publicKey() const { return _public; }
    KeyId id() const { return idOf(_public); }
    /// Throws Poco::NullPointerException on a moved-from pair.
    const std::array<std::uint8_t, 32>& secretKey() const { return *_secret; }

    /// The key id of a key-exchange public key: its first 8 bytes.
    static KeyId idOf(const PublicKey& key);

private:
    KxKeyPair() = default;
    PublicKey _public{};
    LockedSecret<std::array<std::uint8_t, 32>> _secret;
};

} // namespace peerchat
