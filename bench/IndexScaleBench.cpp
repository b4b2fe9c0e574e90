// Presence fan-out at the scale of a large network: USERS simulated users
// (100,000 unless told), each with CONTACTS contacts (50) from a seeded
// random ContactGraph, come online; then 10% of them change state, then 10%
// log out. Each event is due to every online contact of its user. Per phase
// it measures the wall time, the events sent, the deliveries counted at the
// receivers against those the server reports (Redis) or the graph requires
// (indexd, whose users also get a snapshot of who is online as they log in),
// deliveries per second and the time until the last one arrived, and the
// server's CPU time; and the server's memory once everyone is online. The
// reference is Redis pub/sub doing the same fan-out (a channel per user, each
// user subscribed to its contacts' channels; users share subscriber
// connections, never two with a channel in common, to fit the open-file
// limit, see RedisFanout); indexd's half runs beside it, over the same graph
// and the same users, for real: simulated peerchat/3 users with their own
// keys and sockets log in, declare their contacts and read their presence
// sealed (IndexdFanout). Then indexd's CPU per login is set beside the
// public-key work of one login alone (LoginCryptoCost), timed in the same run.
#include "ContactGraph.h"
#include "IndexdFanout.h"
#include "RedisFanout.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace peerchat;
using bench::ContactGraph;
using bench::IndexdFanout;
using bench::LoginCryptoCost;
using bench::RedisFanout;
using Clock = std::chrono::steady_clock;

