#include "TypingNotices.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace peerchat;
using std::chrono::milliseconds;

class TypingNoticesTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(TypingNoticesTest);
    CPPUNIT_TEST(testTypingGoesOncePerInterval);
    CPPUNIT_TEST(testNoticesShownOncePerInterval);
    CPPUNIT_TEST(testPeersArePacedApart);
    CPPUNIT_TEST(testLineSentLetsTheNextNoticeGoAtOnce);
    CPPUNIT_TEST(testManyPeersForgetTheStaleOnes);
    CPPUNIT_TEST_SUITE_END();

public:
    void testTypingGoesOncePerInterval()
    {
        TypingNotices notices;
        const TypingNotices::TimePoint start{};
        CPPUNIT_ASSERT(notices.typing("bob", start));
        CPPUNIT_ASSERT(!notices.typing("bob", start + milliseconds(10)));
        CPPUNIT_ASSERT(!notices.typing("bob", start + TypingNotices::kSendEvery - milliseconds(1)));
        CPPUNIT_ASSERT(notices.typing("bob", start + TypingNotices::kSendEvery));
    }

    void testNoticesShownOncePerInterval()
    {
        TypingNotices notices;
        const TypingNotices::TimePoint start{};
        CPPUNIT_ASSERT(notices.noticed("bob", start));
        CPPUNIT_ASSERT(!notices.noticed("bob", start + milliseconds(999)));
        CPPUNIT_ASSERT(notices.noticed("bob", start + TypingNotices::kShowEvery));
        // What was shown does not hold back what is sent.
        CPPUNIT_ASSERT(notices.typing("bob", start + TypingNotices::kShowEvery));
    }

    void testLineSentLetsTheNextNoticeGoAtOnce()
    {
        TypingNotices notices;
        const TypingNotices::TimePoint start{};
        CPPUNIT_ASSERT(notices.typing("bob", start));
        notices.lineSent("bob");
        // The line ended "typing" at bob: the next words show at once.
        CPPUNIT_ASSERT(notices.typing("bob", start + milliseconds(500)));
        CPPUNIT_ASSERT(!notices.typing("bob", start + milliseconds(600)));
    }

    void testPeersArePacedApart()
    {
        TypingNotices notices;
        const TypingNotices::TimePoint start{};
        CPPUNIT_ASSERT(notices.typing("bob", start));
        CPPUNIT_ASSERT(notices.typing("carol", start));
        CPPUNIT_ASSERT(!notices.typing("bob", start + milliseconds(1)));
    }

    void testManyPeersForgetTheStaleOnes()
    {
        TypingNotices notices;
        const TypingNotices::TimePoint start{};
        for (std::size_t i = 0; i < TypingNotices::kMostRemembered; ++i) notices.noticed("user" + std::to_string(i), start);
        // Once their interval passed, a new peer makes room; the old ones count afresh.
        const auto later = start + TypingNotices::kShowEvery;
        CPPUNIT_ASSERT(notices.noticed("newcomer", later));
        CPPUNIT_ASSERT(notices.noticed("user0", later));
        CPPUNIT_ASSERT(!notices.noticed("newcomer", later));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TypingNoticesTest);
