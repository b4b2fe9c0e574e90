#pragma once

#include "CryptoTypes.h"
#include "Parsed.h"
#include "SigningKey.h"

#include <string>
#include <string_view>

namespace peerchat {

/// A message sealed to a recipient's long-term identity for indexd to keep
/// while the recipient is offline. Bytes: EPK (a fresh X25519 key per box),
/// then XChaCha20-Poly1305 (zero nonce: the key is new per box) under
/// K = BLAKE2b-256("peerchat/3 mail" || DH(esk, recipient) || EPK ||
/// IDPK_sender || IDPK_recipient), with the additional data "peerchat/3 mail"
/// || IDPK_sender || IDPK_recipient, of SIG || MSG, SIG being the sender's
/// Ed25519 signature over SignedStatement::mail(IDPK_recipient, EPK, MSG).
/// So only the recipient can open it (DH with the recipient's key); whoever
/// holds the sender's key cannot open what it sent (the ephemeral secret is
/// gone); whoever holds the recipient's key cannot make one that opens as
/// from someone else (the signature); a box reflected to its sender does not
/// open (K and the additional data name sender and recipient in order). No
/// forward secrecy for the recipient: whoever later steals the recipient's
/// key file can read boxes captured before (docs/SECURITY.md).
class OfflineBox
{
public:
    /// Largest plaintext accepted.
    static constexpr std::size_t kMaxPlaintextBytes = 8192;
    /// What a box adds to its plaintext: EPK, the tag, SIG.
    static constexpr std::size_t kOverheadBytes = 32 + 16 + 64;

    /// Throws Poco::InvalidArgumentException when plaintext is longer than
    /// kMaxPlaintextBytes or recipient is not a usable public key.
    static std::string seal(const SigningKey& sender, const PublicKey& recipient, std::string_view plaintext);

    /// The plaintext, or why the box was refused (too short or long, not for
    /// this recipient from this sender, not signed by the sender).
    static Parsed<std::string> open(const SigningKey& recipient, const PublicKey& sender, std::string_view box);
};

} // namespace peerchat
