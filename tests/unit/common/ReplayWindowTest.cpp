#include "ReplayWindow.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstdint>
#include <limits>
#include <string>

using peerchat::ReplayWindow;

class ReplayWindowTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ReplayWindowTest);
    CPPUNIT_TEST(testAcceptInOrder);
    CPPUNIT_TEST(testRefuseDuplicates);
    CPPUNIT_TEST(testAcceptReorderedWithinWindowOnce);
    CPPUNIT_TEST(testRefuseTooOld);
    CPPUNIT_TEST(testRefuseZero);
    CPPUNIT_TEST(testAcceptHugeJumps);
    CPPUNIT_TEST(testForgetAfterJumpBeyondWindow);
    CPPUNIT_TEST(testFreshChangesNothing);
    CPPUNIT_TEST_SUITE_END();

public:
    void testAcceptInOrder()
    {
        ReplayWindow window;
        for (std::uint64_t counter = 1; counter <= 3 * ReplayWindow::kSize; ++counter)
            CPPUNIT_ASSERT_MESSAGE(std::to_string(counter), window.accept(counter));
    }

    void testRefuseDuplicates()
    {
        ReplayWindow window;
        CPPUNIT_ASSERT(window.accept(1));
        CPPUNIT_ASSERT(!window.accept(1));
        CPPUNIT_ASSERT(window.accept(2));
        CPPUNIT_ASSERT(!window.accept(1));
        CPPUNIT_ASSERT(!window.accept(2));
        CPPUNIT_ASSERT(!window.fresh(2));
    }

    void testAcceptReorderedWithinWindowOnce()
    {
        ReplayWindow window;
        CPPUNIT_ASSERT(window.accept(10));
        CPPUNIT_ASSERT(window.accept(7));
        CPPUNIT_ASSERT(window.accept(9));
        CPPUNIT_ASSERT(!window.accept(7));
        CPPUNIT_ASSERT(!window.accept(9));
        CPPUNIT_ASSERT(window.accept(8));
        CPPUNIT_ASSERT(window.accept(1));
        CPPUNIT_ASSERT(window.accept(12));
        CPPUNIT_ASSERT(window.accept(11));
        for (std::uint64_t counter : {1, 7, 8, 9, 10, 11, 12}) CPPUNIT_ASSERT(!window.accept(counter));
        CPPUNIT_ASSERT(window.accept(2));
    }

    void testRefuseTooOld()
    {
        ReplayWindow window;
        const std::uint64_t highest = 5 * ReplayWindow::kSize;
        CPPUNIT_ASSERT(window.accept(highest));
        // The window holds the highest and the kSize - 1 counters below it.
        CPPUNIT_ASSERT(!window.fresh(highest - ReplayWindow::kSize));
        CPPUNIT_ASSERT(!window.accept(highest - ReplayWindow::kSize));
        CPPUNIT_ASSERT(!window.accept(highest - ReplayWindow::kSize - 1));
        CPPUNIT_ASSERT(!window.accept(1));
        CPPUNIT_ASSERT(window.accept(highest - ReplayWindow::kSize + 1));
        CPPUNIT_ASSERT(!window.accept(highest - ReplayWindow::kSize + 1));
        // Moving up by one pushes the oldest slot out.
        CPPUNIT_ASSERT(window.accept(highest + 1));
        CPPUNIT_ASSERT(!window.fresh(highest - ReplayWindow::kSize + 1));
        CPPUNIT_ASSERT(window.accept(highest - ReplayWindow::kSize + 2));
    }

    void testRefuseZero()
    {
        ReplayWindow window;
        CPPUNIT_ASSERT(!window.fresh(0));
        CPPUNIT_ASSERT(!window.accept(0));
        CPPUNIT_ASSERT(window.accept(1));
        CPPUNIT_ASSERT(!window.accept(0));
    }

    void testAcceptHugeJumps()
    {
        ReplayWindow window;
        const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
        CPPUNIT_ASSERT(window.accept(3));
        CPPUNIT_ASSERT(window.accept(max - 5));
        CPPUNIT_ASSERT(!window.accept(3));
        CPPUNIT_ASSERT(window.accept(max));
        CPPUNIT_ASSERT(!window.accept(max));
        CPPUNIT_ASSERT(!window.accept(max - 5));
        CPPUNIT_ASSERT(window.accept(max - 1));
        CPPUNIT_ASSERT(window.accept(max - ReplayWindow::kSize + 1));
        CPPUNIT_ASSERT(!window.accept(max - ReplayWindow::kSize));
    }

    void testForgetAfterJumpBeyondWindow()
    {
        ReplayWindow window;
        for (std::uint64_t counter = 1; counter <= 100; ++counter) CPPUNIT_ASSERT(window.accept(counter));
        const std::uint64_t far = 100 + ReplayWindow::kSize + 10;
        CPPUNIT_ASSERT(window.accept(far));
        // Counters just below the new highest were never seen: the old bits must not linger.
        for (std::uint64_t counter = far - ReplayWindow::kSize + 1; counter < far; ++counter)
            CPPUNIT_ASSERT_MESSAGE(std::to_string(counter), window.fresh(counter));
        const std::uint64_t near = far + ReplayWindow::kSize - 1;
        CPPUNIT_ASSERT(window.accept(near));
        CPPUNIT_ASSERT(!window.accept(far));
        CPPUNIT_ASSERT(window.accept(far + 1));
    }

    void testFreshChangesNothing()
    {
        ReplayWindow window;
        CPPUNIT_ASSERT(window.fresh(5));
        CPPUNIT_ASSERT(window.fresh(5));
        CPPUNIT_ASSERT(window.accept(5));
        CPPUNIT_ASSERT(!window.fresh(5));
        CPPUNIT_ASSERT(window.fresh(4));
        CPPUNIT_ASSERT(window.fresh(6));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReplayWindowTest);
