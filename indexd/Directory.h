#pragma once

#include "Candidate.h"
#include "Endpoint.h"
#include "Protocol.h"
#include "RosterCodec.h"
#include "SessionCipher.h"

#include <Poco/Net/IPAddress.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace peerchat {

/// One user indexd holds online.
struct OnlineUser
{
    std::string name;
    Endpoint endpoint;                 ///< the registered endpoint: where presence and talk go
    Dialect dialect = Dialect::Seed;
    Poco::Net::IPAddress loginSource;  ///< address the login datagram came from (.NET logout rule)
    std::optional<PeerKeys> keys{};    ///< a peerchat/3 user's keys; none for seed and .NET users
    /// A peerchat/3 user's host and relay candidates, from its last alive
    /// that carried them (Directory::setCandidates); its reflexive one is endpoint.
    std::vector<Candidate> candidates{};
    /// EXPIRY (unix seconds) of the TURN credential last sent to this
    /// peerchat/3 user (Directory::setTurnExpiry), 0 for none: one integer,
    /// so that renewing credentials needs no timer and no table of its own.
    std::uint64_t turnExpiry = 0;
    /// The number of the last presence message (here, gone, snapshot) sent
    /// to this peerchat/3 user in its session; a new session counts from 0.
    std::uint64_t presenceSeq = 0;
};

/// What a peerchat/3 user's auth established: its keys, and indexd's
/// session with its key-exchange key.
struct PeerSession
{
    PeerKeys keys;
    SessionCipher cipher;
};

/// What a login did to the directory.
struct LoginOutcome
{
    enum class Kind
    {
        Registered,   ///< the name is now online
        AlreadyHere,  ///< the name was already online at this endpoint, the same way; nothing to announce
        Changed,      ///< the name was online at this endpoint in another dialect or with other keys: announce again
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

/// What a move of a user to another endpoint did to the directory.
struct MoveOutcome
{
    enum class Kind
    {
        Moved,        ///< the user is now registered at the new endpoint
        NotOnline,    ///< no such name online
        EndpointHeld  ///< another user is registered at the new endpoint; nothing changed
    };
    Kind kind = Kind::NotOnline;
    /// Where the user was registered before (Moved only).
    Endpoint from;
};

/// indexd's state: who is online, where, in which dialect and with which
/// keys; indexd's session with each peerchat/3 user; when each peerchat user
/// was last heard from; and the number of the last presence message each
/// peerchat/3 user was sent. Knows nothing of sockets or
/// clocks: callers pass the time, handlers turn its outcomes into datagrams.
/// Lookups by name and by endpoint are hash lookups and peerchat users are
/// kept in the order they were last heard from, so a login, a heartbeat and
/// an expiry sweep that finds nobody cost the same with 100,000 users online
/// as with one.
class Directory
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    /// Puts name online at endpoint, under the rules of docs/PROTOCOL.md: a name
    /// online elsewhere is Taken; another name at the same endpoint is displaced.
    /// A peerchat/3 user brings its session (keys and cipher). At the same
    /// endpoint the login source is refreshed, and a new dialect or a new
    /// key-exchange key makes the login Changed (a new session replaces the
    /// old); otherwise it is AlreadyHere and the session in use is kept, as
    /// a second cipher between the same keys would reuse its nonces. A
    /// peerchat user's login counts as hearing from it at now; times passed
    /// to a Directory never go backwards.
    LoginOutcome login(const std::string& name, const Endpoint& endpoint, Dialect dialect,
                       const Poco::Net::IPAddress& loginSource, TimePoint now,
                       std::optional<PeerSession> session = std::nullopt);

    /// What login() would make of a login of name at endpoint in dialect with
    /// keys (none for seed and .NET users), changing nothing: handlers ask
    /// before they spend a login's rate or register it.
    LoginOutcome::Kind loginKind(const std::string& name, const Endpoint& endpoint, Dialect dialect,
                                 const std::optional<PeerKeys>& keys) const;

    /// Registers the user online under name at endpoint to instead, keeping
    /// its dialect, keys, session and candidates: its NAT gave it a new
    /// mapping.
    MoveOutcome move(const std::string& name, const Endpoint& to);

    /// Keeps, as name's candidates, the plausible host and relay ones among
    /// candidates (at most kMaxKeptCandidates, in their order), replacing
    /// those it had; srflx ones are left out, as the reflexive candidate is
    /// the registered endpoint indexd sees itself. Returns how many were kept;
    /// nothing is kept for a name not online.
    std::size_t setCandidates(const std::string& name, const std::vector<Candidate>& candidates);

    /// Notes that name was sent a TURN credential valid until expiry (unix
    /// seconds); nothing for a name not online.
    void setTurnExpiry(const std::string& name, std::uint64_t expiry);

    /// True when candidate may be kept: a host or relay candidate at an
    /// address a datagram can be sent to (not the wildcard, multicast or
    /// broadcast address; loopback is fine, tests live on it).
    static bool isPlausible(const Candidate& candidate);

