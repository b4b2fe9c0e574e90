#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace peerchat {

/// One SQL statement prepared once and run many times, for the writes on
/// the store's hot path: Poco::Data parses a statement again at each
/// execution and binds through several layers, which cost a chat line more
/// than the write itself (docs/PERFORMANCE.md). Values are bound in order
/// and must live until run(), which executes the statement, resets it and
/// throws Poco::Data::SQLite's exception for SQLite's error when it fails.
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

    /// Runs the statement with what was bound; returns the number of rows it changed.
    int run();

private:
    void check(int rc);

    sqlite3* _db;
    sqlite3_stmt* _statement = nullptr;
    int _next = 1;  ///< the parameter the next bind() sets
};

} // namespace peerchat
