#include "LockedPool.h"

#include "LockedSecret.h"

#include <sodium.h>

#include <cstdint>

namespace peerchat {
namespace {

// allocatePages puts sodium_malloc's 16-byte canary in front of the bytes and
// rounds the two up to whole pages: 16 bytes short of 64 KiB keeps a block at
// 16 pages (asked any other size, it only costs a page more).
constexpr std::size_t kBlockBytes = 64 * 1024 - 16;

} // namespace

LockedPool& LockedPool::shared()
{
    static LockedPool* const pool = new LockedPool;
    return *pool;
}

LockedPool::~LockedPool()
{
    for (void* block : _blocks) locked_memory::releasePages(block);
}

void* LockedPool::take(std::size_t size)
{
    const std::size_t index = slotIndex(size);
    const std::lock_guard<std::mutex> lock(_mutex);
    Slots& slots = _slots[index];
    if (slots.free.empty()) addBlock(index);
    std::byte* slot = slots.free.back();
    slots.free.pop_back();
    return slot;
}

void LockedPool::giveBack(void* slot, std::size_t size) noexcept
{
    const std::size_t index = slotIndex(size);
    sodium_memzero(slot, kSmallestSlot << index);
    const std::lock_guard<std::mutex> lock(_mutex);
    _slots[index].free.push_back(static_cast<std::byte*>(slot));
}

std::size_t LockedPool::slotIndex(std::size_t size)
{
    std::size_t index = 0;
    for (std::size_t slotBytes = kSmallestSlot; slotBytes < size; slotBytes *= 2) ++index;
    return index;
}

void LockedPool::addBlock(std::size_t index)
{
    const std::size_t slotBytes = kSmallestSlot << index;
    Slots& slots = _slots[index];
    // Room first, so that once the block is taken nothing can throw and lose it.
    _blocks.reserve(_blocks.size() + 1);
    slots.free.reserve(slots.count + kBlockBytes / slotBytes);
    void* block = locked_memory::allocatePages(kBlockBytes);
    _blocks.push_back(block);
    const auto start = reinterpret_cast<std::uintptr_t>(block);
    constexpr std::uintptr_t alignment = alignof(std::max_align_t);
    const std::uintptr_t first = (start + alignment - 1) / alignment * alignment;
    const std::size_t count = (start + kBlockBytes - first) / slotBytes;
    // Last slot first on the free list, so that take() hands them out in order.
    for (std::size_t slot = count; slot-- > 0;)
        slots.free.push_back(reinterpret_cast<std::byte*>(first + slot * slotBytes));
    slots.count += count;
}

} // namespace peerchat