namespace {

// Every half and every run draws the same graph and the same users.
constexpr std::uint64_t graphSeed = 1;
constexpr std::uint64_t stateChangeSeed = 2;
constexpr std::uint64_t logoutSeed = 3;

/// What every half runs: the graph, and the users of the two phases only some take part in.
struct Workload
{
    ContactGraph graph;
    std::vector<std::uint32_t> stateChangers;
    std::vector<std::uint32_t> leavers;
};

/// One phase of one half, as the table prints it.
struct PhaseFigures
{
    std::string name;
    /// Presence events the users sent (for Redis, PUBLISHes).
    std::size_t events = 0;
    /// Deliveries the receivers read, and those the server reported it made.
    std::size_t deliveries = 0;
    std::size_t expectedDeliveries = 0;
    /// Until every event was sent and acknowledged, and until the last delivery was read.
    std::chrono::duration<double> wall{0};
    std::chrono::duration<double> convergence{0};
    double deliveriesPerSecond = 0;
    std::chrono::milliseconds serverCpu{0};
    /// Presence entries read beyond the deliveries (indexd's snapshots); none for Redis.
    std::optional<std::size_t> otherEntries;
    /// The load generator's CPU time in the phase, where the half reads it.
    std::optional<std::chrono::milliseconds> clientCpu;
};

/// One half of the comparison, as the table prints it.
struct Measurement
{
    /// What ran, in full, printed above the table, and how it was driven.
    std::string heading;
    std::string setup;
    /// The title of its column.
    std::string column;
    /// Logins, state changes, logouts.
    std::vector<PhaseFigures> phases;
    std::size_t serverResidentKiBAfterLogins = 0;
    /// Before the first login, where the half reads it.
    std::optional<std::size_t> serverResidentKiBBeforeLogins;
    /// The kernel's slab memory the logins added (sockets, machine-wide), where the half reads it.
    std::optional<std::size_t> kernelSlabGrowthKiBAfterLogins;
    /// The whole half, the server's start and stop included.
    std::chrono::duration<double> seconds{0};
};

std::string fixed(double value, int decimals)
{
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

// How the users share subscriber connections: how many, and how full.
std::string describeSharing(const RedisFanout& redis, std::size_t users, std::size_t usersPerConnection)
{
    const std::vector<std::size_t> sizes = redis.connectionSizes();
    std::string text = std::to_string(users) + " users on " + std::to_string(redis.subscriberConnections())
        + " subscriber connections (up to " + std::to_string(usersPerConnection)
        + " on one, never two with a channel in common; connections holding ";
    const char* separator = "";
    for (std::size_t size = sizes.size(); size-- > 1;) {
        if (sizes[size] == 0) continue;
        text += separator + std::to_string(size) + (size == 1 ? " user: " : " users: ") + std::to_string(sizes[size]);
        separator = ", ";
    }
    const double mean = redis.subscriberConnections() > 0
        ? static_cast<double>(users) / static_cast<double>(redis.subscriberConnections())
        : 0.0;
    return text + "; " + fixed(mean, 2) + " on average)";
}

Measurement measureRedis(const Workload& workload)
{
    const auto start = Clock::now();
    Measurement measurement;
    measurement.heading = "Redis pub/sub reference (redis-server " + RedisFanout::serverVersion() + ")";
    measurement.column = "Redis pub/sub";
    const RedisFanout::Options options;
    {
        RedisFanout redis(workload.graph, options);
        measurement.setup = describeSharing(redis, workload.graph.size(), options.usersPerConnection) + ",\n  "
            + std::to_string(options.publishers) + " publisher connections with up to "
            + std::to_string(options.publishesInFlight) + " PUBLISHes in flight, "
            + (options.loginsInFlight == 1 ? std::string("logins one after another")
                                           : "up to " + std::to_string(options.loginsInFlight) + " logins at once");
        redis.start();
        const RedisFanout::Result result = redis.run(workload.stateChangers, workload.leavers);
        for (const RedisFanout::Phase& phase : result.phases) {
            measurement.phases.push_back(PhaseFigures{phase.name, phase.publishes, phase.deliveries,
                                                      phase.expectedDeliveries, phase.wall, phase.convergence,
                                                      phase.deliveriesPerSecond(), phase.serverCpu, std::nullopt, std::nullopt});
        }
        measurement.serverResidentKiBAfterLogins = result.serverResidentKiBAfterLogins;
        measurement.kernelSlabGrowthKiBAfterLogins = result.kernelSlabGrowthKiBAfterLogins;
    }
    measurement.seconds = Clock::now() - start;
    return measurement;
}

Measurement measureIndexd(const Workload& workload, LoginCryptoCost::Figures& crypto)
{
    const auto start = Clock::now();
    Measurement measurement;
    measurement.heading = "indexd (this build), peerchat/3 for real";
    measurement.column = "indexd";
    const IndexdFanout::Options options;
    {
        IndexdFanout indexd(workload.graph, options);
        measurement.setup = std::to_string(workload.graph.size()) + " users, each with its own identity key and UDP "
            "socket, in " + std::to_string(indexd.workers()) + " worker processes; up to "
            + std::to_string(options.loginsInFlight) + " logins at once (a window that halves when indexd answers "
            "late), up to " + std::to_string(options.actionsInFlight) + " state changes or logouts at once;\n  "
            "a login is done when its snapshot is in; deliveries are the here and gone entries each roster needed";
        indexd.start();
        const IndexdFanout::Result result = indexd.run(workload.stateChangers, workload.leavers);
        for (const IndexdFanout::Phase& phase : result.phases) {
            measurement.phases.push_back(PhaseFigures{phase.name, phase.events, phase.deliveries,
                                                      phase.expectedDeliveries, phase.wall, phase.convergence,
                                                      phase.deliveriesPerSecond(), phase.serverCpu,
                                                      phase.otherEntries, phase.crowdCpu});
            if (phase.gaps > 0 || phase.resends > 0 || phase.regressions > 0)
                measurement.setup += "\n  " + phase.name + ": " + std::to_string(phase.gaps) + " presence gaps, "
                    + std::to_string(phase.resends) + " steps sent again, " + std::to_string(phase.regressions)
                    + " entries that set a roster back";
        }
        measurement.setup += "\n  login steps sent: " + std::to_string(result.traffic.hellos) + " hellos, "
            + std::to_string(result.traffic.auths) + " auths, " + std::to_string(result.traffic.declarations)
            + " contact list parts (logins and state changes); " + std::to_string(result.traffic.refusals)
            + " refusals, " + std::to_string(result.traffic.unexpected) + " datagrams not taken";
        measurement.serverResidentKiBAfterLogins = result.serverResidentKiBAfterLogins;
        measurement.serverResidentKiBBeforeLogins = result.serverResidentKiBBeforeLogins;
        crypto = result.crypto;
    }
    measurement.seconds = Clock::now() - start;
    return measurement;
}

// The ratios the comparison is for: indexd's deliveries per second over
// Redis's, per phase; indexd's memory per online user; its CPU per login
// over the public-key work of a login alone.
void printRatios(const Measurement& redis, const Measurement& indexd, std::size_t users,
                 const LoginCryptoCost::Figures& crypto)
{
    std::printf("\nindexd / Redis, deliveries per second:");
    for (std::size_t phase = 0; phase < indexd.phases.size(); ++phase) {
        const double reference = redis.phases[phase].deliveriesPerSecond;
        std::printf("%s %s %s", phase == 0 ? "" : ",", indexd.phases[phase].name.c_str(),
                    reference > 0 ? fixed(indexd.phases[phase].deliveriesPerSecond / reference, 2).c_str() : "-");
    }
    const double grownKiB = static_cast<double>(indexd.serverResidentKiBAfterLogins)
        - static_cast<double>(indexd.serverResidentKiBBeforeLogins.value_or(0));
    std::printf("\nindexd RSS per online user: %.0f bytes (%.1f MiB before the logins, %.1f MiB after)\n",
                users > 0 ? grownKiB * 1024 / static_cast<double>(users) : 0.0,
                static_cast<double>(indexd.serverResidentKiBBeforeLogins.value_or(0)) / 1024,
                static_cast<double>(indexd.serverResidentKiBAfterLogins) / 1024);
    const PhaseFigures& logins = indexd.phases.front();
    const double cpuPerLogin = logins.events > 0
        ? static_cast<double>(logins.serverCpu.count()) * 1000 / static_cast<double>(logins.events)
        : 0.0;
    const double cryptoPerLogin = crypto.perLogin().count();
    std::printf("indexd CPU per login: %.0f us; its public-key work alone %.0f us (sign challenge %.1f, verify auth "
                "%.1f, verify KXSIG %.1f, derive session %.1f, sign welcome %.1f, verify contact list %.1f; mean of "
                "%zu rounds each, thread CPU); ratio %.2f\n",
                cpuPerLogin, cryptoPerLogin, crypto.signChallenge.count(), crypto.verifyAuth.count(),
                crypto.verifyKx.count(), crypto.deriveSession.count(), crypto.signWelcome.count(),
                crypto.verifyContacts.count(), crypto.iterations,
                cryptoPerLogin > 0 ? cpuPerLogin / cryptoPerLogin : 0.0);
}

// Prints a row: its label, then a column per half.
template <typename Cell>
void printRow(const char* label, const std::vector<Measurement>& halves, Cell cell)
{
    std::printf("  %-32s", label);
    for (const Measurement& half : halves) std::printf(" %24s", cell(half).c_str());
    std::printf("\n");
}

// The halves side by side, a column each, a block of rows per phase.
void printTable(const std::vector<Measurement>& halves)
{
    for (const Measurement& half : halves) std::printf("%s\n  %s\n", half.heading.c_str(), half.setup.c_str());
    std::printf("\n  %-32s", "");
    for (const Measurement& half : halves) std::printf(" %24s", half.column.c_str());
    std::printf("\n");
    for (std::size_t phase = 0; phase < halves.front().phases.size(); ++phase) {
        const auto figures = [phase](const Measurement& half) -> const PhaseFigures& { return half.phases[phase]; };
        std::printf("%s\n", halves.front().phases[phase].name.c_str());
        printRow("events sent", halves, [&](const Measurement& h) { return std::to_string(figures(h).events); });
        printRow("deliveries read / expected", halves, [&](const Measurement& h) {
            return std::to_string(figures(h).deliveries) + " / " + std::to_string(figures(h).expectedDeliveries);
        });
        printRow("wall s", halves, [&](const Measurement& h) { return fixed(figures(h).wall.count(), 3); });
        printRow("converged after s", halves,
                 [&](const Measurement& h) { return fixed(figures(h).convergence.count(), 3); });
        printRow("deliveries/s", halves,
                 [&](const Measurement& h) { return fixed(figures(h).deliveriesPerSecond, 0); });
        printRow("server CPU s", halves, [&](const Measurement& h) {
            return fixed(static_cast<double>(figures(h).serverCpu.count()) / 1000, 2);
        });
        printRow("load generator CPU s", halves, [&](const Measurement& h) {
            return figures(h).clientCpu ? fixed(static_cast<double>(figures(h).clientCpu->count()) / 1000, 2)
                                        : std::string("-");
        });
        printRow("other entries read", halves, [&](const Measurement& h) {
            return figures(h).otherEntries ? std::to_string(*figures(h).otherEntries) : std::string("-");
        });
    }
    std::printf("memory\n");
    const auto mebibytes = [](const std::optional<std::size_t>& kib) {
        return kib ? fixed(static_cast<double>(*kib) / 1024, 1) : std::string("-");
    };
    printRow("server RSS before logins MiB", halves,
             [&](const Measurement& h) { return mebibytes(h.serverResidentKiBBeforeLogins); });
    printRow("server RSS after logins MiB", halves,
             [&](const Measurement& h) { return mebibytes(h.serverResidentKiBAfterLogins); });
    printRow("kernel slab growth by then MiB", halves,
             [&](const Measurement& h) { return mebibytes(h.kernelSlabGrowthKiBAfterLogins); });
    printRow("whole half s", halves, [](const Measurement& h) { return fixed(h.seconds.count(), 1); });
}

// The most resident memory this process has had, in KiB (VmHWM); 0 when unreadable.
std::size_t peakResidentKiB()
{
    std::ifstream status("/proc/self/status");
    std::string word;
    while (status >> word) {
        if (word == "VmHWM:") {
            std::size_t kib = 0;
            status >> kib;
            return kib;
        }
    }
    return 0;
}

std::size_t parseCount(const char* text)
{
    const std::string_view digits(text);
    std::size_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size())
        throw std::invalid_argument("usage: IndexScaleBench [users] [contacts]  (\"" + std::string(digits)
                                    + "\" is not a count)");
    return value;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        if (argc > 3) throw std::invalid_argument("usage: IndexScaleBench [users] [contacts]");
        const std::size_t users = argc > 1 ? parseCount(argv[1]) : 100000;
        const std::size_t contacts = argc > 2 ? parseCount(argv[2]) : 50;

        const auto drawStart = Clock::now();
        Workload workload{ContactGraph(users, contacts, graphSeed), {}, {}};
        workload.stateChangers = workload.graph.sampleUsers(users / 10, stateChangeSeed);
        workload.leavers = workload.graph.sampleUsers(users / 10, logoutSeed);
        const std::chrono::duration<double> drawn = Clock::now() - drawStart;
        std::printf("IndexScaleBench: %zu users with %zu contacts each (%zu short in all; drawn in %.2f s); "
                    "%zu change state, %zu log out\n\n",
                    users, contacts, workload.graph.missingContacts(), drawn.count(), workload.stateChangers.size(),
                    workload.leavers.size());
        std::fflush(stdout);

        std::vector<Measurement> halves;
        halves.push_back(measureRedis(workload));
        LoginCryptoCost::Figures crypto;
        halves.push_back(measureIndexd(workload, crypto));
        printTable(halves);
        printRatios(halves[0], halves[1], users, crypto);
        std::printf("\nIndexScaleBench's own peak RSS: %.1f MiB\n", static_cast<double>(peakResidentKiB()) / 1024);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "IndexScaleBench: %s\n", e.what());
        return 1;
    }
}
