// Presence fan-out at the scale of a large network: USERS simulated users
// (100,000 unless told), each with CONTACTS contacts (50) from a seeded
// random ContactGraph, come online one after another; then 10% of them
// change state, then 10% log out. Each event is due to every online contact
// of its user. Per phase it measures the wall time, the events published,
// the deliveries counted at the receivers against those the server reports,
// deliveries per second and the time until the last one arrived, and the
// server's CPU time; and the server's memory once everyone is online. The
// reference is Redis pub/sub doing the same fan-out (a channel per user, each
// user subscribed to its contacts' channels; users share subscriber
// connections, never two with a channel in common, to fit the open-file
// limit, see RedisFanout); indexd's half is to run beside it, over the same
// graph and the same users.
#include "ContactGraph.h"
#include "RedisFanout.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace peerchat;
using bench::ContactGraph;
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
    /// The kernel's slab memory the logins added (sockets, machine-wide).
    std::size_t kernelSlabGrowthKiBAfterLogins = 0;
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
                                                      phase.deliveriesPerSecond(), phase.serverCpu});
        }
        measurement.serverResidentKiBAfterLogins = result.serverResidentKiBAfterLogins;
        measurement.kernelSlabGrowthKiBAfterLogins = result.kernelSlabGrowthKiBAfterLogins;
    }
    measurement.seconds = Clock::now() - start;
    return measurement;
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
    }
    std::printf("memory\n");
    printRow("server RSS after logins MiB", halves, [](const Measurement& h) {
        return fixed(static_cast<double>(h.serverResidentKiBAfterLogins) / 1024, 1);
    });
    printRow("kernel slab growth by then MiB", halves, [](const Measurement& h) {
        return fixed(static_cast<double>(h.kernelSlabGrowthKiBAfterLogins) / 1024, 1);
    });
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
        printTable(halves);
        std::printf("\nIndexScaleBench's own peak RSS: %.1f MiB\n", static_cast<double>(peakResidentKiB()) / 1024);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "IndexScaleBench: %s\n", e.what());
        return 1;
    }
}
