#pragma once

#include "ContactGraph.h"
#include "CrowdUser.h"
#include "CryptoTypes.h"

#include <netinet/in.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace peerchat::bench {

/// The users of one worker process of IndexdFanout: users
/// first..first+count-1 of a ContactGraph, each a CrowdUser with its own
/// identity key and its own UDP socket (bound to port 0 of 127.0.0.1, or
/// of 127.0.0.2 and on past usersPerAddress users: one address has some
/// 28,000 ephemeral ports), all read through one epoll, non-blocking. The
/// parent starts each phase with a one-byte command:
///
/// - 'l', logins: hello, challenge, auth, welcome, then the contact list
///   (the user's contacts in the graph, state online) sealed to indexd
///   until indexd answers declared and the snapshot that follows is in.
///   As many logins are under way at once as indexd keeps up with, found
///   as TCP finds its congestion window: from 8, one more per login done
///   (slow start) until a step is answered later than a quarter of retry,
///   or not at all, which halves the window; then one more per window's
///   worth of logins done; never more than window. Only a step sent after
///   the last cut can cut again.
/// - 's', state changes: each of its users among the state changers
///   declares its list again under a new version with state away, until
///   indexd answers declared for it; actionsInFlight at once at most.
/// - 'o', logouts: each of its users among the leavers sends its sealed
///   logout and then a sealed alive; indexd answers the alive `relogin`
///   once it has let the user go (before, `seen`: the logout was lost and
///   goes again), which ends the leaver's part; actionsInFlight at once.
///
/// Every user keeps the roster indexd tells it (snapshot, here, gone, in
/// SEQ order; a gap makes it declare again for a fresh snapshot, as peerd
/// does) as the state of each of its contacts. A phase has a target for
/// each (user, contact): after the logins every contact online, after the
/// state changes the changers away, after the logouts the leavers absent
/// (what leavers themselves hear then is not tracked). An entry that brings
/// a contact to its target is a required delivery; the phase's required
/// deliveries are those the rosters lacked when it began: one for each
/// side of each contact pair in the logins, one for each contact of a
/// changer, one for each contact of a leaver who is not a leaver itself.
/// Every other entry read (snapshots repeating what a user knew, the
/// snapshot each changer gets with its declared) is counted apart.
///
/// Every step is sent again after retry and given up after attempts. It
/// talks with its parent over one SOCK_SEQPACKET socket: it sends Report
/// records (Ready, then Progress every 50 ms while a phase runs, Stopped)
/// and takes the commands above and 'q' (stop; the parent's end closing
/// stops it too). Runs in the child process only: it is made after
/// fork(), and the process ends after its run().
class CrowdWorker
{
public:
    struct Settings
    {
        std::uint32_t first = 0;                     ///< the first user's number
        std::uint32_t count = 0;                     ///< how many users
        std::size_t window = 1;                      ///< logins under way at once at most (the bound of the adaptive window)
        std::size_t actionsInFlight = 1;             ///< state changes or logouts under way at once at most
        std::chrono::milliseconds retry{2000};       ///< an unanswered step goes again after this (peerd.loginRetryMs)
        int attempts = 5;                            ///< each step is sent this often at most
        int receiveBufferBytes = 262144;             ///< SO_RCVBUF of each user's socket
        std::size_t usersPerAddress = 20000;         ///< user n binds to 127.0.0.(1 + n / usersPerAddress)
        sockaddr_in index{};                         ///< indexd's UDP endpoint
        PublicKey indexKey{};                        ///< indexd's identity key, as its ready line gives it
    };

    /// The phases, in the order they run; None before the first.
    enum class Phase : std::uint8_t { None, Logins, StateChanges, Logouts };

    /// What a worker tells its parent, one record per message. The phase
    /// counters count from the start of the phase named, the others from
    /// the start of the worker.
    struct Report
    {
        enum class Kind : std::uint8_t { Ready, Progress, Stopped, Failed };
        Kind kind = Kind::Ready;
        Phase phase = Phase::None;
        std::uint64_t actions = 0;         ///< logins, state changes or logouts its users make in the phase
        std::uint64_t actionsDone = 0;
        std::uint64_t failed = 0;          ///< users given up in the phase
        std::uint64_t required = 0;        ///< required deliveries (see the class comment)
        std::uint64_t requiredRead = 0;
        std::uint64_t pending = 0;         ///< (user, contact) not at their target now
        std::uint64_t entries = 0;         ///< here and gone entries read, snapshots' included
        std::uint64_t strangers = 0;       ///< entries naming someone not a contact of the reader
        std::uint64_t regressions = 0;     ///< entries that took a contact away from its target
        std::uint64_t gaps = 0;            ///< presence SEQ gaps, each answered with a declaration again
        std::uint64_t resends = 0;         ///< steps sent again because no answer came in time
        std::uint64_t hellos = 0;          ///< hellos sent, the first of each login included
        std::uint64_t auths = 0;
        std::uint64_t declarations = 0;    ///< sealed parts of contact lists sent
        std::uint64_t refusals = 0;        ///< refusals that echoed a hello or auth of the user's own
        std::uint64_t unexpected = 0;      ///< datagrams from indexd not taken: not decoding, not opening, not answering anything
        std::uint64_t window = 0;          ///< logins it lets be under way at once now
        std::int64_t cpuNs = 0;            ///< CPU time this worker process used in the phase, user and system
        std::int64_t lastActionNs = 0;     ///< the steady clock when the phase's last action was done (ns since its epoch)
        std::int64_t lastRequiredNs = 0;   ///< the steady clock when the phase's last required delivery was read
        char detail[512] = {};             ///< the first user given up and why, or why the worker failed
    };

