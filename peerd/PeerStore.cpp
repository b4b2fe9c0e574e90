#include "PeerStore.h"

namespace peerchat {

PeerStore::PeerStore(const std::string& path, std::size_t historyLimit)
    : database(path), lines(database, historyLimit), outbox(database, lines), incoming(database, lines),
      keys(database), contacts(database), settings(database),
      groups(database)
{
}

PeerStore::PeerStore(std::size_t historyLimit) : PeerStore(StoreDatabase::kInMemory, historyLimit)
{
}

} // namespace peerchat
