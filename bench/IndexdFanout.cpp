#include "IndexdFanout.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace peerchat::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// Descriptors a worker keeps besides its users' sockets (epoll, the
/// parent's socket, the standard three, libraries').
constexpr std::size_t kSpareDescriptors = 64;
/// How long stopping waits for the workers' last reports.
constexpr auto kStopDeadline = std::chrono::seconds(30);
/// How much of indexd's log an error quotes.
constexpr std::size_t kLogTail = 3000;
/// indexd keeps a user this long without a heartbeat: the crowd sends
/// none, so longer than any run (the most indexd takes: a day).
constexpr const char* kExpireMs = "86400000";

std::int64_t nanoseconds(Clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string errorText(int error)
{
    return std::strerror(error);
}

} // namespace

double IndexdFanout::Phase::deliveriesPerSecond() const
{
    return convergence.count() > 0 ? static_cast<double>(deliveries) / convergence.count() : 0.0;
}

IndexdFanout::IndexdFanout(const ContactGraph& graph, Options options) : _graph(graph), _options(options)
{
    if (_options.loginsInFlight == 0 || _options.actionsInFlight == 0 || _options.usersPerWorker == 0
        || _options.attempts <= 0)
        throw std::invalid_argument("IndexdFanout needs a login and an action in flight, a user per worker and "
                                    "an attempt");
}

IndexdFanout::~IndexdFanout()
{
    // The workers stop when their end of the socket closes; reap() kills the slow.
    reap(std::chrono::seconds(10));
}

std::size_t IndexdFanout::usersPerWorker() const
{
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    std::size_t perWorker = _options.usersPerWorker;
    if (files.rlim_max != RLIM_INFINITY)
        perWorker = std::min<std::size_t>(perWorker,
                                          files.rlim_max > kSpareDescriptors ? files.rlim_max - kSpareDescriptors : 0);
    if (perWorker == 0)
        throw std::invalid_argument("IndexdFanout: a worker may open " + std::to_string(files.rlim_max)
                                    + " files, too few for any user");
    return perWorker;
}

std::size_t IndexdFanout::workers() const
{
    const std::size_t perWorker = usersPerWorker();
    return (_graph.size() + perWorker - 1) / perWorker;
}

void IndexdFanout::start()
{
    if (_indexd) throw std::logic_error("IndexdFanout::start: indexd is already running");
    _indexd = std::make_unique<CrowdIndexd>(std::vector<std::string>{"--expire-ms", kExpireMs});
    const Endpoint& index = _indexd->endpoint();
    if (index.address().family() != Poco::Net::AddressFamily::IPv4)
        fail("the users are on 127.0.0.x: indexd must be on IPv4, not at " + index.toString());
    std::memcpy(&_index, index.address().addr(), sizeof _index);
}

IndexdFanout::Result IndexdFanout::run(const std::vector<std::uint32_t>& stateChangers,
                                       const std::vector<std::uint32_t>& leavers)
{
    if (!_indexd) throw std::logic_error("IndexdFanout::run before start()");
    if (_ran) throw std::logic_error("IndexdFanout::run runs once");
    _ran = true;
    std::vector<bool> changing(_graph.size(), false);
    std::vector<bool> leaving(_graph.size(), false);
    for (const std::uint32_t user : stateChangers) {
        if (user >= _graph.size()) throw std::invalid_argument("there is no user " + std::to_string(user));
        changing[user] = true;
    }
    for (const std::uint32_t user : leavers) {
        if (user >= _graph.size() || leaving[user])
            throw std::invalid_argument("user " + std::to_string(user) + " cannot log out: there is no such user "
                                        "or it logs out twice");
        leaving[user] = true;
    }
    forkWorkers(changing, leaving);

    const auto setupEnd = Clock::now() + _options.setupDeadline;
    const auto ready = [&] {
        return std::all_of(_workers.begin(), _workers.end(),
                           [](const Worker& w) { return w.last.kind == CrowdWorker::Report::Kind::Ready; });
    };
    while (!ready()) {
        if (Clock::now() > setupEnd)
            fail("the workers did not make their users' keys and sockets within "
                 + std::to_string(_options.setupDeadline.count()) + " s");
        collect(std::chrono::seconds(1));
    }

    Result result;
    result.workers = _workers.size();
    test::DaemonProcess& indexd = _indexd->process();
    result.serverResidentKiBBeforeLogins = indexd.residentKiB();
    result.phases.push_back(runPhase(CrowdWorker::Phase::Logins, 'l', "logins"));
    result.serverResidentKiBAfterLogins = indexd.residentKiB();
    result.phases.push_back(runPhase(CrowdWorker::Phase::StateChanges, 's', "state changes"));
    result.phases.push_back(runPhase(CrowdWorker::Phase::Logouts, 'o', "logouts"));
    for (const Worker& worker : _workers) {
        result.traffic.hellos += worker.last.hellos;
        result.traffic.auths += worker.last.auths;
        result.traffic.declarations += worker.last.declarations;
        result.traffic.refusals += worker.last.refusals;
        result.traffic.unexpected += worker.last.unexpected;
    }
    stopWorkers();
    result.crypto = LoginCryptoCost::measure(_options.cryptoIterations);
    return result;
}

