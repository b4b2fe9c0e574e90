// peerd's allocator: jemalloc, except under the sanitizers (peerd/CMakeLists.txt).
#if defined(PEERCHAT_JEMALLOC)

#include "FreedMemory.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <jemalloc/jemalloc.h>
#include <string>
#include <vector>

namespace {

template <typename T>
T statistic(const std::string& name)
{
    // jemalloc's statistics are a snapshot, taken anew when the epoch moves.
    std::uint64_t epoch = 1;
    std::size_t size = sizeof epoch;
    mallctl("epoch", &epoch, &size, &epoch, size);
    T value{};
    size = sizeof value;
    CPPUNIT_ASSERT_EQUAL_MESSAGE(name, 0, mallctl(name.c_str(), &value, &size, nullptr, 0));
    return value;
}

std::size_t dirtyPages()
{
    return statistic<std::size_t>("stats.arenas." + std::to_string(MALLCTL_ARENAS_ALL) + ".pdirty");
}

} // namespace

class FreedMemoryTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(FreedMemoryTest);
    CPPUNIT_TEST(testMallocIsJemalloc);
    CPPUNIT_TEST(testFreedPagesGoBackToTheSystem);
    CPPUNIT_TEST_SUITE_END();

public:
    // Linked but not in front of glibc's malloc, jemalloc would count nothing.
    void testMallocIsJemalloc()
    {
        const auto before = statistic<std::uint64_t>("thread.allocated");
        void* block = std::malloc(1 << 20);
        std::memset(block, 1, 1 << 20);
        const auto after = statistic<std::uint64_t>("thread.allocated");
        std::free(block);
        CPPUNIT_ASSERT(after - before >= (1 << 20));
    }

    void testFreedPagesGoBackToTheSystem()
    {
        std::vector<void*> blocks;
        for (int i = 0; i < 256; ++i) {
            blocks.push_back(std::malloc(16 * 1024));
            std::memset(blocks.back(), 1, 16 * 1024);
        }
        for (void* block : blocks) std::free(block);
        CPPUNIT_ASSERT(dirtyPages() > 0);
        peerchat::returnFreedMemory();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), dirtyPages());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FreedMemoryTest);

#endif
