#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

namespace peerchat {

/// Locked memory for secrets: locked in RAM (mlock, so never swapped out;
/// where RLIMIT_MEMLOCK runs out the bytes stay unlocked but are still
/// served), marked MADV_DONTDUMP (left out of core dumps) and wiped when
/// released. The building blocks of LockedSecret.
namespace locked_memory {

/// size bytes for a secret, zeroed and aligned for a type of that size: a
/// slot shared with other small secrets (LockedPool::shared()) up to
/// LockedPool::kLargestSlot, else pages of their own (allocatePages).
/// Throws Poco::OutOfMemoryException when the system has none to give.
void* allocate(std::size_t size);
/// Wipes and frees memory from allocate(size).
void release(void* memory, std::size_t size) noexcept;
/// size bytes in mappings of their own (libsodium's sodium_malloc): locked,
/// MADV_DONTDUMP, fenced by guard pages, zeroed; throws
/// Poco::OutOfMemoryException when the system has none to give. Calls
/// sodium_init first.
void* allocatePages(std::size_t size);
/// Wipes and unmaps memory from allocatePages; nullptr is ignored.
void releasePages(void* memory) noexcept;
/// Throws Poco::NullPointerException saying a moved-from secret was read
/// (out of line, so this header needs no POCO).
[[noreturn]] void throwMovedFrom();

} // namespace locked_memory

/// One secret value (a key, a seed, a pair of session keys) held in locked
/// memory of its own (locked_memory): never swapped out, never in a core
/// dump, wiped when the holder goes. Move-only, like std::unique_ptr: a copy
/// would be one more place the secret lives, so copying takes clone(). A
/// moved-from holder is empty and throws Poco::NullPointerException when
/// read. A holder of up to LockedPool::kLargestSlot bytes shares locked
/// pages with other secrets and costs its size rounded up to a power of two
/// (at least 32 bytes); a larger one costs pages of its own.
template <typename T>
class LockedSecret
{
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                  "a LockedSecret holds plain bytes: arrays of bytes, or structs of them");
    static_assert(alignof(T) <= alignof(std::max_align_t), "locked memory is aligned for ordinary types only");

public:
    /// A zeroed T in fresh locked memory.
    LockedSecret() : _value(new (locked_memory::allocate(sizeof(T))) T{}) {}

    LockedSecret(LockedSecret&&) noexcept = default;
    LockedSecret& operator=(LockedSecret&&) noexcept = default;
    LockedSecret(const LockedSecret&) = delete;
    LockedSecret& operator=(const LockedSecret&) = delete;
    ~LockedSecret() = default;

    /// The same secret in locked memory of its own.
    LockedSecret clone() const
    {
        LockedSecret copy;
        *copy = **this;
        return copy;
    }

    /// False once the secret has been moved elsewhere.
    bool holds() const { return static_cast<bool>(_value); }

    T& operator*() { return *checked(); }
    const T& operator*() const { return *checked(); }
    T* operator->() { return checked(); }
    const T* operator->() const { return checked(); }

private:
    struct Release
    {
        void operator()(T* value) const noexcept { locked_memory::release(value, sizeof(T)); }
    };

    T* checked() const
    {
        if (!_value) locked_memory::throwMovedFrom();
        return _value.get();
    }

    std::unique_ptr<T, Release> _value;
};

} // namespace peerchat