IndexdFanout::Phase IndexdFanout::runPhase(CrowdWorker::Phase phase, char command, const char* name)
{
    test::DaemonProcess& indexd = _indexd->process();
    const std::chrono::milliseconds cpuBefore = indexd.cpuTime();
    const auto start = Clock::now();
    this->command(command);

    const auto current = [&](const Worker& w) { return w.last.phase == phase; };
    // Progress is anything a user did or read; a phase in which nothing
    // moves for options.stall has lost something it will not get back.
    std::uint64_t lastMotion = 0;
    auto lastChange = start;
    while (true) {
        collect(std::chrono::milliseconds(50));
        if (!indexd.running()) fail(std::string("indexd exited during the ") + name);
        if (!std::all_of(_workers.begin(), _workers.end(), current)) continue;
        std::uint64_t actions = 0;
        std::uint64_t done = 0;
        std::uint64_t pending = 0;
        std::uint64_t motion = 0;
        std::uint64_t failed = 0;
        std::uint64_t strangers = 0;
        std::string firstFailure;
        for (const Worker& worker : _workers) {
            const CrowdWorker::Report& r = worker.last;
            actions += r.actions;
            done += r.actionsDone;
            pending += r.pending;
            failed += r.failed;
            strangers += r.strangers;
            motion += r.actionsDone + r.entries + r.resends + r.gaps;
            if (firstFailure.empty() && r.detail[0] != '\0') firstFailure = r.detail;
        }
        if (failed > 0)
            fail(std::to_string(failed) + " users given up in the " + name + ", the first " + firstFailure);
        if (strangers > 0)
            fail(std::to_string(strangers) + " presence entries in the " + name
                 + " named someone not a contact of the user who read them");
        if (done == actions && pending == 0) break;
        const auto now = Clock::now();
        if (motion != lastMotion) {
            lastMotion = motion;
            lastChange = now;
        }
        const std::string where = std::to_string(done) + " of " + std::to_string(actions) + " done, "
                                  + std::to_string(pending) + " roster entries short of their target";
        if (now - lastChange > _options.stall)
            fail(std::string("the ") + name + " stalled: nothing moved for " + std::to_string(_options.stall.count())
                 + " s; " + where);
        if (now - start > _options.phaseTimeout)
            fail(std::string("the ") + name + " did not converge within "
                 + std::to_string(_options.phaseTimeout.count()) + " s; " + where);
    }

    Phase figures;
    figures.name = name;
    figures.serverCpu = indexd.cpuTime() - cpuBefore;
    std::int64_t lastAction = nanoseconds(start);
    std::int64_t lastRequired = nanoseconds(start);
    for (const Worker& worker : _workers) {
        const CrowdWorker::Report& r = worker.last;
        figures.events += r.actionsDone;
        figures.expectedDeliveries += r.required;
        figures.deliveries += r.requiredRead;
        figures.otherEntries += r.entries - r.requiredRead;
        figures.regressions += r.regressions;
        figures.gaps += r.gaps;
        figures.resends += r.resends;
        figures.crowdCpu += std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(r.cpuNs));
        lastAction = std::max(lastAction, r.lastActionNs);
        lastRequired = std::max(lastRequired, r.lastRequiredNs);
    }
    figures.wall = std::chrono::nanoseconds(lastAction - nanoseconds(start));
    figures.convergence = std::chrono::nanoseconds(lastRequired - nanoseconds(start));
    return figures;
}

