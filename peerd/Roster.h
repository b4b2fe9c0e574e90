#pragma once

#include "Endpoint.h"
#include "Protocol.h"
#include "RosterCodec.h"

#include <Poco/Net/IPAddress.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace peerchat {

/// Who is online, as peerd knows it: the last roster snapshot from indexd,
/// kept current by presence broadcasts. The user peerd runs for is never
/// listed. State only: callers turn the changes it returns into events.
class Roster
{
public:
    /// Where a user listens, how to talk to it, and (a peerchat/2 user) its keys.
    struct Peer
    {
        Endpoint endpoint;
        Dialect dialect = Dialect::Seed;
        std::optional<PeerKeys> keys{};

        bool operator==(const Peer& other) const;
    };

    /// A user came online, moved, or went offline.
    struct Change
    {
        std::string name;
        Peer peer;
        bool online = false;
    };

    explicit Roster(std::string self);

    /// Replaces everything with a snapshot from indexd; returns one change per
    /// user that went away, came, or moved (by name).
    std::vector<Change> replace(const std::vector<RosterEntry>& entries);

    /// A login broadcast: name is online at peer; nullopt when nothing changed.
    std::optional<Change> login(const std::string& name, const Peer& peer);

    /// A logout broadcast: name left, if it was online at endpoint; nullopt
    /// when that does not describe a listed user (an old or foreign logout).
    std::optional<Change> logout(const std::string& name, const Endpoint& endpoint);

    /// The online user called name, or nullptr.
    const Peer* find(const std::string& name) const;

    /// The name of the online user registered at endpoint, or nullptr.
    /// Cheap (a map lookup): peerd asks it for every datagram.
    const std::string* nameAt(const Endpoint& endpoint) const;

    /// True when a .NET user is online at host, on any port: that program
    /// sends from throwaway sockets, so only its address is known.
    bool hasDotNetAt(const Poco::Net::IPAddress& host) const { return _dotNetHosts.count(host) > 0; }

    /// Every online user but self, by name.
    const std::map<std::string, Peer>& peers() const { return _peers; }

    const std::string& self() const { return _self; }

    /// The dialect an entry or broadcast names; unknown or absent tokens mean a seed client.
    static Dialect dialectOf(const std::string& token);

private:
    void index(const std::string& name, const Peer& peer);
    void unindex(const std::string& name, const Peer& peer);

    std::string _self;
    std::map<std::string, Peer> _peers;
    std::multimap<Endpoint, std::string> _names;              ///< _peers by endpoint
    std::map<Poco::Net::IPAddress, std::size_t> _dotNetHosts;  ///< how many .NET users are online at each address
};

} // namespace peerchat
