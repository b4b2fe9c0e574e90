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
/// kept current by presence broadcasts, and where presence stands: the run
/// of indexd (its epoch) and the number of the last announcement applied,
/// which never goes back within one run. The user peerd runs for is never
/// listed. State only: callers turn the changes it returns into events.
class Roster
{
public:
    /// Where a user listens, how to talk to it, and (a peerchat/3 user) its keys.
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

    /// Replaces everything with a snapshot of indexd's run epoch at presence
    /// number seq; returns one change per user that went away, came, or moved
    /// (by name). Refused (nullopt; nothing changes) when the snapshot is of
    /// the run the roster follows and older than notBefore, the number applied
    /// when it was asked for: indexd writes a roster only after the request,
    /// so a real one is never older than that. (It may be older than what was
    /// applied since: the caller applies those announcements again.)
    std::optional<std::vector<Change>> replace(const std::vector<RosterEntry>& entries, const Epoch& epoch,
                                               std::uint64_t seq, std::uint64_t notBefore);

    /// Presence announcement seq of the run the roster follows arrived: true
    /// when it is newer than the last one applied, which it now is (the caller
    /// applies it with login() or logout()); false when it is not.
    bool advance(std::uint64_t seq);

    /// The number of the last presence announcement applied (0: none).
    std::uint64_t presenceSeq() const { return _seq; }

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

    /// An online user other than except who presents the key-exchange key kx, or nullptr.
    const std::string* holderOf(const PublicKey& kx, const std::string& except) const;

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
    std::optional<Epoch> _epoch;  ///< of the last snapshot taken
    std::uint64_t _seq = 0;
    std::map<std::string, Peer> _peers;
    std::multimap<Endpoint, std::string> _names;              ///< _peers by endpoint
    std::multimap<PublicKey, std::string> _holders;           ///< _peers with keys by key-exchange key
    std::map<Poco::Net::IPAddress, std::size_t> _dotNetHosts;  ///< how many .NET users are online at each address
};

} // namespace peerchat
