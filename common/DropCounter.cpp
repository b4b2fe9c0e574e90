#include "DropCounter.h"

#include <numeric>
#include <utility>

namespace peerchat {

namespace {

// Longest example detail a summary repeats: a detail may quote what an
// attacker sent, and the summary line must stay one short line.
constexpr std::size_t kMaxDetailBytes = 160;

// detail cut to kMaxDetailBytes on a UTF-8 character boundary, with ASCII
// control characters shown as '?', so a log line stays one line.
std::string shortened(std::string_view detail)
{
    std::size_t end = detail.size();
    if (end > kMaxDetailBytes) {
        end = kMaxDetailBytes;
        while (end > 0 && (static_cast<unsigned char>(detail[end]) & 0xC0) == 0x80) --end;
    }
    std::string out(detail.substr(0, end));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
    }
    return end < detail.size() ? out + "..." : out;
}

} // namespace

DropCounter::DropCounter(std::string unit) : _unit(std::move(unit)) {}

std::string_view DropCounter::name(DropReason reason)
{
    switch (reason) {
    case DropReason::Oversize: return "oversize";
    case DropReason::Malformed: return "malformed";
    case DropReason::RateLimited: return "rate-limited";
    case DropReason::Stranger: return "from strangers";
    case DropReason::Unauthentic: return "not authentic";
    case DropReason::Unexpected: return "unexpected";
    case DropReason::Refused: return "refused";
    case DropReason::Slow: return "too slow";
    case DropReason::Failed: return "failed here";
    }
    return "unexpected";
}

void DropCounter::count(DropReason reason, const Endpoint& source, std::string_view detail)
{
    const std::size_t i = index(reason);
    if (_interval[i] == 0) _examples[i] = Example{source.toString(), shortened(detail)};
    ++_interval[i];
    ++_total[i];
}

std::string DropCounter::takeSummary(std::chrono::milliseconds interval)
{
    const std::uint64_t dropped = std::accumulate(_interval.begin(), _interval.end(), std::uint64_t{0});
    if (dropped == 0) return {};
    std::string summary = "dropped " + std::to_string(dropped) + " " + _unit + (dropped == 1 ? "" : "s") +
                          " in the last " + std::to_string(interval.count()) + " ms:";
    const char* separator = " ";
    for (std::size_t i = 0; i < kReasons; ++i) {
        if (_interval[i] == 0) continue;
        summary += separator + std::to_string(_interval[i]) + " " + std::string(name(static_cast<DropReason>(i))) +
                   " (first from " + _examples[i].source;
        if (!_examples[i].detail.empty()) summary += ": " + _examples[i].detail;
        summary += ")";
        separator = ", ";
        _interval[i] = 0;
        _examples[i] = Example{};
    }
    return summary;
}

std::uint64_t DropCounter::total() const
{
    return std::accumulate(_total.begin(), _total.end(), std::uint64_t{0});
}

} // namespace peerchat
