#pragma once

#include "ConversationStore.h"
#include "CryptoTypes.h"
#include "LocalProtocol.h"

#include <map>
#include <optional>
#include <string>

namespace peerchat {

/// The identity keys peerd holds for others: per peer name the key pinned at
/// first sight (or trusted since) and, when indexd presents another one, that
/// offered key until the user trusts it; per index endpoint indexd's own key.
/// State only, over the store's `keys` and `index_keys` tables: every change
/// is committed before the call returns, and the wire never touches SQL.
class KeyPins
{
public:
    /// Reads the pins kept in store, which must outlive this object.
    explicit KeyPins(ConversationStore& store);
    KeyPins(const KeyPins&) = delete;
    KeyPins& operator=(const KeyPins&) = delete;

    /// name presents identity (roster, presence or mail). Nothing pinned yet:
    /// identity is pinned, Pinned. The pinned key: Pinned (a waiting offer is
    /// withdrawn, since the pinned key is back). Another key: it is recorded
    /// as the offer (replacing an earlier one), Changed; the pin stays.
    local::Trust see(const std::string& name, const PublicKey& identity);

    /// Pinned when a key is pinned and no other is offered; Changed while an
    /// offer waits; Unverified when nothing is pinned for name.
    local::Trust trustOf(const std::string& name) const;

    /// The key pinned for name, if any.
    std::optional<PublicKey> pinned(const std::string& name) const;

    /// The different key indexd now presents for name, if any.
    std::optional<PublicKey> offered(const std::string& name) const;

    /// The user accepts the offered key: it becomes the pin and the offer
    /// goes, and in the same step the lines waiting for name move to a new
    /// outgoing stream (ConversationStore::trustKey: the new key is another
    /// installation, which never saw the old stream). False (nothing changes)
    /// when no key is offered for name.
    bool trust(const std::string& name);

    /// indexd's key pinned for indexEndpoint (as Endpoint::toString prints it), if any.
    std::optional<PublicKey> indexPin(const std::string& indexEndpoint) const;

    /// Pins key for indexEndpoint, replacing an earlier pin.
    void pinIndex(const std::string& indexEndpoint, const PublicKey& key);

private:
    ConversationStore& _store;
    std::map<std::string, KeyPin> _peers;
    std::map<std::string, PublicKey> _index;
};

} // namespace peerchat
