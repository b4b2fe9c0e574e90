#pragma once

#include "ConversationStore.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

namespace peerchat::test {

/// Gives store's database no room, as a full disk does, and lets the store
/// find out: one change goes into its redo log and the database refuses it.
/// From then on the store refuses every change (DiskFullException) until
/// store.limitPages() gives the database room again; then that change
/// (a line from "zed") reaches the database too.
inline void failWrites(ConversationStore& store)
{
    store.limitPages(1);
    store.addIncoming("zed", "12:00:00", 1, std::string(4000, 'z'), true);
    CPPUNIT_ASSERT_THROW(store.flush(), DiskFullException);
}

} // namespace peerchat::test
