#include "DropLog.h"

namespace peerchat {

DropLog::DropLog(Timers& timers, std::chrono::milliseconds interval)
    : _interval(interval), _reportTimer(timers), _logger(Poco::Logger::get("peerd.wire"))
{
}

void DropLog::drop(DropReason reason, const Endpoint& from, std::string_view detail)
{
    _drops.count(reason, from, detail);
    if (_logger.debug()) _logger.debug("dropped datagram from " + from.toString() + ": " + std::string(detail));
    if (!_reportTimer.armed()) _reportTimer.start(_interval, [this] { report(); });
}

void DropLog::report()
{
    const std::string summary = _drops.takeSummary(_interval);
    if (!summary.empty()) _logger.warning(summary);
}

} // namespace peerchat
