#pragma once

#include "StoreChange.h"

#include <cstdint>
#include <memory>

struct sqlite3;

namespace peerchat {

/// The SQL of every store::Op, prepared once on a connection (SqlStatement):
/// what StoreDatabase runs to apply a batch of the redo log. Lines and
/// outbox rows go in groups of several per statement; a group waits for
/// finish() or for a statement on its table.
class StoreWrites
{
public:
    explicit StoreWrites(sqlite3* db);
    ~StoreWrites();
    StoreWrites(const StoreWrites&) = delete;
    StoreWrites& operator=(const StoreWrites&) = delete;

    /// Before a batch: nothing of an earlier one that failed waits.
    void start();
    /// Applies op; the op stays alive until finish().
    void apply(const store::Op& op);
    /// After a batch's ops: the rows still waiting go in.
    void finish();
    /// Notes seq as the last redo log record in the database.
    void setApplied(std::uint64_t seq);

private:
    struct Statements;
    std::unique_ptr<Statements> _statements;
};

} // namespace peerchat
