#pragma once

#include "Endpoint.h"
#include "Protocol.h"
#include "RosterCodec.h"

#include <Poco/Net/IPAddress.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace peerchat {

/// One user indexd holds online.
struct OnlineUser
{
    std::string name;
    Endpoint endpoint;                 ///< the registered endpoint: where presence and talk go
    Dialect dialect = Dialect::Seed;
    Poco::Net::IPAddress loginSource;  ///< address the login datagram came from (.NET logout rule)
};

/// What a login did to the directory.
struct LoginOutcome
{
    enum class Kind
    {
        Registered,   ///< the name is now online
        AlreadyHere,  ///< the name was already online at this endpoint; nothing to announce
        Taken         ///< the name is online at another endpoint; nothing changed
    };
    Kind kind = Kind::Registered;
    /// The user that held the endpoint under another name and was logged out for it.
    std::optional<OnlineUser> displaced;
};

/// What a logout did to the directory.
struct LogoutOutcome
{
    enum class Kind
    {
        LoggedOut,   ///< removed; `user` is who left
        NotOnline,   ///< no such name online
        WrongSource  ///< the logout did not come from where the name is registered
    };
    Kind kind = Kind::NotOnline;
    std::optional<OnlineUser> user;
};

/// indexd's state: who is online, where, and in which dialect. Knows nothing of
/// sockets; handlers turn its outcomes into datagrams. Lookups by name and by
/// endpoint are hash lookups, so a login costs the same with 100,000 users
/// online as with one.
class Directory
{
public:
    using Users = std::unordered_map<std::string, OnlineUser>;

    /// Puts name online at endpoint, under the rules of docs/PROTOCOL.md: a name
    /// online elsewhere is Taken; another name at the same endpoint is displaced.
    /// On AlreadyHere the dialect and login source are refreshed.
    LoginOutcome login(const std::string& name, const Endpoint& endpoint, Dialect dialect,
                       const Poco::Net::IPAddress& loginSource);

    /// Takes name offline when the logout comes from where it is registered:
    /// for a .NET user, source's address must be its login source and
    /// writtenEndpoint its registered endpoint; for any other user, source must
    /// be its registered endpoint.
    LogoutOutcome logout(const std::string& name, const Endpoint& writtenEndpoint, const Endpoint& source);

    /// The user online under name, or nullptr.
    const OnlineUser* find(const std::string& name) const;

    /// Every online user, for fan-out.
    const Users& users() const { return _byName; }
    std::size_t size() const { return _byName.size(); }

    /// Every online user as the roster lists them (dialect tokens filled in).
    std::vector<RosterEntry> snapshot() const;

    /// Grows by one with every change, so readers can cache what they derive.
    std::uint64_t version() const { return _version; }

private:
    OnlineUser remove(Users::iterator it);

    Users _byName;
    std::unordered_map<Endpoint, std::string> _nameAt;
    std::uint64_t _version = 0;
};

} // namespace peerchat
