#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace peerchat {

/// One SQL statement prepared once and run many times, for the statements
/// on hot paths (peerd's store writes, indexd's key look-up at each login):
/// Poco::Data parses a statement again at each execution and binds through
/// several layers, which cost a chat line more than the write itself
/// (docs/PERFORMANCE.md). Values are bound in order and must live until
/// run() or firstBlob(), which execute the statement, reset it and throw
/// Poco::Data::SQLite's exception for SQLite's error when it fails.
class SqlStatement
{
public:
    SqlStatement(sqlite3* db, const std::string& sql);
    ~SqlStatement();
    SqlStatement(const SqlStatement&) = delete;
    SqlStatement& operator=(const SqlStatement&) = delete;

    SqlStatement& bind(std::string_view text);
    SqlStatement& bind(const std::string& text) { return bind(std::string_view(text)); }
    /// NULL when text is nullopt.
    SqlStatement& bind(const std::optional<std::string_view>& text);
    SqlStatement& bind(std::int64_t value);
    /// Kept as a signed integer; every count and id here stays below 2^63.
    SqlStatement& bind(std::uint64_t value) { return bind(static_cast<std::int64_t>(value)); }
    SqlStatement& bind(bool value) { return bind(std::int64_t{value ? 1 : 0}); }
    /// Bytes, bound as a BLOB.
    SqlStatement& bindBlob(const std::uint8_t* bytes, std::size_t size);

    /// Runs the statement with what was bound; returns the number of rows it changed.
    int run();
    /// Runs the query with what was bound; returns the first column of its
    /// first row as bytes, nullopt when it has no row.
    std::optional<std::string> firstBlob();

private:
    void check(int rc);
    /// Makes the statement ready for the next binds.
    void reset();

    sqlite3* _db;
    sqlite3_stmt* _statement = nullptr;
    int _next = 1;  ///< the parameter the next bind() sets
};

} // namespace peerchat
