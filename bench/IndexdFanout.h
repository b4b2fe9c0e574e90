#pragma once

#include "ContactGraph.h"
#include "CrowdIndexd.h"
#include "CrowdWorker.h"
#include "LoginCryptoCost.h"

#include <netinet/in.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace peerchat::bench {

/// indexd's half of IndexScaleBench: presence fan-out over a ContactGraph
/// done by a real indexd (CrowdIndexd) for a crowd of simulated peerchat/3
/// users ("u0", "u1", ...) that speak the protocol for real, each with its
/// own identity key and UDP socket (CrowdUser, CrowdWorker): logins with
/// challenge, signatures and session, contact lists declared sealed and
/// signed, presence read sealed, logouts sealed. The graph is symmetric, so
/// each user's list declares its graph contacts and every pair is mutual:
/// indexd's fan-out goes along the same relation as the Redis reference's
/// subscriptions.
///
/// The users are spread over worker processes (fork) of at most
/// usersPerWorker sockets each, so that 100,000 of them fit the cap of
/// 20,000 open files a process. Each phase (logins, state changes,
/// logouts) is started in every worker at once and runs until every user
/// of it is done and every roster holds what the graph says it must
/// (CrowdWorker's required deliveries), the time of the last of them
/// being the phase's convergence. indexd's CPU time (utime + stime of
/// /proc/PID/stat) is read around each phase, and its memory (VmRSS)
/// before the logins and after them. Not copyable; the workers are ended
/// and reaped, and indexd stopped, when it goes.
class IndexdFanout
{
public:
    struct Options
    {
        std::size_t loginsInFlight = 256;           ///< logins under way at once at most, over all workers
        std::size_t actionsInFlight = 256;          ///< state changes or logouts under way at once, over all workers
        std::size_t usersPerWorker = 18000;         ///< users (sockets) of one worker process at most; fewer when its open-file limit is lower
        std::size_t usersPerAddress = 20000;        ///< users per loopback address (127.0.0.1, then .2, ...)
        std::chrono::milliseconds retry{2000};      ///< an unanswered step goes again after this
        int attempts = 5;                           ///< each step is sent this often at most
        int receiveBufferBytes = 262144;            ///< SO_RCVBUF of each user's socket
        std::chrono::seconds setupDeadline{300};    ///< for the workers to make their users and sockets
        std::chrono::seconds phaseTimeout{900};     ///< a phase that has not converged after this long fails
        std::chrono::seconds stall{30};             ///< a phase in which nothing moves for this long fails
        std::size_t cryptoIterations = 2000;        ///< rounds of each operation LoginCryptoCost times
    };

    /// The figures of one phase.
    struct Phase
    {
        std::string name;
        std::size_t events = 0;               ///< logins, state changes or logouts done
        std::size_t expectedDeliveries = 0;   ///< required deliveries (CrowdWorker)
        std::size_t deliveries = 0;           ///< of them, read
        std::size_t otherEntries = 0;         ///< here and gone entries read beyond them
        std::size_t strangers = 0;            ///< entries naming someone not the reader's contact
        std::size_t regressions = 0;          ///< entries that took a roster away from its target
        std::size_t gaps = 0;                 ///< presence lost on the way, asked for again
        std::size_t resends = 0;              ///< steps sent again after retry
        /// From the phase's start until its last user is done (logged in with
        /// its snapshot, declared away, logged out).
        std::chrono::duration<double> wall{0};
        /// From the phase's start until the last required delivery was read.
        std::chrono::duration<double> convergence{0};
        /// CPU time indexd used in the phase, user and system.
        std::chrono::milliseconds serverCpu{0};
        /// CPU time the worker processes used in the phase, user and system.
        std::chrono::milliseconds crowdCpu{0};

        /// Required deliveries per second until convergence.
        double deliveriesPerSecond() const;
    };

    struct Result
    {
        /// Logins, state changes, logouts.
        std::vector<Phase> phases;
        std::size_t workers = 0;
        /// indexd's resident memory (VmRSS) before the logins and once every user is online.
        std::size_t serverResidentKiBBeforeLogins = 0;
        std::size_t serverResidentKiBAfterLogins = 0;
        /// The login steps sent, over the run: hellos, auths, contact list parts.
        CrowdWorker::Report traffic;
        /// One login's public-key work alone, timed in this process after the phases.
        LoginCryptoCost::Figures crypto;
    };

    /// A fan-out over graph's users, which must outlive it; start() starts indexd.
    IndexdFanout(const ContactGraph& graph, Options options);
    explicit IndexdFanout(const ContactGraph& graph) : IndexdFanout(graph, Options{}) {}
    ~IndexdFanout();
    IndexdFanout(const IndexdFanout&) = delete;
    IndexdFanout& operator=(const IndexdFanout&) = delete;

    /// Starts indexd (CrowdIndexd) with presence kept for longer than the run
    /// may take, and waits for its ready line.
    void start();

    /// Forks the workers, waits until every user's key and socket are
    /// made, runs the three phases (every user logs in; stateChangers go
    /// away; leavers log out), ends the workers, then times the public-key
    /// work of a login alone. Once. Throws std::runtime_error, with the end
    /// of indexd's log, when a worker fails or exits, indexd exits, a user
    /// is given up, an entry names a stranger, a phase stalls or outlasts
    /// its timeout.
    Result run(const std::vector<std::uint32_t>& stateChangers, const std::vector<std::uint32_t>& leavers);

    /// The workers run() forks for the graph's users.
    std::size_t workers() const;

private:
    /// One worker process and the parent's end of its socket.
    struct Worker
    {
        pid_t pid = -1;
        int fd = -1;
        std::uint32_t first = 0;       ///< its first user's number
        std::size_t users = 0;
        CrowdWorker::Report last;      ///< the latest report
        bool ended = false;            ///< it closed its end after Stopped
    };

    /// Users one worker takes at most: Options::usersPerWorker within the open-file limit.
    std::size_t usersPerWorker() const;
    void forkWorkers(const std::vector<bool>& changing, const std::vector<bool>& leaving);
    /// Runs one phase to convergence and returns its figures.
    Phase runPhase(CrowdWorker::Phase phase, char command, const char* name);
    /// Reads the reports waiting within timeout; throws on a Failed report
    /// or a worker gone.
    void collect(std::chrono::milliseconds timeout);
    void command(char what);
    /// Tells the workers to stop and reaps them.
    void stopWorkers();
    void reap(std::chrono::seconds deadline);
    /// Throws std::runtime_error with what and the end of indexd's log.
    [[noreturn]] void fail(const std::string& what) const;

    const ContactGraph& _graph;
    Options _options;
    std::unique_ptr<CrowdIndexd> _indexd;
    sockaddr_in _index{};
    std::vector<Worker> _workers;
    bool _ran = false;
};

} // namespace peerchat::bench
