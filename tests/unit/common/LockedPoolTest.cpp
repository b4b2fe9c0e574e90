#include "LockedPool.h"

#include "MappingFlags.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using peerchat::LockedPool;
using peerchat::test::MappingFlags;

namespace {

// The process's resident set in bytes (the second field of /proc/self/statm, in pages).
std::size_t residentBytes()
{
    std::ifstream statm("/proc/self/statm");
    std::size_t sizePages = 0;
    std::size_t residentPages = 0;
    statm >> sizePages >> residentPages;
    CPPUNIT_ASSERT_MESSAGE("cannot read /proc/self/statm", statm);
    return residentPages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

bool allZero(const void* memory, std::size_t size)
{
    const auto* bytes = static_cast<const std::uint8_t*>(memory);
    return std::all_of(bytes, bytes + size, [](std::uint8_t byte) { return byte == 0; });
}

} // namespace

class LockedPoolTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LockedPoolTest);
    CPPUNIT_TEST(testTakeZeroedAligned);
    CPPUNIT_TEST(testGiveBackWipesSlot);
    CPPUNIT_TEST(testSlotsShareLockedBlock);
    CPPUNIT_TEST(testSlotsNeverOverlap);
    CPPUNIT_TEST(testThreadsKeepOwnSlots);
    CPPUNIT_TEST(testManySessionKeysCostFewMegabytes);
    CPPUNIT_TEST_SUITE_END();

public:
    void testTakeZeroedAligned()
    {
        LockedPool pool;
        for (const std::size_t size : {1, 32, 33, 96, 160, 512}) {
            void* slot = pool.take(size);
            CPPUNIT_ASSERT(allZero(slot, size));
            CPPUNIT_ASSERT_EQUAL(std::uintptr_t{0}, reinterpret_cast<std::uintptr_t>(slot) % alignof(std::max_align_t));
            MappingFlags::assertHoldsSecrets(slot);
            pool.giveBack(slot, size);
        }
    }

    void testGiveBackWipesSlot()
    {
        LockedPool pool;
        void* slot = pool.take(64);
        std::memset(slot, 0xab, 64);
        pool.giveBack(slot, 64);
        // The block stays with the pool, so the wiped bytes can still be read.
        CPPUNIT_ASSERT(allZero(slot, 64));
        MappingFlags::assertHoldsSecrets(slot);
        CPPUNIT_ASSERT(pool.take(64) == slot);
    }

    void testSlotsShareLockedBlock()
    {
        LockedPool pool;
        auto* first = static_cast<std::byte*>(pool.take(64));
        auto* second = static_cast<std::byte*>(pool.take(64));
        CPPUNIT_ASSERT(second == first + 64);
        MappingFlags::assertHoldsSecrets(second);
    }

    void testSlotsNeverOverlap()
    {
        LockedPool pool;
        // Enough of each size to need a few blocks.
        std::vector<std::pair<std::uintptr_t, std::size_t>> taken;
        for (const std::size_t size : {24, 64, 500})
            for (int i = 0; i < 2100; ++i) {
                void* slot = pool.take(size);
                std::memset(slot, 0xff, size);
                taken.emplace_back(reinterpret_cast<std::uintptr_t>(slot), size);
            }
        std::sort(taken.begin(), taken.end());
        for (std::size_t i = 1; i < taken.size(); ++i)
            CPPUNIT_ASSERT(taken[i - 1].first + taken[i - 1].second <= taken[i].first);
        MappingFlags::assertHoldsSecrets(reinterpret_cast<const void*>(taken.front().first));
        MappingFlags::assertHoldsSecrets(reinterpret_cast<const void*>(taken.back().first));
        for (const auto& [address, size] : taken) pool.giveBack(reinterpret_cast<void*>(address), size);
    }

    void testThreadsKeepOwnSlots()
    {
        LockedPool pool;
        std::vector<std::thread> threads;
        std::array<bool, 4> intact{true, true, true, true};
        for (std::size_t t = 0; t < intact.size(); ++t)
            threads.emplace_back([&pool, &intact, t] {
                const auto mark = static_cast<std::uint8_t>(t + 1);
                for (int round = 0; round < 50; ++round) {
                    std::vector<std::uint8_t*> mine;
                    for (int i = 0; i < 200; ++i) {
                        auto* slot = static_cast<std::uint8_t*>(pool.take(64));
                        if (!allZero(slot, 64)) intact[t] = false;
                        std::memset(slot, mark, 64);
                        mine.push_back(slot);
                    }
                    for (std::uint8_t* slot : mine) {
                        if (std::count(slot, slot + 64, mark) != 64) intact[t] = false;
                        pool.giveBack(slot, 64);
                    }
                }
            });
        for (std::thread& thread : threads) thread.join();
        for (const bool each : intact) CPPUNIT_ASSERT(each);
    }

    void testManySessionKeysCostFewMegabytes()
    {
        // What indexd holds at 100,000 users: a 64-byte pair of session keys
        // each (as pages of their own, 100,000 secrets took over 800 MB).
        constexpr std::size_t kSessions = 100000;
        LockedPool pool;
        std::vector<void*> keys;
        keys.reserve(kSessions);
        const std::size_t before = residentBytes();
        for (std::size_t i = 0; i < kSessions; ++i) keys.push_back(pool.take(64));
        const std::size_t grown = residentBytes() - before;
        CPPUNIT_ASSERT_MESSAGE("100,000 session keys took " + std::to_string(grown / 1024) + " KiB",
                               grown < 16u * 1024 * 1024);
        MappingFlags::assertHoldsSecrets(keys.back());
        for (void* key : keys) pool.giveBack(key, 64);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LockedPoolTest);
