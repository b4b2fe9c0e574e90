#pragma once

#include "CryptoTypes.h"
#include "KxKeyPair.h"
#include "SigningKey.h"

#include <string_view>

namespace peerchat {

/// Who this indexd run is: its long-term identity key (the key file's), the
/// key-exchange pair its sessions with peerds are made from, and the epoch
/// its presence and rosters are signed for. The last two are drawn at each
/// start, so nothing signed or sealed by an earlier run passes for this one.
class IndexIdentity
{
public:
    /// The identity of a run with key: a fresh key-exchange pair and epoch.
    explicit IndexIdentity(SigningKey key);

    const SigningKey& key() const { return _key; }
    const PublicKey& publicKey() const { return _key.publicKey(); }
    const KxKeyPair& kx() const { return _kx; }
    const Epoch& epoch() const { return _epoch; }

    /// indexd's signature over statement (a SignedStatement).
    Signature sign(std::string_view statement) const { return _key.sign(statement); }

private:
    SigningKey _key;
    KxKeyPair _kx;
    Epoch _epoch{};
};

} // namespace peerchat
