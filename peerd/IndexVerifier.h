#pragma once

#include "CryptoTypes.h"
#include "Protocol.h"
#include "RosterCodec.h"

#include <optional>
#include <string>

namespace peerchat {

/// What indexd signs, checked against its identity key for the epoch of the
/// current login (both from the welcome): presence announcements and rosters
/// (SignedStatement), and in each of their entries the user's own signature
/// binding its key-exchange key to it and to this indexd run. A statement
/// from an earlier indexd run, or signed by another key, does not pass. State only.
class IndexVerifier
{
public:
    /// From now on, statements must be signed by indexIdentity for epoch.
    void reset(const PublicKey& indexIdentity, const Epoch& epoch);

    /// Forgets the key and epoch: nothing passes until the next reset().
    void clear() { _ready = false; }

    /// True after reset(), until clear().
    bool ready() const { return _ready; }

    /// Why announcement (a Login or Logout) is refused; empty when it carries
    /// indexd's valid signature for the epoch and its keys pass checkKeys().
    std::string checkPresence(const Message& announcement) const;

    /// Why a roster is refused; empty when its trailer carries indexd's valid
    /// signature for the epoch and nonce, the one the fetch that read it sent.
    /// Its entries are checked one by one with checkKeys().
    std::string checkRoster(const RosterTrailer& trailer, const RosterNonce& nonce) const;

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
