#include "Report.h"

#include "StressContext.h"

#include <chrono>
#include <cstdio>

namespace peerchat::stress {

namespace {

double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void line(const char* format, const std::string& a, const std::string& b)
{
    std::printf(format, a.c_str(), b.c_str());
    std::fflush(stdout);
}

} // namespace

void Report::begin(int row, const std::string& name, const std::string& title)
{
    _sections.push_back(Section{row, name, 0, {}, 0, 0, 0, {}});
    _startedAt = now();
    std::printf("\n== row %d, %s: %s\n", row, name.c_str(), title.c_str());
    std::fflush(stdout);
}

void Report::figure(const std::string& label, const std::string& value)
{
    line("   %-38s %s\n", label, value);
}

void Report::bound(const std::string& what, bool held, const std::string& measured)
{
    Section& s = _sections.back();
    ++s.bounds;
    if (!held) s.failedBounds.push_back(what + " (" + measured + ")");
    line(held ? "   bound held:   %s (%s)\n" : "   BOUND FAILED: %s (%s)\n", what, measured);
}

void Report::goal(const std::string& what, bool held, const std::string& measured)
{
    Section& s = _sections.back();
    ++s.goals;
    s.goalsHeld += held;
    line(held ? "   goal met:     %s (%s)\n" : "   goal missed:  %s (%s)\n", what, measured);
}

void Report::broke(const std::string& why)
{
    _sections.back().broke = why;
    std::printf("   BROKE OFF:    %s\n", why.c_str());
    std::fflush(stdout);
}

void Report::end()
{
    _sections.back().seconds = now() - _startedAt;
}

bool Report::summary() const
{
    bool passed = true;
    std::printf("\n== summary: the bounds of issue 9 (goals are the packages' own, not counted)\n");
    for (const Section& s : _sections) {
        const bool ok = s.failedBounds.empty() && s.broke.empty();
        passed = passed && ok;
        std::printf("   %2d %-20s %5.0f s  %s: %zu of %zu bounds held, %zu of %zu goals met\n", s.row, s.name.c_str(),
                    s.seconds, ok ? "pass" : "FAIL", s.bounds - s.failedBounds.size(), s.bounds, s.goalsHeld,
                    s.goals);
        for (const std::string& failed : s.failedBounds) std::printf("        failed: %s\n", failed.c_str());
        if (!s.broke.empty()) std::printf("        broke off: %s\n", s.broke.c_str());
    }
    std::printf("== %s\n", passed ? "every bound held" : "a bound failed or a scenario broke off");
    std::fflush(stdout);
    return passed;
}

std::string Report::megabytes(double bytes)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.2f MB", bytes / 1e6);
    return text;
}

std::string Report::megabytesPer30s(double bytes, double seconds)
{
    return megabytes(bytes) + " (" + megabytes(StressContext::per30s(bytes, seconds)) + " per 30 s)";
}

std::string Report::count(std::uint64_t n)
{
    std::string digits = std::to_string(n);
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
        digits.insert(static_cast<std::size_t>(at), ",");
    return digits;
}

std::string Report::duration(double seconds)
{
    char text[32];
    if (seconds < 1) std::snprintf(text, sizeof text, "%.1f ms", seconds * 1e3);
    else std::snprintf(text, sizeof text, "%.2f s", seconds);
    return text;
}

std::string Report::ratio(double r)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.2fx", r);
    return text;
}

} // namespace peerchat::stress
