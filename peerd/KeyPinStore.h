#pragma once

#include "CryptoTypes.h"
#include "StoreChange.h"
#include "StoreDatabase.h"

#include <map>
#include <optional>
#include <string>

namespace peerchat {

/// The identity keys held for one peer (see KeyPins).
struct KeyPin
{
    /// What became of the pin since the name was presented without a key (a seed or .NET login).
    enum class Keyless
    {
        None,      ///< not presented without a key since the key was pinned
        Offered,   ///< presented without a key, until the user accepts that (or the key comes back)
        Accepted   ///< the user accepted it: a seed user now; the pin stays to compare a later key with
    };

    PublicKey pinned{};               ///< pinned at first sight, or trusted since
    std::optional<PublicKey> offered; ///< the different key indexd presents, until the user trusts it
    Keyless keyless = Keyless::None;
};

/// The identity keys pinned for peers and for indexd, as stored (KeyPins
/// reads them once and keeps them). State only, in StoreDatabase.
class KeyPinStore
{
public:
    explicit KeyPinStore(StoreDatabase& database);

    /// Every peer's pinned (and offered) identity key, by name, as stored.
    /// Throws Poco::IOException for a person when one is damaged.
    std::map<std::string, KeyPin> keyPins() const;

    /// Stores keys as name's, replacing what was stored.
    void saveKeyPin(const std::string& name, const KeyPin& keys);

    /// The change that stores keys as name's, for one that goes with another store's (OutboxStore::newStream).
    static store::PutKeyPin pinChange(const std::string& name, const KeyPin& keys);

    /// indexd's pinned key per index endpoint, as stored. Throws
    /// Poco::IOException for a person when one is damaged.
    std::map<std::string, PublicKey> indexKeys() const;

    /// Stores key as the pin for indexEndpoint, replacing what was stored.
    void saveIndexKey(const std::string& indexEndpoint, const PublicKey& key);

private:
    /// The error for a damaged pin, why (Poco::DataFormatException's message), for a person.
    Poco::IOException damaged(const std::string& why) const;

    StoreDatabase& _database;
};

} // namespace peerchat
