#pragma once

#include "DropCounter.h"
#include "Endpoint.h"
#include "Timers.h"

#include <Poco/Logger.h>

#include <chrono>
#include <string_view>

namespace peerchat {

/// Where peerd's wire drops datagrams: each is counted (DropCounter) and
/// logged at debug level only, and a summary follows within one interval as
/// a warning, so no outsider can set the pace of the log.
class DropLog
{
public:
    DropLog(Timers& timers, std::chrono::milliseconds interval);

    void drop(DropReason reason, const Endpoint& from, std::string_view detail);

private:
    void report();

    std::chrono::milliseconds _interval;
    DropCounter _drops;
    Timer _reportTimer;  ///< armed while drops wait to be summarised
    Poco::Logger& _logger;
};

} // namespace peerchat
