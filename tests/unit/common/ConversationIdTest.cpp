#include "ConversationId.h"

#include <cppunit/extensions/HelperMacros.h>

#include <set>
#include <string>

using peerchat::ConversationId;

namespace {

const std::string kGroupId = "0123456789abcdef0123456789abcdef";

} // namespace

class ConversationIdTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ConversationIdTest);
    CPPUNIT_TEST(testDirectKeyIsThePeersName);
    CPPUNIT_TEST(testGroupKeyRoundTrips);
    CPPUNIT_TEST(testFromKeyRefusesAnEmptyKeyAndABadGroupId);
    CPPUNIT_TEST(testGroupIdIsThirtyTwoLowercaseHexDigits);
    CPPUNIT_TEST(testKindsNeverEqualAndDirectSortsFirst);
    CPPUNIT_TEST_SUITE_END();

public:
    void testDirectKeyIsThePeersName()
    {
        const ConversationId bob = ConversationId::direct("bob");
        CPPUNIT_ASSERT(!bob.isGroup());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), bob.key());
        CPPUNIT_ASSERT(ConversationId::fromKey("bob") == bob);
        CPPUNIT_ASSERT(ConversationId::fromKey("天涯") == ConversationId::direct("天涯"));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), bob.describe());
    }

    void testGroupKeyRoundTrips()
    {
        const ConversationId group = ConversationId::group(kGroupId);
        CPPUNIT_ASSERT(group.isGroup());
        CPPUNIT_ASSERT_EQUAL("group:" + kGroupId, group.key());
        CPPUNIT_ASSERT(ConversationId::fromKey(group.key()) == group);
        CPPUNIT_ASSERT_EQUAL("group " + kGroupId, group.describe());
    }

    void testFromKeyRefusesAnEmptyKeyAndABadGroupId()
    {
        for (const std::string& key : {std::string(), std::string("group:"), std::string("group:xyz"),
                                       "group:" + kGroupId + "0", "group:" + kGroupId.substr(1) + "A"}) {
            CPPUNIT_ASSERT_MESSAGE(key, !ConversationId::fromKey(key));
        }
    }

    void testGroupIdIsThirtyTwoLowercaseHexDigits()
    {
        CPPUNIT_ASSERT(ConversationId::isGroupId(kGroupId));
        CPPUNIT_ASSERT(!ConversationId::isGroupId(kGroupId.substr(1)));
        CPPUNIT_ASSERT(!ConversationId::isGroupId(kGroupId + "0"));
        CPPUNIT_ASSERT(!ConversationId::isGroupId("0123456789ABCDEF0123456789abcdef"));
        CPPUNIT_ASSERT(!ConversationId::isGroupId("0123456789abcdef0123456789abcdeg"));
    }

    void testKindsNeverEqualAndDirectSortsFirst()
    {
        const ConversationId direct = ConversationId::direct("zed");
        const ConversationId group = ConversationId::group(kGroupId);
        CPPUNIT_ASSERT(direct != group);
        CPPUNIT_ASSERT(ConversationId::direct(kGroupId) != group);
        CPPUNIT_ASSERT(direct < group);
        const std::set<ConversationId> ordered{group, ConversationId::direct("amy"), direct};
        CPPUNIT_ASSERT(*ordered.begin() == ConversationId::direct("amy"));
        CPPUNIT_ASSERT(*ordered.rbegin() == group);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConversationIdTest);
