#pragma once

#include "DropLog.h"
#include "IndexVerifier.h"
#include "KeyTrust.h"
#include "Protocol.h"
#include "Roster.h"
#include "RosterFetcher.h"
#include "Timers.h"

#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace peerchat {

/// Who is online, as indexd says: fetches the signed roster when a login is
/// welcomed (again, with back-off, when a fetch fails), follows signed
/// presence announcements by their sequence numbers, and reads the roster
/// again when one was missed. Entries and announcements whose keys do not
/// pass (KeyTrust, one key-exchange key for two names) are dropped; keys
/// are shown to KeyTrust as they come.
class PresenceTracker
{
public:
    using Presence = std::variant<Login, Logout>;

    struct Hooks
    {
        /// True while the session with indexd is online.
        std::function<bool()> online;
        /// A peer came online, moved to another endpoint, or left.
        std::function<void(const Roster::Change& change)> changed;
        /// A roster arrived and was applied; peers is how many others are online.
        std::function<void(std::size_t peers)> loaded;
        /// While not online: the roster could not be read (detail says why, for a person).
        std::function<void(const std::string& detail)> failed;
    };

    PresenceTracker(Timers& timers, RosterFetcher& fetcher, Roster& roster, const IndexVerifier& verifier,
                    KeyTrust& trust, DropLog& drops, const Endpoint& index, std::chrono::milliseconds rosterRetry,
                    Hooks hooks);

    /// A login was welcomed by the run of indexd of epoch: reads its roster from rosterServer.
    void start(const Endpoint& rosterServer, const Epoch& epoch);
    /// An announcement indexd signed (checked by the caller).
    void announce(const Presence& presence);
    /// indexd is at presence number seq (a sealed seen).
    void seen(std::uint64_t seq);
    /// A heartbeat: the roster is read again when an announcement was missed or a key could not be pinned.
    void heartbeat();
    /// The login is over: forgets the fetch under way and its retry.
    void cancel();

    /// True while a roster is on its way or a failed fetch waits to be tried again.
    bool pending() const { return _fetcher.busy() || _retryTimer.armed(); }
    /// True once a roster has arrived since start: who is offline is known.
    bool loaded() const { return _loaded; }

private:
    void fetch();
    void refresh();
    void retry(const std::string& why);
    void fetched(Parsed<RosterFetcher::Snapshot> roster);
    std::vector<RosterEntry> checkedEntries(const std::vector<RosterEntry>& entries);
    void apply(const Presence& presence);

    Timers& _timers;
    RosterFetcher& _fetcher;
    Roster& _roster;
    const IndexVerifier& _verifier;
    KeyTrust& _trust;
    DropLog& _drops;
    Endpoint _index;
    std::chrono::milliseconds _rosterRetry;
    Hooks _hooks;
    Endpoint _rosterServer;                 ///< where the last welcome said the roster is
    Epoch _epoch{};                         ///< of the run of indexd that welcomed the last login
    std::vector<Presence> _duringFetch;     ///< announcements that arrived while the roster was on its way
    std::uint64_t _fetchFloor = 0;          ///< the presence number applied when the fetch under way was asked for
    std::chrono::milliseconds _backoff;     ///< how long the next failed fetch waits before the next try
    Timer _retryTimer;                      ///< a failed fetch waits for its next try
    bool _loaded = false;
    bool _stale = false;                    ///< an announcement was missed, or a refetch failed
    Poco::Logger& _logger;
};

} // namespace peerchat
