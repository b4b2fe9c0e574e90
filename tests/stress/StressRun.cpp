// make stress: the rows of issue 9 tried at full rate against the real
// daemons of the build, each for STRESS_SECONDS (default 30), printing the
// figures and whether each bound of the issue held. Not part of make check.
// Needs root: it forges source addresses, captures on lo and mounts a tmpfs.
// See docs/TESTING.md.
#include "Report.h"
#include "Scenario.h"
#include "StressContext.h"


#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/resource.h>
#include <unistd.h>

using namespace peerchat::stress;

namespace {

// Descriptors the run asks for; the daemons inherit the limit. It needs
// about kNeededDescriptors: 2,000 seed users online and 4,000 roster
// connections at once.
constexpr rlim_t kDescriptors = 65536;
constexpr rlim_t kNeededDescriptors = 8192;

std::vector<Scenario> allScenarios()
{
    std::vector<Scenario> all;
    for (auto part : {indexdScenarios(), floodScenarios(), loginScenarios(), localScenarios()})
        all.insert(all.end(), part.begin(), part.end());
    std::sort(all.begin(), all.end(), [](const Scenario& a, const Scenario& b) { return a.row < b.row; });
    return all;
}

// The soft limit up to the hard one (raising that takes CAP_SYS_RESOURCE).
void raiseDescriptorLimit()
{
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::max(limit.rlim_cur, std::min(limit.rlim_max, kDescriptors));
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < kNeededDescriptors) {
        std::fprintf(stderr, "StressRun: only %lu descriptors (the roster scenario needs about %lu)\n",
                     static_cast<unsigned long>(limit.rlim_cur), static_cast<unsigned long>(kNeededDescriptors));
    }
}

std::string loadAverage()
{
    std::ifstream file("/proc/loadavg");
    std::string one, five, fifteen;
    file >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

void usage(const std::vector<Scenario>& scenarios)
{
    std::printf("usage: StressRun [--seconds N] [ROW|NAME ...]\n"
                "Runs the scenarios of issue 9 (all, or those named) against the daemons in %s.\n"
                "--seconds N  seconds of flood per scenario (default $STRESS_SECONDS, else 30)\n\n",
                PEERCHAT_BIN_DIR);
    for (const Scenario& s : scenarios) std::printf("  %2d %-20s %s\n", s.row, s.name.c_str(), s.title.c_str());
}

} // namespace

int main(int argc, char** argv)
{
    const std::vector<Scenario> scenarios = allScenarios();
    const char* fromEnvironment = std::getenv("STRESS_SECONDS");
    long seconds = fromEnvironment && *fromEnvironment ? std::atol(fromEnvironment) : 30;
    std::vector<Scenario> chosen;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            usage(scenarios);
            return 0;
        }
        if (arg == "--seconds" && i + 1 < argc) {
            seconds = std::atol(argv[++i]);
            continue;
        }
        const auto match = std::find_if(scenarios.begin(), scenarios.end(), [&](const Scenario& s) {
            return s.name == arg || std::to_string(s.row) == arg;
        });
        if (match == scenarios.end()) {
            std::fprintf(stderr, "StressRun: no scenario %s\n\n", arg.c_str());
            usage(scenarios);
            return 2;
        }
        chosen.push_back(*match);
    }
    if (seconds < 1) {
        std::fprintf(stderr, "StressRun: --seconds (STRESS_SECONDS) must be at least 1\n");
        return 2;
    }
    if (chosen.empty()) chosen = scenarios;
    if (::geteuid() != 0) {
        std::fprintf(stderr, "StressRun needs root: it forges source addresses through a raw socket, counts "
                             "traffic on lo with a packet socket and mounts a tmpfs; run `sudo make stress`\n");
        return 2;
    }

    std::signal(SIGPIPE, SIG_IGN);
    StressContext::catchStopSignals();
    raiseDescriptorLimit();
    const StressContext context{std::chrono::seconds(seconds)};
    std::printf("StressRun: %zu scenarios, %ld s of flood each, daemons from %s; load average %s\n", chosen.size(),
                seconds, PEERCHAT_BIN_DIR, loadAverage().c_str());
    Report report;
    for (const Scenario& scenario : chosen) {
        report.begin(scenario.row, scenario.name, scenario.title);
        try {
            scenario.run(context, report);
        } catch (const std::exception& e) {
            report.broke(e.what());
        }
        if (StressContext::stopping()) report.broke("stopped by a signal: its figures are partial");
        report.end();
        if (StressContext::stopping()) break;
    }
    return report.summary() && !StressContext::stopping() ? 0 : 1;
}
