#pragma once

#include <Poco/Types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace peerchat::storeschema {

/// migrations()[v] moves peerd's database from schema version v to v + 1
/// (StoreDatabase). A step that has shipped never changes; a new schema is a
/// new step at the end.
const std::vector<std::vector<std::string>>& migrations();

/// The columns of a line as store::PutLine writes them, but the conversation and the send key.
extern const std::string kLineColumns;

/// The delivered mark of the line table's row's peer, in SQL.
extern const std::string kMarkOfLine;

/// In SQL, whether a row of the line table is a queued line: outgoing, in a
/// queued state (pending, stored or failed), with an id past mark (an SQL
/// expression of the mark).
std::string queuedLine(const std::string& mark);

/// The columns a line is read with, in kLineColumns' order: a queued line
/// the delivered mark has passed reads as delivered.
const std::string& lineSelect();

/// SQLite keeps integers signed; every count and id here stays below 2^63.
inline Poco::Int64 toColumn(std::uint64_t value)
{
    return static_cast<Poco::Int64>(value);
}

inline std::uint64_t fromColumn(Poco::Int64 value)
{
    return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}

/// A new id for an outgoing stream: 60 random bits as 15 hex digits (the
/// wire takes up to 16). A string of at most 15 characters is kept inside
/// std::string itself, and a queued line's stream is copied with it several
/// times on its way, where 16 digits cost a heap allocation each time.
std::string randomStreamId();

} // namespace peerchat::storeschema
