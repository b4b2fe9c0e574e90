#pragma once

#include "CryptoTypes.h"
#include "KxKeyPair.h"
#include "LockedSecret.h"
#include "Parsed.h"
#include "Protocol.h"
#include "ReplayWindow.h"
#include "SigningKey.h"

#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// The end-to-end channel between two parties, each known by its long-term
/// identity key (Ed25519) and the key-exchange key of its login (X25519):
/// two peerds, or a peerd and indexd. Both sides derive the same pair of
/// directional keys with no handshake datagram, since the public keys travel
/// signed (Auth, Welcome, presence, rosters): the pattern is Noise KK with
/// the ephemerals handed out by indexd. The side whose key-exchange key is
/// smaller, bytewise, is the client c, the other the server s; with e the
/// key-exchange keys and s the identity keys (converted to X25519),
///   k = BLAKE2b-512("peerchat/3 session" || DH(e_c, e_s) || DH(e_c, s_s) ||
///       DH(s_c, e_s) || IDPK_c || IDPK_s || KXPK_c || KXPK_s),
/// its first 32 bytes keying c->s, the last 32 s->c. Only the holders of
/// both secrets of a side can compute it, and two sessions between other
/// identities never share keys, whoever announces whose key-exchange key.
/// Each datagram is sealed with XChaCha20-Poly1305
/// (crypto_aead_xchacha20poly1305_ietf) under the sending direction's key;
/// the nonce is the datagram's counter (little-endian in the first 8 of 24
/// bytes), which counts from 1 and never repeats for a key; the additional
/// data is "peerchat/3 seal" followed by the sender id, the recipient id and
/// the counter (8 bytes little-endian), so the header cannot be changed.
/// Opening refuses what does not authenticate and, by a ReplayWindow, a
/// counter already taken or too old.
/// Keep one cipher per pair of keys for as long as both keys live: a second
/// one made between the same keys would count from 1 again and reuse nonces
/// (the peer's window refuses those datagrams, but their ciphertexts leak).
/// So a cipher cannot be copied, only moved; its keys live in locked memory
/// (LockedSecret), out of swap and core dumps, wiped when it goes.
class SessionCipher
{
public:
    /// The session between mine (this login's key-exchange pair) with
    /// myIdentity and the party of theirIdentity with theirKx; nullopt when
    /// theirKx equals mine or any of the three Diffie-Hellman results is
    /// refused (a key that is no usable point, or of low order).
    static std::optional<SessionCipher> between(const KxKeyPair& mine, const SigningKey& myIdentity,
                                                const PublicKey& theirIdentity, const PublicKey& theirKx);

    SessionCipher(SessionCipher&& other) noexcept = default;
    SessionCipher& operator=(SessionCipher&& other) noexcept = default;
    SessionCipher(const SessionCipher&) = delete;
    SessionCipher& operator=(const SessionCipher&) = delete;
    ~SessionCipher() = default;

    /// The next datagram to the other side carrying plaintext.
    Seal seal(std::string_view plaintext);

    /// The plaintext of a datagram from the other side, or why it was
    /// refused: sealed between other keys, counter replayed or too old, not
    /// authentic.
    Parsed<std::string> open(const Seal& seal);

    /// True when seal was sealed between this session's keys (SKID the other
    /// side's, RKID ours): the only seals open() may take.
    bool carries(const Seal& seal) const { return seal.sender == _remoteId && seal.recipient == _localId; }

    const KeyId& localId() const { return _localId; }
    const KeyId& remoteId() const { return _remoteId; }

private:
    /// Both directions' keys, in one holder of locked memory.
    struct Keys
    {
        std::array<std::uint8_t, 32> rx;
        std::array<std::uint8_t, 32> tx;
    };

    SessionCipher() = default;
    LockedSecret<Keys> _keys;
    KeyId _localId{};
    KeyId _remoteId{};
    std::uint64_t _nextCounter = 1;
    ReplayWindow _window;
};

} // namespace peerchat
