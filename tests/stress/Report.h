#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace peerchat::stress {

/// What the scenarios found, printed as it comes (a run takes minutes): per
/// scenario its figures, the bounds of issue 9 it checks (each held or not;
/// a bound that failed makes the run fail) and the goals the hardening
/// packages set themselves (printed, not counted); at the end a summary.
class Report
{
public:
    /// Starts the section of one scenario: row is the row.
    void begin(int row, const std::string& name, const std::string& title);
    /// A measured figure, as "label  value".
    void figure(const std::string& label, const std::string& value);
    /// A bound of issue 9: held or not, with what was measured.
    void bound(const std::string& what, bool held, const std::string& measured);
    /// A goal short of a bound of the issue: printed, not counted.
    void goal(const std::string& what, bool held, const std::string& measured);
    /// The scenario stopped before its end, for why; counted as a failure.
    void broke(const std::string& why);
    /// Ends the section begun last.
    void end();

    /// Prints a line per scenario; true when every bound held and every scenario ran to its end.
    bool summary() const;

    /// bytes as "12.3 MB" (10^6 bytes, as the issue counts).
    static std::string megabytes(double bytes);
    /// "1,234,567"
    static std::string count(std::uint64_t n);
    /// "12.3 ms" below a second, else "1.23 s".
    static std::string duration(double seconds);
    /// bytes measured over seconds, and scaled to 30 s: "1.00 MB (6.00 MB per 30 s)".
    static std::string megabytesPer30s(double bytes, double seconds);
    /// "12.3x"
    static std::string ratio(double r);

private:
    struct Section
    {
        int row = 0;
        std::string name;
        double seconds = 0;
        std::vector<std::string> failedBounds;
        std::size_t bounds = 0;
        std::size_t goals = 0;
        std::size_t goalsHeld = 0;
        std::string broke;
    };

    std::vector<Section> _sections;
    double _startedAt = 0;
};

} // namespace peerchat::stress
