#pragma once

#include "CryptoTypes.h"
#include "Parsed.h"
#include "SigningKey.h"

#include <string>
#include <string_view>

namespace peerchat {

/// A message sealed to a recipient's long-term identity for indexd to keep
/// while the recipient is offline: crypto_box_easy (X25519 + XSalsa20-Poly1305)
/// between the X25519 forms of the sender's and recipient's Ed25519 keys, so
/// only the recipient can open it and it can only have come from the sender.
/// Bytes: a random 24-byte nonce, then the ciphertext. No forward secrecy:
/// whoever later steals the recipient's key file can read boxes captured
/// before (docs/SECURITY.md).
class OfflineBox
{
public:
    /// Largest plaintext accepted.
    static constexpr std::size_t kMaxPlaintextBytes = 8192;

    static std::string seal(const SigningKey& sender, const PublicKey& recipient, std::string_view plaintext);

    /// The plaintext, or why the box was refused (short, not from sender, not for recipient).
    static Parsed<std::string> open(const SigningKey& recipient, const PublicKey& sender, std::string_view box);
};

} // namespace peerchat
