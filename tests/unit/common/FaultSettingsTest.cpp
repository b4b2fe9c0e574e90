#include "FaultSettings.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::FaultSettings;

class FaultSettingsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(FaultSettingsTest);
    CPPUNIT_TEST(testParseEveryKey);
    CPPUNIT_TEST(testParseOffAndEmpty);
    CPPUNIT_TEST(testRefuseBadSpecs);
    CPPUNIT_TEST_SUITE_END();

public:
    void testParseEveryKey()
    {
        const auto parsed = FaultSettings::parse("drop=0.3,dup=0.1,reorder=0.25,delay=20,seed=42");
        CPPUNIT_ASSERT_MESSAGE(parsed.error(), parsed.ok());
        CPPUNIT_ASSERT_DOUBLES_EQUAL(0.3, parsed->drop, 1e-9);
        CPPUNIT_ASSERT_DOUBLES_EQUAL(0.1, parsed->duplicate, 1e-9);
        CPPUNIT_ASSERT_DOUBLES_EQUAL(0.25, parsed->reorder, 1e-9);
        CPPUNIT_ASSERT_EQUAL(20ll, static_cast<long long>(parsed->delay.count()));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(42), parsed->seed);
        CPPUNIT_ASSERT(parsed->enabled());
        const auto again = FaultSettings::parse(parsed->toString());
        CPPUNIT_ASSERT_MESSAGE(again.error(), again.ok());
        CPPUNIT_ASSERT_EQUAL(parsed->toString(), again->toString());
    }

    void testParseOffAndEmpty()
    {
        CPPUNIT_ASSERT(!FaultSettings::parse("").value().enabled());
        CPPUNIT_ASSERT(!FaultSettings::parse("off").value().enabled());
        CPPUNIT_ASSERT(!FaultSettings::parse("seed=7").value().enabled());
    }

    void testRefuseBadSpecs()
    {
        for (const char* bad : {"drop=1.5", "drop=-0.1", "drop=", "loss=0.1", "delay=-1", "delay=60001", "seed=x",
                                "drop=0.1,", "drop"}) {
            const auto parsed = FaultSettings::parse(bad);
            CPPUNIT_ASSERT_MESSAGE(bad, !parsed.ok());
            CPPUNIT_ASSERT(!parsed.error().empty());
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FaultSettingsTest);
