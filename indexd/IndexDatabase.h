#pragma once

#include <Poco/Data/Session.h>

#include <cstddef>
#include <string>

namespace peerchat {

/// indexd's SQLite file: the offline mailbox (Mailbox) and the identity key
/// each name belongs to (KeyRegistry), under one schema version kept in
/// `PRAGMA user_version`. Opening it creates the schema or brings an older
/// one up to date.
class IndexDatabase
{
public:
    /// The schema this code reads and writes. 1: mail in plaintext
    /// (peerchat/1); 2: mail as OfflineBox ciphertext, and the names' keys;
    /// 3: each letter's time of storing, indexed, so old mail expires.
    static constexpr int kSchemaVersion = 3;

    /// Opens the database at path (":memory:" for one that lives only as
    /// long as the object), creating or migrating its schema. Throws
    /// Poco::IOException, its message naming the path and the reason, when
    /// the file cannot be opened, is not a database, or was written by a
    /// newer indexd.
    explicit IndexDatabase(const std::string& path);

    Poco::Data::Session& session() { return _session; }

    /// How many plaintext offline lines of an older indexd the upgrade to
    /// schema 2 dropped when this opened the file (0 when there was none).
    std::size_t droppedPlaintextLines() const { return _droppedPlaintextLines; }

private:
    void migrate();

    Poco::Data::Session _session;
    std::size_t _droppedPlaintextLines = 0;
};

} // namespace peerchat
