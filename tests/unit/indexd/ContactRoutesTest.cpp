#include "ContactRoutes.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <string>
#include <vector>

using peerchat::ContactRoutes;
using peerchat::ContactsDeclaration;
using peerchat::Signature;

namespace {

Signature signature(std::uint8_t fill)
{
    Signature sig{};
    sig.fill(fill);
    return sig;
}

ContactsDeclaration part(const std::string& name, std::uint64_t version, std::uint32_t index, std::uint32_t parts,
                         std::vector<std::string> names)
{
    return ContactsDeclaration{name,  version, index, parts, peerchat::PresenceState::Online, {}, std::move(names),
                               signature(static_cast<std::uint8_t>(index))};
}

using Taken = ContactRoutes::Taken;
using Names = std::vector<std::string>;

} // namespace

class ContactRoutesTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ContactRoutesTest);
    CPPUNIT_TEST(testListOfOnePartIsHeld);
    CPPUNIT_TEST(testPartsMakeTheListOnlyOnceAllCame);
    CPPUNIT_TEST(testNewerVersionReplacesAndOlderIsStale);
    CPPUNIT_TEST(testNewerVersionDropsAnUnfinishedOne);
    CPPUNIT_TEST(testListOverTheLimitIsDropped);
    CPPUNIT_TEST(testNamesAreInternedOnceAndForgottenWithTheLastList);
    CPPUNIT_TEST(testRepeatOfTheHeldVersionIsComplete);
    CPPUNIT_TEST(testSeeingTakesBothListsAndAVisibleSubject);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSeeingTakesBothListsAndAVisibleSubject()
    {
        ContactRoutes routes;
        routes.declare(part("alice", 1, 1, 1, {"bob", "carol", "dave"}));
        routes.declare(part("bob", 1, 1, 1, {"alice"}));
        routes.declare(part("carol", 1, 1, 1, {}));
        ContactsDeclaration hidden = part("dave", 1, 1, 1, {"alice"});
        hidden.state = peerchat::PresenceState::Invisible;
        routes.declare(hidden);

        // bob and alice list each other; carol does not list alice; erin has no list at all.
        CPPUNIT_ASSERT(routes.sees("bob", "alice") && routes.sees("alice", "bob"));
        CPPUNIT_ASSERT(!routes.sees("carol", "alice") && !routes.sees("alice", "carol"));
        CPPUNIT_ASSERT(!routes.sees("erin", "alice") && !routes.sees("alice", "erin"));
        // dave sees alice, but nobody sees dave while he is invisible.
        CPPUNIT_ASSERT(routes.sees("dave", "alice") && !routes.sees("alice", "dave"));

        const auto collect = [&](auto walk, const std::string& name) {
            Names names;
            (routes.*walk)(name, [&](const std::string& contact) { names.push_back(contact); });
            std::sort(names.begin(), names.end());
            return names;
        };
        CPPUNIT_ASSERT(collect(&ContactRoutes::forEachViewer, "alice") == (Names{"bob", "dave"}));
        CPPUNIT_ASSERT(collect(&ContactRoutes::forEachSeen, "alice") == (Names{"bob"}));
        CPPUNIT_ASSERT(collect(&ContactRoutes::forEachViewer, "dave").empty());
        CPPUNIT_ASSERT(collect(&ContactRoutes::forEachSeen, "dave") == (Names{"alice"}));
        CPPUNIT_ASSERT(collect(&ContactRoutes::forEachViewer, "erin").empty());
    }

    void testListOfOnePartIsHeld()
    {
        ContactRoutes routes;
        CPPUNIT_ASSERT(routes.declare(part("alice", 5, 1, 1, {"carol", "bob"})) == Taken::Complete);
        CPPUNIT_ASSERT(routes.declares("alice", "bob") && routes.declares("alice", "carol"));
        CPPUNIT_ASSERT(!routes.declares("alice", "dave") && !routes.declares("bob", "alice"));
        CPPUNIT_ASSERT(routes.contactsOf("alice") == (Names{"bob", "carol"}));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), routes.versionOf("alice"));
        CPPUNIT_ASSERT(routes.signaturesOf("alice") == std::vector<Signature>{signature(1)});
        CPPUNIT_ASSERT(routes.declare(part("bob", 1, 1, 1, {})) == Taken::Complete);
        CPPUNIT_ASSERT(routes.contactsOf("bob").empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), routes.lists());
    }

    void testPartsMakeTheListOnlyOnceAllCame()
    {
        ContactRoutes routes;
        CPPUNIT_ASSERT(routes.declare(part("alice", 5, 2, 3, {"carol"})) == Taken::Incomplete);
        CPPUNIT_ASSERT(routes.declare(part("alice", 5, 2, 3, {"carol"})) == Taken::Incomplete);
        CPPUNIT_ASSERT(routes.declare(part("alice", 5, 1, 3, {"bob"})) == Taken::Incomplete);
        CPPUNIT_ASSERT(!routes.declares("alice", "bob"));
        CPPUNIT_ASSERT(routes.declare(part("alice", 5, 3, 3, {"dave", "bob"})) == Taken::Complete);
        CPPUNIT_ASSERT(routes.contactsOf("alice") == (Names{"bob", "carol", "dave"}));
        CPPUNIT_ASSERT((routes.signaturesOf("alice") == std::vector<Signature>{signature(1), signature(2), signature(3)}));
        // A part whose count disagrees with its version's is not taken.
        CPPUNIT_ASSERT(routes.declare(part("bob", 1, 1, 2, {"x"})) == Taken::Incomplete);
        CPPUNIT_ASSERT(routes.declare(part("bob", 1, 2, 3, {"y"})) == Taken::Stale);
    }

    void testNewerVersionReplacesAndOlderIsStale()
    {
        ContactRoutes routes;
        routes.declare(part("alice", 5, 1, 1, {"bob"}));
        CPPUNIT_ASSERT(routes.declare(part("alice", 6, 1, 1, {"carol"})) == Taken::Complete);
        CPPUNIT_ASSERT(routes.contactsOf("alice") == (Names{"carol"}));
        CPPUNIT_ASSERT(routes.declare(part("alice", 4, 1, 1, {"bob"})) == Taken::Stale);
        CPPUNIT_ASSERT(routes.contactsOf("alice") == (Names{"carol"}));
    }

    void testNewerVersionDropsAnUnfinishedOne()
    {
        ContactRoutes routes;
        routes.declare(part("alice", 5, 1, 2, {"bob"}));
        CPPUNIT_ASSERT(routes.declare(part("alice", 6, 1, 1, {"carol"})) == Taken::Complete);
        CPPUNIT_ASSERT(routes.declare(part("alice", 5, 2, 2, {"dave"})) == Taken::Stale);
        CPPUNIT_ASSERT(routes.contactsOf("alice") == (Names{"carol"}));
        // bob was held by the dropped version only.
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), routes.names());
    }

    void testListOverTheLimitIsDropped()
    {
        ContactRoutes routes;
        Names many;
        for (std::size_t i = 0; i < peerchat::Protocol::kMaxContacts; ++i) many.push_back("user" + std::to_string(i));
        CPPUNIT_ASSERT(routes.declare(part("alice", 1, 1, 2, many)) == Taken::Incomplete);
        CPPUNIT_ASSERT(routes.declare(part("alice", 1, 2, 2, {"one-more"})) == Taken::TooLong);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), routes.names());
        CPPUNIT_ASSERT(routes.declare(part("alice", 2, 1, 1, many)) == Taken::Complete);
    }

    void testNamesAreInternedOnceAndForgottenWithTheLastList()
    {
        ContactRoutes routes;
        routes.declare(part("alice", 1, 1, 1, {"bob", "carol"}));
        routes.declare(part("bob", 1, 1, 1, {"alice", "carol"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), routes.names());
        routes.forget("alice");
        CPPUNIT_ASSERT(!routes.declares("alice", "bob") && routes.versionOf("alice") == 0);
        // bob's list still names alice.
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), routes.names());
        CPPUNIT_ASSERT(routes.declares("bob", "alice"));
        routes.forget("bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), routes.names());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), routes.lists());
        routes.forget("nobody");
    }

    void testRepeatOfTheHeldVersionIsComplete()
    {
        ContactRoutes routes;
        routes.declare(part("alice", 3, 1, 2, {"bob"}));
        routes.declare(part("alice", 3, 2, 2, {"carol"}));
        // A peerd that missed the answer sends the parts again: each is answered.
        CPPUNIT_ASSERT(routes.declare(part("alice", 3, 1, 2, {"bob"})) == Taken::Complete);
        CPPUNIT_ASSERT(routes.contactsOf("alice") == (Names{"bob", "carol"}));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ContactRoutesTest);
