#pragma once

#include "CryptoTypes.h"
#include "Protocol.h"

#include <optional>
#include <string>

namespace peerchat {

/// Checks the keys indexd presents for a user (in here and snapshots)
/// against indexd's identity key and the epoch of the current login (both
/// from the welcome): the user's own signature must bind its key-exchange
/// key to its name and to this indexd run, so not even indexd can swap it,
/// nor replay one from an earlier run. State only.
class IndexVerifier
{
public:
    /// From now on, keys must be bound to indexIdentity and epoch.
    void reset(const PublicKey& indexIdentity, const Epoch& epoch);

    /// Forgets the key and epoch: nothing passes until the next reset().
    void clear() { _ready = false; }

    /// True after reset(), until clear().
    bool ready() const { return _ready; }

    /// Why a user's keys are refused; empty when a peerchat/3 user has keys
    /// whose KXSIG its IDPK made for its name, its KXPK and this indexd run
    /// (the pinned index key and the epoch of the welcome), or a user of
    /// another dialect has none.
    std::string checkKeys(const std::string& name, const std::string& dialect,
                          const std::optional<PeerKeys>& keys) const;

private:
    PublicKey _indexIdentity{};
    Epoch _epoch{};
    bool _ready = false;
};

} // namespace peerchat
