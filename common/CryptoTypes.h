#pragma once

#include <array>
#include <cstdint>

namespace peerchat {

/// An Ed25519 identity public key, or an X25519 key-exchange public key.
using PublicKey = std::array<std::uint8_t, 32>;
/// A BLAKE2b-256 hash (crypto_generichash).
using Hash = std::array<std::uint8_t, 32>;
/// An Ed25519 signature.
using Signature = std::array<std::uint8_t, 64>;
/// The seed an Ed25519 key pair is made from: the secret a key file keeps.
using KeySeed = std::array<std::uint8_t, 32>;
/// The short id of an X25519 key-exchange public key: its first 8 bytes.
/// A sealed datagram names the keys it was sealed between by these.
using KeyId = std::array<std::uint8_t, 8>;
/// A login challenge nonce, issued by indexd (see LoginCookie).
using Nonce = std::array<std::uint8_t, 24>;
/// A random id indexd draws at each start; presence and rosters are signed
/// for one epoch, so a peerd never takes one from an earlier run.
using Epoch = std::array<std::uint8_t, 8>;

} // namespace peerchat
