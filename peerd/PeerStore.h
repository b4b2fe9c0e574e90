#pragma once

#include "ContactStore.h"
#include "GroupStore.h"
#include "IncomingStreams.h"
#include "KeyPinStore.h"
#include "LineStore.h"
#include "OutboxStore.h"
#include "SettingStore.h"
#include "StoreDatabase.h"

#include <cstddef>
#include <string>

namespace peerchat {

/// Everything peerd keeps of this identity: its database and the stores
/// over it, built in the order they depend on each other (each reads what
/// it caches as it is built, after the database has taken what its redo log
/// held). State only; the programs hand each part only the stores it uses.
struct PeerStore
{
    /// Opens the database at path (see StoreDatabase) with at most
    /// historyLimit lines kept per conversation (see LineStore). Throws
    /// Poco::IOException with a message for a person when it cannot.
    PeerStore(const std::string& path, std::size_t historyLimit);
    /// A store in memory only, for tests.
    explicit PeerStore(std::size_t historyLimit);

    StoreDatabase database;
    LineStore lines;
    OutboxStore outbox;
    IncomingStreams incoming;
    KeyPinStore keys;
    ContactStore contacts;
    SettingStore settings;
    GroupStore groups;
};

} // namespace peerchat
