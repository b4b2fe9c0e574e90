#include "LockedSecret.h"

#include "SigningKey.h"

#include <Poco/Exception.h>

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace peerchat::locked_memory {

void* allocate(std::size_t size)
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

void release(void* memory) noexcept
{
    // sodium_free wipes the bytes before it unmaps them.
    sodium_free(memory);
}

void throwMovedFrom()
{
    throw Poco::NullPointerException("a secret key was read after it had been moved elsewhere");
}

} // namespace peerchat::locked_memory
