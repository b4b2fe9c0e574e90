#pragma once

#include "CryptoTypes.h"
#include "KxKeyPair.h"
#include "Parsed.h"
#include "Protocol.h"
#include "ReplayWindow.h"

#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// The end-to-end channel between two key-exchange keys: two peerds, or a
/// peerd and indexd. Both sides derive the same pair of directional keys
/// from their own pair and the other's public key (crypto_kx; the side
/// whose public key is smaller, bytewise, takes the client role), so no
/// handshake datagram is needed: the public keys travel signed by identity
/// keys (Auth, presence, rosters, Welcome). Each datagram is sealed with
/// XChaCha20-Poly1305 (crypto_aead_xchacha20poly1305_ietf) under the sending
/// direction's key; the nonce is the datagram's counter (little-endian in the
/// first 8 of 24 bytes), which counts from 1 and never repeats for a key;
/// the additional data is "peerchat/2 seal" followed by the sender id, the
/// recipient id and the counter (8 bytes little-endian), so the header
/// cannot be changed. Opening refuses what does not authenticate and, by a
/// ReplayWindow, a counter already taken or too old.
/// Keep one cipher per pair of keys for as long as both keys live: a second
/// one made between the same keys would count from 1 again and reuse nonces
/// (the peer's window refuses those datagrams, but their ciphertexts leak).
class SessionCipher
{
public:
    /// The session between mine and theirs; nullopt when theirs is not a
    /// usable key (crypto_kx refuses it) or equals mine.
    static std::optional<SessionCipher> between(const KxKeyPair& mine, const PublicKey& theirs);

    SessionCipher(const SessionCipher& other) = default;
    SessionCipher& operator=(const SessionCipher& other) = default;
    ~SessionCipher();

    /// The next datagram to the other side carrying plaintext.
    Seal seal(std::string_view plaintext);

    /// The plaintext of a datagram from the other side, or why it was
    /// refused: sealed between other keys, counter replayed or too old, not
    /// authentic.
    Parsed<std::string> open(const Seal& seal);

    const KeyId& localId() const { return _localId; }
    const KeyId& remoteId() const { return _remoteId; }

private:
    SessionCipher() = default;
    std::array<std::uint8_t, 32> _rx{};
    std::array<std::uint8_t, 32> _tx{};
    KeyId _localId{};
    KeyId _remoteId{};
    std::uint64_t _nextCounter = 1;
    ReplayWindow _window;
};

} // namespace peerchat
