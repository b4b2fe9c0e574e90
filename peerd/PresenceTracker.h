#pragma once

#include "DropLog.h"
#include "IndexVerifier.h"
#include "KeyTrust.h"
#include "Protocol.h"
#include "Roster.h"
#include "Timers.h"

#include <Poco/Logger.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>

namespace peerchat {

/// Who is online, as indexd tells this user in its session: here, gone and
/// snapshot, numbered from 1 in each login, taken in that order. Nothing
/// applies before the login's first snapshot; a snapshot applies once all
/// its entries are in, and replaces the roster; what follows it applies in
/// order, held (a bounded number) while a gap waits to fill. A gap that
/// does not fill within a short time, a snapshot that does not come after a
/// welcome, a full reorder buffer, or a seen saying indexd is past what was
/// applied asks indexd for presence again (the resync hook: the contact
/// list is declared again, which indexd answers with a fresh snapshot),
/// with a back-off that doubles, so a lost datagram costs one retry, not a
/// storm. Entries whose keys do not pass (IndexVerifier, KeyTrust, one
/// key-exchange key for two names) are dropped; keys are shown to KeyTrust
/// as they come.
class PresenceTracker
{
public:
    using Presence = std::variant<Here, Gone, Snapshot>;

    /// Most presence messages held ahead of a gap or of a snapshot's missing
    /// entries: room for a snapshot of the longest contact list, several times.
    static constexpr std::size_t kMaxHeld = 4 * Protocol::kMaxContacts;
    /// A resync waits the retry given, doubling up to this many times it.
    static constexpr int kRetryGrowth = 16;

    struct Hooks
    {
        /// True while the session with indexd is online.
        std::function<bool()> online;
        /// A peer came online, moved, changed its state or status message, or left.
        std::function<void(const Roster::Change& change)> changed;
        /// The login's first snapshot was applied; peers is how many others are online.
        std::function<void(std::size_t peers)> loaded;
        /// While not online: no snapshot came since the welcome (detail says so, for a person).
        std::function<void(const std::string& detail)> failed;
        /// Ask indexd for presence again: declare the contact list again.
        std::function<void()> resync;
    };

    /// retry: how long a gap, or the wait for a snapshot, lasts before the
    /// first resync (doubling up to kRetryGrowth times it).
    PresenceTracker(Timers& timers, Roster& roster, const IndexVerifier& verifier, KeyTrust& trust, DropLog& drops,
                    const Endpoint& index, std::chrono::milliseconds retry, Hooks hooks);

    /// indexd welcomed a login: its presence counts from 1, and nothing
    /// applies before its first snapshot.
    void start();
    /// A here, gone or snapshot indexd sealed in this login's session.
    void receive(const Presence& presence);
    /// indexd's latest presence number for this user (a sealed seen).
    void seen(std::uint64_t seq);
    /// A heartbeat: presence is asked again when a key could not be pinned.
    void heartbeat();
    /// The login is over: forgets what is held and stops waiting.
    void cancel();

    /// True while the welcomed login waits for its first snapshot (until it gives up).
    bool pending() const { return _started && !_based; }
    /// True once a snapshot was applied since peerd started: who is offline is known.
    bool loaded() const { return _loaded; }
    /// The number of the last presence message applied in this login (0: none).
    std::uint64_t applied() const { return _applied; }
    /// How many presence messages wait for a gap to fill or a snapshot to complete.
    std::size_t held() const { return _held.size(); }

private:
    void settle();
    /// The newest snapshot held whose entries are all held, or nullptr.
    const Snapshot* completeSnapshot() const;
    void applySnapshot(Snapshot snapshot);
    void applyHere(const Here& here);
    void applyGone(const Gone& gone);
    /// True when everything indexd sent is applied: nothing to wait for.
    bool inOrder() const;
    /// Why presence is not in order, for the log.
    std::string behind() const;
    /// The wait is over: presence is asked again when it is still not in order.
    void overdue();
    void resync(const std::string& why);

    Roster& _roster;
    const IndexVerifier& _verifier;
    KeyTrust& _trust;
    DropLog& _drops;
    Endpoint _index;
    std::chrono::milliseconds _retry;
    Hooks _hooks;
    std::map<std::uint64_t, Presence> _held;  ///< received, not applied yet, by number
    std::uint64_t _applied = 0;
    std::uint64_t _indexAt = 0;             ///< the latest number a seen named in this login
    std::chrono::milliseconds _backoff;     ///< how long the wait after the next resync lasts
    Timer _waitTimer;                       ///< armed while presence is not in order
    bool _started = false;                  ///< a welcomed login is under way and has not given up
    bool _based = false;                    ///< a snapshot of this login was applied
    bool _loaded = false;
    Poco::Logger& _logger;
};

} // namespace peerchat
