#pragma once

namespace peerchat {

/// Gives the pages of memory freed so far back to the system, where the
/// allocator peerd is linked with keeps them for later allocations: jemalloc
/// (docs/PERFORMANCE.md, fourteenth step) purges them after about ten
/// seconds on its own, glibc's malloc never. For after a burst that is over,
/// such as a stalled client's backlog dropped; it costs a system call per
/// run of free pages, so not for every free.
void returnFreedMemory();

} // namespace peerchat
