#pragma once

#include "Endpoint.h"
#include "Protocol.h"

#include <Poco/Net/IPAddress.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace peerchat {

/// Who is online, as peerd knows it: the users indexd shows this user (its
/// mutual contacts, and in legacy mode seed and .NET users), from the last
/// snapshot, kept current by here and gone. The user peerd runs for is
/// never listed. State only: callers turn the changes it returns into events.
class Roster
{
public:
    /// Where a user listens, how to talk to it, (a peerchat/3 user) its keys,
    /// and how it is to be shown: its state and status message.
    struct Peer
    {
        Endpoint endpoint;
        Dialect dialect = Dialect::Seed;
        std::optional<PeerKeys> keys{};
        PresenceState state = PresenceState::Online;
        std::string status{};

        bool operator==(const Peer& other) const;
        /// True when other is reached the same way: endpoint, dialect and keys.
        bool sameReach(const Peer& other) const;
    };

    /// A user came online, moved, changed its state or status message, or went offline.
    struct Change
    {
        std::string name;
        Peer peer;
        bool online = false;
        /// Online before and after, reached the same way: only its state or status message changed.
        bool statusOnly = false;
    };

    explicit Roster(std::string self);

    /// Replaces everything with a snapshot, by name; returns one change per
    /// user that went away, came, moved or changed its state or status.
    std::vector<Change> replace(std::map<std::string, Peer> peers);

    /// name is online as peer (came, moved, or changed state or status);
    /// nullopt when nothing changed, or name is self.
    std::optional<Change> here(const std::string& name, const Peer& peer);

    /// name is offline; nullopt when it was not listed.
    std::optional<Change> gone(const std::string& name);

    /// The online user called name, or nullptr.
    const Peer* find(const std::string& name) const;

    /// The name of the online user registered at endpoint, or nullptr.
    /// Cheap (a map lookup): peerd asks it for every datagram.
    const std::string* nameAt(const Endpoint& endpoint) const;

    /// An online user other than except who presents the key-exchange key kx, or nullptr.
    const std::string* holderOf(const PublicKey& kx, const std::string& except) const;

    /// True when a .NET user is online at host, on any port: that program
    /// sends from throwaway sockets, so only its address is known.
    bool hasDotNetAt(const Poco::Net::IPAddress& host) const { return _dotNetHosts.count(host) > 0; }

    /// Every online user but self, by name.
    const std::map<std::string, Peer>& peers() const { return _peers; }

    const std::string& self() const { return _self; }

    /// The peer a here describes (unknown dialect tokens mean a seed client).
    static Peer peerOf(const Here& here);

    /// The dialect a token names; unknown or absent tokens mean a seed client.
    static Dialect dialectOf(const std::string& token);

private:
    void index(const std::string& name, const Peer& peer);
    void unindex(const std::string& name, const Peer& peer);

    std::string _self;
    std::map<std::string, Peer> _peers;
    std::multimap<Endpoint, std::string> _names;              ///< _peers by endpoint
    std::multimap<PublicKey, std::string> _holders;           ///< _peers with keys by key-exchange key
    std::map<Poco::Net::IPAddress, std::size_t> _dotNetHosts;  ///< how many .NET users are online at each address
};

} // namespace peerchat
