#pragma once

#include "KeyPinStore.h"
#include "OutboxStore.h"
#include "CryptoTypes.h"
#include "LocalProtocol.h"

#include <map>
#include <optional>
#include <string>

namespace peerchat {

/// The identity keys peerd holds for others: per peer name the key pinned at
/// first sight (or trusted since) and, when indexd presents another one, that
/// offered key until the user trusts it; per index endpoint indexd's own key.
/// A pinned name that comes without a key (a seed or .NET login) counts as
/// changed too, until the user accepts it: then it is a seed user, and its
/// pin stays to compare a later key with (the pinned key back is pinned
/// again, another is a change again; neither is pinned afresh).
/// State only, over the store's `keys` and `index_keys` tables: every change
/// is committed before the call returns, and the wire never touches SQL.
class KeyPins
{
public:
    /// Reads the pins kept in store, which must outlive this object, as
    /// must outbox (trusting a new key gives its peer a new stream).
    KeyPins(KeyPinStore& store, OutboxStore& outbox);
    KeyPins(const KeyPins&) = delete;
    KeyPins& operator=(const KeyPins&) = delete;

    /// name presents identity (presence, whois or mail). Nothing pinned yet:
    /// identity is pinned, Pinned. The pinned key: Pinned (a waiting offer is
    /// withdrawn, since the pinned key is back, and a name accepted without a
    /// key is no longer a seed user). Another key: it is recorded as the
    /// offer (replacing an earlier one), Changed; the pin stays.
    local::Trust see(const std::string& name, const PublicKey& identity);

    /// name comes without a key (a seed or .NET login). Nothing pinned, or
    /// accepted without a key already: Unverified, nothing changes.
    /// Otherwise that is recorded as the offer (replacing an earlier one), Changed.
    local::Trust seeKeyless(const std::string& name);

    /// Pinned when a key is pinned and no other is offered; Changed while an
    /// offer (a key, or none) waits; Unverified when nothing is pinned for
    /// name, or the user accepted it without a key.
    local::Trust trustOf(const std::string& name) const;

    /// The key pinned for name, if any (also when accepted without a key).
    std::optional<PublicKey> pinned(const std::string& name) const;

    /// The different key indexd now presents for name, if any.
    std::optional<PublicKey> offered(const std::string& name) const;

    /// True while name comes without a key and the user has not accepted that.
    bool keylessOffered(const std::string& name) const;

    /// The user accepts what is offered for name: a key becomes the pin, no
    /// key makes name a seed user; the offer goes, and in the same step the
    /// lines waiting for name move to a new outgoing stream
    /// (OutboxStore::newStream: the new key is another installation,
    /// which never saw the old stream). False (nothing changes) when nothing
    /// is offered for name.
    bool trust(const std::string& name);

    /// indexd's key pinned for indexEndpoint (as Endpoint::toString prints it), if any.
    std::optional<PublicKey> indexPin(const std::string& indexEndpoint) const;

    /// Pins key for indexEndpoint, replacing an earlier pin.
    void pinIndex(const std::string& indexEndpoint, const PublicKey& key);

private:
    void save(const std::string& name, const KeyPin& keys);

    KeyPinStore& _store;
    OutboxStore& _outbox;
    std::map<std::string, KeyPin> _peers;
    std::map<std::string, PublicKey> _index;
};

} // namespace peerchat
