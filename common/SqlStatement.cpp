#include "SqlStatement.h"

#include <Poco/Data/SQLite/Utility.h>

#include <sqlite3.h>

namespace peerchat {

SqlStatement::SqlStatement(sqlite3* db, const std::string& sql) : _db(db)
{
    const int rc = sqlite3_prepare_v3(_db, sql.c_str(), static_cast<int>(sql.size() + 1), SQLITE_PREPARE_PERSISTENT,
                                      &_statement, nullptr);
    if (rc != SQLITE_OK) Poco::Data::SQLite::Utility::throwException(_db, rc, sql);
}

SqlStatement::~SqlStatement()
{
    sqlite3_finalize(_statement);
}

void SqlStatement::reset()
{
    sqlite3_reset(_statement);
    sqlite3_clear_bindings(_statement);
    _next = 1;
}

void SqlStatement::check(int rc)
{
    if (rc == SQLITE_OK) return;
    reset();
    Poco::Data::SQLite::Utility::throwException(_db, rc);
}

SqlStatement& SqlStatement::bind(std::string_view text)
{
    // SQLITE_STATIC: the caller keeps text alive until run(), which unbinds it.
    check(sqlite3_bind_text(_statement, _next++, text.data(), static_cast<int>(text.size()), SQLITE_STATIC));
    return *this;
}

SqlStatement& SqlStatement::bind(const std::optional<std::string_view>& text)
{
    if (text) return bind(*text);
    check(sqlite3_bind_null(_statement, _next++));
    return *this;
}

SqlStatement& SqlStatement::bindBlob(const std::uint8_t* bytes, std::size_t size)
{
    check(sqlite3_bind_blob(_statement, _next++, bytes, static_cast<int>(size), SQLITE_STATIC));
    return *this;
}

SqlStatement& SqlStatement::bind(std::int64_t value)
{
    check(sqlite3_bind_int64(_statement, _next++, value));
    return *this;
}

int SqlStatement::run()
{
    const int rc = sqlite3_step(_statement);
    const int changed = sqlite3_changes(_db);
    check(rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc);
    reset();
    return changed;
}

std::optional<std::string> SqlStatement::firstBlob()
{
    const int rc = sqlite3_step(_statement);
    check(rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc);
    std::optional<std::string> value;
    if (rc == SQLITE_ROW) {
        const auto* bytes = static_cast<const char*>(sqlite3_column_blob(_statement, 0));
        value.emplace(bytes ? bytes : "", static_cast<std::size_t>(sqlite3_column_bytes(_statement, 0)));
    }
    reset();
    return value;
}

} // namespace peerchat
