#pragma once

#include "PeerStore.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

namespace peerchat::test {

/// A text longer than the free pages a database may hold (a migration frees
/// the pages of a table it replaces): storing it needs pages the file does not have.
inline const std::string kMoreThanFreePages(64 * 1024, 'x');

/// Gives store's database no room, as a full disk does, and lets the store
/// find out: one change goes into its redo log and the database refuses it.
/// From then on the store refuses every change (DiskFullException) until
/// store.database.limitPages() gives the database room again; then that change
/// (a line from "zed") reaches the database too.
inline void failWrites(PeerStore& store)
{
    store.database.limitPages(1);
    store.lines.addIncoming("zed", "12:00:00", 1, kMoreThanFreePages, true);
    CPPUNIT_ASSERT_THROW(store.database.flush(), DiskFullException);
}

} // namespace peerchat::test
