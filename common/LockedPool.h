#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <vector>

namespace peerchat {

/// Small secrets packed side by side in shared blocks of locked memory, so
/// that a 64-byte pair of session keys costs 64 bytes rather than the pages
/// of a sodium_malloc of its own. Each block is 16 pages of
/// locked_memory::allocatePages (locked while RLIMIT_MEMLOCK allows,
/// MADV_DONTDUMP, between guard pages) cut into slots of one size: 32, 64,
/// 128, 256 or 512 bytes; a secret takes the smallest slot that holds it. A
/// slot given back is wiped, then serves the next secret of its size. What a
/// slot gives up against pages of its own: the guard pages between it and
/// its neighbours, so a write past the end of one secret would reach
/// another's bytes rather than fault.
/// Blocks stay until the pool goes (the process's pool: never), even when
/// all their slots are free again: a daemon needs its peak again (indexd's
/// is the most users it must serve), sessions end in any order so a block
/// seldom empties whole, and a free slot is wiped, so what stays holds no
/// secret. Thread-safe: one mutex around the slots.
class LockedPool
{
public:
    /// The largest secret the pool serves.
    static constexpr std::size_t kLargestSlot = 512;

    /// The process's pool; never destroyed, so that secrets held by static
    /// objects can still be given back at exit.
    static LockedPool& shared();

    LockedPool() = default;
    LockedPool(const LockedPool&) = delete;
    LockedPool& operator=(const LockedPool&) = delete;
    /// Frees the blocks (wiping them): give every slot back first.
    ~LockedPool();

    /// A zeroed slot of at least size bytes (1 to kLargestSlot), aligned for
    /// any type; throws Poco::OutOfMemoryException when the system has no
    /// block to give.
    void* take(std::size_t size);
    /// Wipes a slot from take(size) and keeps it for the next take of its size.
    void giveBack(void* slot, std::size_t size) noexcept;

private:
    static constexpr std::size_t kSmallestSlot = 32;
    static constexpr std::size_t kSlotSizes = 5;
    static_assert(kSmallestSlot << (kSlotSizes - 1) == kLargestSlot, "slot sizes double from the smallest to the largest");
    static_assert(kSmallestSlot % alignof(std::max_align_t) == 0, "every slot starts aligned for any type");

    /// The slots of one size.
    struct Slots
    {
        /// How many the blocks cut into this size hold.
        std::size_t count = 0;
        /// Those not taken; reserved for all of them, so giving back never allocates.
        std::vector<std::byte*> free;
    };

    /// The index into _slots of the smallest slot holding size bytes.
    static std::size_t slotIndex(std::size_t size);
    /// Cuts a fresh block into free slots of _slots[index]'s size.
    void addBlock(std::size_t index);

    std::mutex _mutex;
    std::array<Slots, kSlotSizes> _slots;
    std::vector<void*> _blocks;
};

} // namespace peerchat
