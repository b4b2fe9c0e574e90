#include "Sanitizers.h"

#include <cstdlib>

namespace peerchat::test {

std::map<std::string, std::string> environmentForMemoryMeasurement()
{
    if (!kSanitized) return {};
    const char* inherited = std::getenv("ASAN_OPTIONS");
    std::string options = inherited ? std::string(inherited) + ":" : std::string();
    // Later options win, so those of tests/sanitizers/run-ctest.sh stay as they are otherwise.
    options += "quarantine_size_mb=1";
    return {{"ASAN_OPTIONS", options}};
}

} // namespace peerchat::test
