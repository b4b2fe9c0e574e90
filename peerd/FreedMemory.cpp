#include "FreedMemory.h"

#if defined(PEERCHAT_JEMALLOC)
#include <jemalloc/jemalloc.h>
#include <string>
#elif defined(__GLIBC__)
#include <malloc.h>
#endif

namespace peerchat {

void returnFreedMemory()
{
#if defined(PEERCHAT_JEMALLOC)
    // Every arena's unused dirty pages (MALLCTL_ARENAS_ALL names them all).
    static const std::string purgeAll = "arena." + std::to_string(MALLCTL_ARENAS_ALL) + ".purge";
    mallctl(purgeAll.c_str(), nullptr, nullptr, nullptr, 0);
#elif defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

} // namespace peerchat
