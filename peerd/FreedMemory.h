#pragma once

namespace peerchat {

/// Gives the pages of memory freed so far back to the system, where the
/// allocator peerd is linked with keeps them for later allocations: jemalloc
/// (docs/PERFORMANCE.md, fourteenth step) purges them on its own only some
/// seconds later; in a build without it (the sanitizers') this is glibc's
/// malloc_trim. For after a burst that is over, such as a stalled client's
/// backlog dropped; it costs a system call per run of free pages, so not
/// for every free.
void returnFreedMemory();

} // namespace peerchat
