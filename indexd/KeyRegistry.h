#pragma once

#include "CryptoTypes.h"
#include "IndexDatabase.h"
#include "SqlStatement.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace peerchat {

/// Which identity key each name belongs to: the first key that logs in under
/// a name owns it from then on (trust on first use), kept in indexd's SQLite
/// file. Also, in memory, the stamp of the last login nonce accepted for each
/// name, so a captured auth cannot be played again. A state class: knows
/// nothing of sockets or clocks. Database errors surface as Poco exceptions.
/// Both statements are prepared once: every login runs them.
class KeyRegistry
{
public:
    /// A registry in database (which must outlive it).
    explicit KeyRegistry(IndexDatabase& database);

    /// The identity key name belongs to, or nullopt when it belongs to none yet.
    std::optional<PublicKey> identityOf(const std::string& name);

    /// Gives name to identity when name belongs to no key yet; true when name
    /// now belongs to identity (also when it did already), false when it
    /// belongs to another key, which keeps it.
    bool bind(const std::string& name, const PublicKey& identity);

    /// True when stamp is newer than every stamp accepted for name.
    bool isFresh(const std::string& name, std::uint64_t stamp) const;

    /// Remembers stamp as the latest accepted for name.
    void acceptStamp(const std::string& name, std::uint64_t stamp);

    /// Forgets the stamps older than cutoff: once a nonce that old is expired
    /// anyway, remembering them protects nothing. Costs the stamps it looks
    /// at, taken in the order they were accepted, not every stamp held: one
    /// accepted after a newer one (a slow auth) waits until that one goes.
    void forgetStampsBefore(std::uint64_t cutoff);

    /// Names with a stamp remembered.
    std::size_t stampsHeld() const { return _stamps.size(); }

private:
    SqlStatement _select;
    SqlStatement _insert;
    std::unordered_map<std::string, std::uint64_t> _stamps;
    std::deque<std::pair<std::uint64_t, std::string>> _accepted; ///< (stamp, name), as accepted
};

} // namespace peerchat
