#include "LockedSecret.h"

#include "LockedPool.h"
#include "SigningKey.h"

#include <Poco/Exception.h>

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace peerchat::locked_memory {

void* allocate(std::size_t size)
{
    if (size <= LockedPool::kLargestSlot) return LockedPool::shared().take(size);
    return allocatePages(size);
}

void release(void* memory, std::size_t size) noexcept
{
    if (size <= LockedPool::kLargestSlot)
        LockedPool::shared().giveBack(memory, size);
    else
        releasePages(memory);
}

void* allocatePages(std::size_t size)
{
    Sodium::init();
    // sodium_malloc mlocks and madvises the pages itself; it places the bytes
    // flush against the guard page after them, so a size that is a multiple of
    // the type's alignment stays aligned (sizeof always is).
    void* memory = sodium_malloc(size);
    if (!memory)
        throw Poco::OutOfMemoryException("cannot allocate " + std::to_string(size)
                                         + " bytes of locked memory for a secret key (sodium_malloc: "
                                         + std::strerror(errno) + "); free memory or raise the process's limits");
    sodium_memzero(memory, size);
    return memory;
}

void releasePages(void* memory) noexcept
{
    // sodium_free wipes the bytes before it unmaps them.
    sodium_free(memory);
}

void throwMovedFrom()
{
    throw Poco::NullPointerException("a secret key was read after it had been moved elsewhere");
}

} // namespace peerchat::locked_memory
