#include "MappingFlags.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <sys/resource.h>

namespace peerchat::test {

std::set<std::string> MappingFlags::of(const void* address)
{
    const auto wanted = reinterpret_cast<std::uintptr_t>(address);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        unsigned long long begin = 0;
        unsigned long long end = 0;
        // A mapping's first line starts "BEGIN-END "; its other lines start with a field name.
        if (std::sscanf(line.c_str(), "%llx-%llx ", &begin, &end) == 2) {
            inside = begin <= wanted && wanted < end;
            continue;
        }
        if (!inside || line.rfind("VmFlags:", 0) != 0) continue;
        std::istringstream words(line.substr(8));
        std::set<std::string> flags;
        for (std::string flag; words >> flag;) flags.insert(flag);
        return flags;
    }
    return {};
}

bool MappingFlags::mayLockPages()
{
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer (GCC and clang define this) turns mlock into a no-op.
    return false;
#else
    rlimit limit{};
    if (::getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return false;
    return limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= (1u << 20);
#endif
}

void MappingFlags::assertHoldsSecrets(const void* address)
{
    const auto flags = of(address);
    CPPUNIT_ASSERT_MESSAGE("no mapping found in /proc/self/smaps", !flags.empty());
    CPPUNIT_ASSERT_MESSAGE("secret memory would go into a core dump (no dd flag)", flags.count("dd") == 1);
    if (mayLockPages()) CPPUNIT_ASSERT_MESSAGE("secret memory is not locked (no lo flag)", flags.count("lo") == 1);
}

} // namespace peerchat::test