    /// The worker of settings' users of graph, talking with its parent over
    /// parentFd (left open: the process ends after run()). changing[n] and
    /// leaving[n] say whether user n changes state, and logs out.
    CrowdWorker(const ContactGraph& graph, const std::vector<bool>& changing, const std::vector<bool>& leaving,
                Settings settings, int parentFd);
    ~CrowdWorker();
    CrowdWorker(const CrowdWorker&) = delete;
    CrowdWorker& operator=(const CrowdWorker&) = delete;

    /// Makes the users and their sockets, reports Ready, then runs the
    /// phases it is told until told to stop. Returns the process's exit
    /// code; throws std::runtime_error when it cannot go on (no socket, no
    /// port).
    int run();

    /// Sends a Failed report with why to the parent at parentFd, as a worker that cannot go on does.
    static void reportFailure(int parentFd, const std::string& why);

private:
    using Clock = std::chrono::steady_clock;

    /// Where one user stands in the phases.
    enum class Step : std::uint8_t { Idle, LoggingIn, Declaring, Loading, Online, Changing, Leaving, Left, Failed };

    /// One user, its socket and its roster.
    struct Slot
    {
        explicit Slot(CrowdUser crowdUser) : user(std::move(crowdUser)) {}

        CrowdUser user;
        int fd = -1;
        Step step = Step::Idle;
        Clock::time_point sentAt{};      ///< when the step under way last went
        std::uint32_t token = 0;         ///< the deadline scheduled last; older ones are stale
        std::uint8_t attempts = 0;       ///< sends of the step under way
        bool inWindow = false;           ///< a login or action under way, counted against its window
        bool away = false;               ///< the state its declarations show
        bool resyncing = false;          ///< declared again after a gap: deltas wait for the snapshot
        std::uint64_t version = 0;       ///< of the contact list declared last
        std::uint64_t nextSeq = 0;       ///< the presence SEQ due next; 0 before the first snapshot
        std::uint64_t snapshotLeft = 0;  ///< here entries of the snapshot under way still to come
        bool inSnapshot = false;
        /// Per contact, in the graph's order: how it is shown (kAbsent,
        /// kOnline, kAway, kBusy), and kMarked while a snapshot names it.
        std::vector<std::uint8_t> roster;
    };

    /// When a slot's next step is due; stale once the slot's token moved on.
    struct Deadline
    {
        Clock::time_point at;
        std::uint32_t slot;
        std::uint32_t token;
        bool operator>(const Deadline& other) const { return at > other.at; }
    };

    void setUp();
    void openSocket(Slot& slot);
    /// The users' loop until the parent says stop; false when the parent went away.
    bool serve();
    void beginPhase(Phase phase);
    void startSteps();
    void readSocket(std::uint32_t index);
    void receive(Slot& slot, std::string_view datagram);
    void takeSeal(Slot& slot, const Seal& seal);
    void refused(Slot& slot, const Refuse& refuse);
    void relogin(Slot& slot);
    void fireDeadlines();
    void expire(Slot& slot);
    /// indexd answered slot's login step: a late answer is a sign of congestion.
    void answered(const Slot& slot);
    /// slot's login step was answered late or not at all: indexd is
    /// behind, so fewer logins go at once.
    void congested(const Slot& slot);

    void apply(Slot& slot, const CrowdUser::Presence& presence);
    void finishSnapshot(Slot& slot);
    /// Shows contact (an index into slot's roster) as shown (kAbsent...),
    /// counting what that does to the phase's targets.
    void show(Slot& slot, std::size_t contact, std::uint8_t shown, bool marked);
    /// What the phase wants slot to show for contact; kAny when nothing.
    std::uint8_t target(const Slot& slot, std::size_t contact) const;
    /// The index of name in slot's contacts; the roster's size when it is none.
    std::size_t contactIndex(const Slot& slot, std::string_view name) const;

    void sendHello(Slot& slot);
    void sendDeclaration(Slot& slot);
    void sendLogout(Slot& slot);
    /// slot's login, state change or logout is done.
    void done(Slot& slot);
    void giveUp(Slot& slot, const std::string& why);
    void send(Slot& slot, const std::string& bytes);
    void schedule(Slot& slot, std::chrono::milliseconds delay);

    void report(Report::Kind kind);

    static constexpr std::uint8_t kAbsent = 0;
    static constexpr std::uint8_t kOnline = 1;
    static constexpr std::uint8_t kAway = 2;
    static constexpr std::uint8_t kBusy = 3;
    static constexpr std::uint8_t kShown = 3;
    static constexpr std::uint8_t kMarked = 0x80;
    static constexpr std::uint8_t kAny = 0xff;

    const ContactGraph& _graph;
    const std::vector<bool>& _changing;
    const std::vector<bool>& _leaving;
    Settings _settings;
    int _parentFd;
    int _epoll = -1;
    std::vector<Slot> _slots;
    Phase _phase = Phase::None;
    /// The slots that act in the phase, in order, and the next to start.
    std::vector<std::uint32_t> _actors;
    std::size_t _nextActor = 0;
    std::size_t _inFlight = 0;
    double _window = 8;                        ///< logins let under way at once (see the class comment)
    bool _slowStart = true;
    Clock::time_point _lastCut{};              ///< when the window was last halved
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<Deadline>> _deadlines;
    std::uint64_t _lastVersion = 0;
    std::int64_t _cpuAtPhaseStart = 0;
    Report _report;
};

} // namespace peerchat::bench
