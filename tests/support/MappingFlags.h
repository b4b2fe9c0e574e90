#pragma once

#include <set>
#include <string>

namespace peerchat::test {

/// The kernel's flags for the mapping that holds an address of this process
/// (the `VmFlags:` line of /proc/self/smaps: `lo` locked, `dd` left out of
/// core dumps, ...), to see that secrets live where they should.
class MappingFlags
{
public:
    /// The flags of the mapping holding address; empty when /proc/self/smaps
    /// cannot be read or names no such mapping.
    static std::set<std::string> of(const void* address);

    /// True when this process may lock a few more pages (RLIMIT_MEMLOCK of at
    /// least 1 MiB, not built with AddressSanitizer): only then must secrets
    /// show `lo`.
    static bool mayLockPages();

    /// Fails the current test unless the mapping holding address is left out
    /// of core dumps (`dd`) and, where mayLockPages(), locked (`lo`).
    static void assertHoldsSecrets(const void* address);
};

} // namespace peerchat::test