    /// Candidates kept per user: one less than a meet carries, which adds
    /// the reflexive one.
    static constexpr std::size_t kMaxKeptCandidates = CandidateList::kMaxCandidates - 1;

    /// Takes name offline when the logout comes from where it is registered:
    /// for a .NET user, source's address must be its login source and
    /// writtenEndpoint its registered endpoint; for any other user, source must
    /// be its registered endpoint.
    LogoutOutcome logout(const std::string& name, const Endpoint& writtenEndpoint, const Endpoint& source);

    /// True when a plain logout that wrote writtenEndpoint and came from
    /// source comes from user, by the rules of logout().
    static bool isOwnLogout(const OnlineUser& user, const Endpoint& writtenEndpoint, const Endpoint& source);

    /// Notes a heartbeat: true when name is a peerchat user online at source,
    /// which now counts as last heard from; false, changing nothing, otherwise.
    bool heardFrom(const std::string& name, const Endpoint& source, TimePoint now);

    /// Takes offline every peerchat user last heard from at or before cutoff,
    /// longest silent first. Seed and .NET users send no heartbeats and never
    /// expire.
    std::vector<OnlineUser> expireHeardBefore(TimePoint cutoff);

    /// Numbers count presence messages for name's session: returns the first
    /// (the next after OnlineUser::presenceSeq, which moves count on); 0 for
    /// a name not online.
    std::uint64_t takePresenceSeqs(const std::string& name, std::uint64_t count);

    /// The user online under name, or nullptr.
    const OnlineUser* find(const std::string& name) const;

    /// The user registered at endpoint, or nullptr.
    const OnlineUser* findAt(const Endpoint& endpoint) const;

    /// indexd's session with the peerchat/3 user online under name, or nullptr.
    SessionCipher* session(const std::string& name);

    /// True when kx was the key-exchange key of a session that ended (the
    /// user left, or logged in again with another key) among the last
    /// kMaxRetiredKeys: a login must bring a fresh one, since a new session
    /// between the same keys would count from 1 again, reusing nonces and
    /// taking replays of the old session's datagrams.
    bool isRetired(const PublicKey& kx) const;

    /// The name of the user online with a key-exchange key whose key id is
    /// kx's, or nullptr: no two live users may share one, since each session
    /// is named by its key ids and a second holder of a key would be sealed
    /// to under the first one's name.
    const std::string* holderOf(const PublicKey& kx) const;

    /// The name of the user whose session's key-exchange key has key id id
    /// (a seal's SKID), or nullptr: a hash lookup, so a seal from an endpoint
    /// nobody is registered at is tried against one session at most.
    const std::string* holderOfKeyId(const KeyId& id) const;

    /// How many ended sessions' keys isRetired() remembers.
    static constexpr std::size_t kMaxRetiredKeys = 65536;

    /// Calls visit(user) for every online user, for fan-out.
    template <typename Visit>
    void forEachUser(Visit&& visit) const
    {
        for (const auto& [name, entry] : _entries) visit(entry.user);
    }
    std::size_t size() const { return _entries.size(); }

    /// The seed and .NET users online, as their roster lists them: they
    /// see each other, and never a peerchat/3 user (who shows itself to its
    /// contacts only).
    std::vector<RosterEntry> legacySnapshot() const;

    /// Grows by one with every change, so readers can cache what they derive.
    std::uint64_t version() const { return _version; }

private:
    /// A peerchat user in the order of silence: its name is the key of its entry.
    struct Heard
    {
        const std::string* name;
        TimePoint at;
    };
    using Silence = std::list<Heard>;
    /// One online user and what indexd keeps beside it, in one node: its
    /// session (a peerchat/3 user) and its place in _silence (a peerchat
    /// user). The other tables point at the entry's key rather than holding
    /// the name again: 100,000 users are a few hundred bytes apiece fewer.
    struct Entry
    {
        OnlineUser user;
        std::optional<SessionCipher> cipher;
        std::optional<Silence::iterator> heard;
    };
    using Entries = std::unordered_map<std::string, Entry>;

    /// True when user holds keys (a peerchat/3 user's identity and
    /// key-exchange key), or none when keys is none.
    static bool sameKeys(const OnlineUser& user, const std::optional<PeerKeys>& keys);
    OnlineUser remove(Entries::iterator it);
    void setSession(Entries::iterator it, std::optional<PeerSession> session);
    void endSession(Entry& entry);
    void markHeard(Entries::iterator it, TimePoint now);
    void forgetHeard(Entry& entry);

    Entries _entries;
    std::unordered_map<Endpoint, const std::string*> _nameAt;
    /// The key id of each live session's key-exchange key, and whose it is.
    std::unordered_map<std::uint64_t, const std::string*> _holders;
    /// Key ids of ended sessions, and the same oldest first, to forget the oldest.
    std::unordered_set<std::uint64_t> _retired;
    std::deque<std::uint64_t> _retiredOrder;
    /// Peerchat users, longest silent first; a heartbeat moves one to the back.
    Silence _silence;
    std::uint64_t _version = 0;
};

} // namespace peerchat