void IndexdFanout::forkWorkers(const std::vector<bool>& changing, const std::vector<bool>& leaving)
{
    const std::size_t users = _graph.size();
    const std::size_t count = workers();
    // What stdio holds would be written again by each child.
    std::fflush(nullptr);
    const pid_t parent = ::getpid();
    std::uint32_t first = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const auto share = [&](std::size_t total) { return std::max<std::size_t>(1, total / count + (i < total % count ? 1 : 0)); };
        CrowdWorker::Settings settings;
        settings.first = first;
        settings.count = static_cast<std::uint32_t>(users / count + (i < users % count ? 1 : 0));
        settings.window = share(_options.loginsInFlight);
        settings.actionsInFlight = share(_options.actionsInFlight);
        settings.retry = _options.retry;
        settings.attempts = _options.attempts;
        settings.receiveBufferBytes = _options.receiveBufferBytes;
        settings.usersPerAddress = _options.usersPerAddress;
        settings.index = _index;
        settings.indexKey = _indexd->identity();
        first += settings.count;

        int ends[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
            fail("socketpair: " + errorText(errno));
        const pid_t pid = ::fork();
        if (pid < 0) {
            ::close(ends[0]);
            ::close(ends[1]);
            fail("fork: " + errorText(errno));
        }
        if (pid == 0) {
            // The worker: it dies with the parent, keeps no end of another
            // worker's socket (or that worker would never see its parent
            // go), and never returns into the parent's code.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(1);
            ::close(ends[0]);
            for (const Worker& other : _workers) ::close(other.fd);
            int code = 1;
            try {
                CrowdWorker worker(_graph, changing, leaving, settings, ends[1]);
                code = worker.run();
            } catch (const std::exception& e) {
                CrowdWorker::reportFailure(ends[1], e.what());
            } catch (...) {
                CrowdWorker::reportFailure(ends[1], "unknown exception");
            }
            ::_exit(code);
        }
        ::close(ends[1]);
        Worker worker;
        worker.pid = pid;
        worker.fd = ends[0];
        worker.users = settings.count;
        worker.first = settings.first;
        worker.last.kind = CrowdWorker::Report::Kind::Progress;
        _workers.push_back(worker);
    }
}

void IndexdFanout::collect(std::chrono::milliseconds timeout)
{
    std::vector<pollfd> fds;
    for (const Worker& worker : _workers) fds.push_back(pollfd{worker.ended ? -1 : worker.fd, POLLIN, 0});
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR) fail("poll: " + errorText(errno));
    for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        Worker& worker = _workers[i];
        const std::string who = "the worker of u" + std::to_string(worker.first) + "..u"
                                + std::to_string(worker.first + worker.users - 1);
        while (true) {
            CrowdWorker::Report report;
            const ssize_t got = ::recv(worker.fd, &report, sizeof report, MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
            if (got == 0 && worker.last.kind == CrowdWorker::Report::Kind::Stopped) {
                worker.ended = true;
                break;
            }
            if (got <= 0) fail(who + " (pid " + std::to_string(worker.pid) + ") ended without a word");
            if (static_cast<std::size_t>(got) != sizeof report)
                fail(who + " sent a report of " + std::to_string(got) + " bytes");
            if (report.kind == CrowdWorker::Report::Kind::Failed) fail(who + " failed: " + report.detail);
            worker.last = report;
        }
    }
}

void IndexdFanout::command(char what)
{
    for (const Worker& worker : _workers)
        if (::send(worker.fd, &what, 1, MSG_NOSIGNAL) != 1)
            fail(std::string("cannot tell a worker '") + what + "': " + errorText(errno));
}

void IndexdFanout::stopWorkers()
{
    command('q');
    const auto end = Clock::now() + kStopDeadline;
    const auto stopped = [](const Worker& w) { return w.last.kind == CrowdWorker::Report::Kind::Stopped; };
    while (!std::all_of(_workers.begin(), _workers.end(), stopped)) {
        if (Clock::now() > end) {
            reap(std::chrono::seconds(0));
            fail("a worker did not stop within " + std::to_string(kStopDeadline.count()) + " s; killed");
        }
        collect(std::chrono::milliseconds(200));
    }
    reap(std::chrono::seconds(10));
}

void IndexdFanout::reap(std::chrono::seconds deadline)
{
    for (Worker& worker : _workers) {
        if (worker.fd >= 0) ::close(worker.fd);
        worker.fd = -1;
        worker.ended = true;
    }
    const auto end = Clock::now() + deadline;
    for (Worker& worker : _workers) {
        if (worker.pid <= 0) continue;
        int status = 0;
        while (::waitpid(worker.pid, &status, WNOHANG) == 0) {
            if (Clock::now() >= end) {
                ::kill(worker.pid, SIGKILL);
                ::waitpid(worker.pid, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        worker.pid = -1;
    }
}

void IndexdFanout::fail(const std::string& what) const
{
    std::string message = "indexd half: " + what + ".";
    if (_indexd) {
        const std::string log = _indexd->process().log();
        message += "\nThe end of indexd's log:\n"
                   + (log.size() > kLogTail ? "..." + log.substr(log.size() - kLogTail) : log);
    }
    throw std::runtime_error(message);
}

} // namespace peerchat::bench
