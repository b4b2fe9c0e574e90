#include "TypingPacer.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>

using peerchat::chatui::TypingPacer;
using namespace std::chrono_literals;

namespace {

/// A clock turned by hand.
const TypingPacer::Clock::time_point kStart = TypingPacer::Clock::time_point() + 1000s;

} // namespace

class TypingPacerTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(TypingPacerTest);
    CPPUNIT_TEST(testFirstKeyIsDue);
    CPPUNIT_TEST(testKeysWithinASecondAreNotDue);
    CPPUNIT_TEST(testFastTypistSendsOnePerSecond);
    CPPUNIT_TEST(testKeyAfterAPauseIsDue);
    CPPUNIT_TEST_SUITE_END();

public:
    void testFirstKeyIsDue()
    {
        TypingPacer pacer;
        CPPUNIT_ASSERT(pacer.due(kStart));
    }

    void testKeysWithinASecondAreNotDue()
    {
        TypingPacer pacer;
        CPPUNIT_ASSERT(pacer.due(kStart));
        CPPUNIT_ASSERT(!pacer.due(kStart));
        CPPUNIT_ASSERT(!pacer.due(kStart + 500ms));
        CPPUNIT_ASSERT(!pacer.due(kStart + 999ms));
        CPPUNIT_ASSERT(pacer.due(kStart + 1s));
        CPPUNIT_ASSERT(!pacer.due(kStart + 1999ms));
    }

    void testFastTypistSendsOnePerSecond()
    {
        TypingPacer pacer;
        // Ten keys a second for ten seconds: one request a second, on the first key of each.
        int sent = 0;
        for (int key = 0; key < 100; ++key)
            if (pacer.due(kStart + key * 100ms)) ++sent;
        CPPUNIT_ASSERT_EQUAL(10, sent);
    }

    void testKeyAfterAPauseIsDue()
    {
        TypingPacer pacer;
        CPPUNIT_ASSERT(pacer.due(kStart));
        CPPUNIT_ASSERT(!pacer.due(kStart + 300ms));
        // Keys not sent do not push the next one back.
        CPPUNIT_ASSERT(pacer.due(kStart + 1s));
        CPPUNIT_ASSERT(pacer.due(kStart + 1min));
        CPPUNIT_ASSERT(!pacer.due(kStart + 1min + 1ms));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TypingPacerTest);
