#pragma once

#include "Report.h"
#include "StressContext.h"

#include <functional>
#include <string>
#include <vector>

namespace peerchat::stress {

/// One row of issue 9's table, tried at full rate against the real daemons
/// of the build: it reports its figures and bounds to the Report, stops by
/// itself within its flood time plus its setup and grace periods, and
/// leaves nothing behind (its objects own the daemons, threads and mounts).
/// A scenario that cannot go on throws; the run reports why and goes on.
struct Scenario
{
    int row = 0;
    std::string name;   ///< for the command line, e.g. "mailbox"
    std::string title;  ///< what is done
    std::function<void(const StressContext&, Report&)> run;
};

/// Rows 1, 2, 8, 9: abuse of what indexd offers (mailbox, legacy logins, seed roster port, login churn).
std::vector<Scenario> indexdScenarios();
/// Rows 4, 5, 6: floods of garbage and oversize datagrams, with probe lines between two real users.
std::vector<Scenario> floodScenarios();
/// Rows 3, 7: forged login traffic at a peerd whose first login is pending.
std::vector<Scenario> loginScenarios();
/// Rows 10, 11, 12: peerd's disk and local socket.
std::vector<Scenario> localScenarios();

} // namespace peerchat::stress
