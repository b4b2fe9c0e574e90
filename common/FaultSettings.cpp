#include "FaultSettings.h"

#include <charconv>
#include <cstdio>

namespace peerchat {

namespace {

bool parseRate(std::string_view text, double& out)
{
    // from_chars for double needs GCC 11+, which Debian 12 has.
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && error == std::errc() && end == text.data() + text.size() && out >= 0 && out <= 1;
}

bool parseNumber(std::string_view text, std::uint64_t max, std::uint64_t& out)
{
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && error == std::errc() && end == text.data() + text.size() && out <= max;
}

} // namespace

Parsed<FaultSettings> FaultSettings::parse(std::string_view spec)
{
    FaultSettings s;
    if (spec.empty() || spec == "off") return s;
    for (bool more = true; more;) {
        const auto comma = spec.find(',');
        const std::string_view item = spec.substr(0, comma);
        more = comma != std::string_view::npos;
        if (more) spec.remove_prefix(comma + 1);
        const auto eq = item.find('=');
        const std::string_view key = item.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        std::uint64_t number = 0;
        if (key == "drop" && parseRate(value, s.drop)) continue;
        if (key == "dup" && parseRate(value, s.duplicate)) continue;
        if (key == "reorder" && parseRate(value, s.reorder)) continue;
        if (key == "delay" && parseNumber(value, 60000, number)) {
            s.delay = std::chrono::milliseconds(number);
            continue;
        }
        if (key == "seed" && parseNumber(value, UINT64_MAX, number)) {
            s.seed = number;
            continue;
        }
        return Parsed<FaultSettings>::refuse("'" + std::string(item)
                                             + "' is not one of drop=RATE, dup=RATE, reorder=RATE (0..1), "
                                               "delay=MS (0..60000), seed=N");
    }
    return s;
}

std::string FaultSettings::toString() const
{
    char text[160];
    std::snprintf(text, sizeof text, "drop=%g,dup=%g,reorder=%g,delay=%lld,seed=%llu", drop, duplicate, reorder,
                  static_cast<long long>(delay.count()), static_cast<unsigned long long>(seed));
    return text;
}

} // namespace peerchat
