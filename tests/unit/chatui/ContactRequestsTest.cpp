#include "ContactRequests.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::ConversationId;
using peerchat::chatui::ContactRequests;
namespace local = peerchat::local;
using local::ContactChange;
using local::Relation;

namespace {

local::ContactRequest request(ContactChange change, const std::string& peer, const std::string& note = "")
{
    return local::ContactRequest{change, peer, note};
}

local::ContactEvent contactEvent(const std::string& name, Relation relation, bool blocked = false)
{
    return local::ContactEvent{local::ContactInfo{name, relation, blocked, "", 1795000000000}};
}

} // namespace

class ContactRequestsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ContactRequestsTest);
    CPPUNIT_TEST(testStartReturnsTheRequest);
    CPPUNIT_TEST(testContactEventAnswersRequestItLeadsTo);
    CPPUNIT_TEST(testAddMetByTheirRequestIsAnswered);
    CPPUNIT_TEST(testContactEventOfAnotherUserOrStateAnswersNothing);
    CPPUNIT_TEST(testErrorAnswersOldestRequestOfItsOp);
    CPPUNIT_TEST(testBlockAndUnblockAnsweredByBlockedFlag);
    CPPUNIT_TEST(testAnswerKeepsRelationBefore);
    CPPUNIT_TEST(testClearForgetsEverything);
    CPPUNIT_TEST_SUITE_END();

public:
    void testStartReturnsTheRequest()
    {
        ContactRequests requests;
        const auto sent = requests.start(request(ContactChange::Add, "bob", "hi bob, it's alice"), Relation::None);
        CPPUNIT_ASSERT(sent.change == ContactChange::Add);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), sent.peer);
        CPPUNIT_ASSERT_EQUAL(std::string("hi bob, it's alice"), sent.note);
        CPPUNIT_ASSERT(!requests.empty());
    }

    void testContactEventAnswersRequestItLeadsTo()
    {
        ContactRequests requests;
        requests.start(request(ContactChange::Add, "bob"), Relation::None);
        requests.start(request(ContactChange::Accept, "carol"), Relation::AskedMe);
        const auto answer = requests.answer(contactEvent("carol", Relation::Contact));
        CPPUNIT_ASSERT(answer);
        CPPUNIT_ASSERT(answer->request.change == ContactChange::Accept);
        CPPUNIT_ASSERT(answer->now && answer->now->relation == Relation::Contact);
        const auto added = requests.answer(contactEvent("bob", Relation::Asked));
        CPPUNIT_ASSERT(added && added->request.peer == "bob");
        CPPUNIT_ASSERT(requests.empty());
    }

    void testAddMetByTheirRequestIsAnswered()
    {
        // bob had asked: peerd takes his request instead, and they are contacts.
        ContactRequests requests;
        requests.start(request(ContactChange::Add, "bob"), Relation::AskedMe);
        const auto answer = requests.answer(contactEvent("bob", Relation::Contact));
        CPPUNIT_ASSERT(answer && answer->now->relation == Relation::Contact);
    }

    void testContactEventOfAnotherUserOrStateAnswersNothing()
    {
        ContactRequests requests;
        requests.start(request(ContactChange::Decline, "bob"), Relation::AskedMe);
        CPPUNIT_ASSERT(!requests.answer(contactEvent("carol", Relation::None)));
        // bob's own letter, a new request, is not what the decline leads to.
        CPPUNIT_ASSERT(!requests.answer(contactEvent("bob", Relation::AskedMe)));
        CPPUNIT_ASSERT(!requests.answer(local::SentEvent{ConversationId::direct("bob"), 1}));
        CPPUNIT_ASSERT(!requests.answer(local::ErrorEvent{"accept", "bob has not asked to be your contact"}));
        CPPUNIT_ASSERT(requests.answer(contactEvent("bob", Relation::None)));
    }

    void testErrorAnswersOldestRequestOfItsOp()
    {
        ContactRequests requests;
        requests.start(request(ContactChange::Remove, "bob"), Relation::Contact);
        requests.start(request(ContactChange::Accept, "carol"), Relation::None);
        requests.start(request(ContactChange::Accept, "dave"), Relation::None);
        const auto answer = requests.answer(local::ErrorEvent{"accept", "carol has not asked to be your contact"});
        CPPUNIT_ASSERT(answer);
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), answer->request.peer);
        CPPUNIT_ASSERT(!answer->now);
        // A send's error is no contact request's.
        CPPUNIT_ASSERT(!requests.answer(local::ErrorEvent{"send", "the disk is full"}));
        CPPUNIT_ASSERT_EQUAL(std::string("dave"),
                             requests.answer(local::ErrorEvent{"accept", "no"})->request.peer);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), requests.answer(local::ErrorEvent{"remove", "no"})->request.peer);
        CPPUNIT_ASSERT(requests.empty());
    }

    void testBlockAndUnblockAnsweredByBlockedFlag()
    {
        ContactRequests requests;
        requests.start(request(ContactChange::Block, "mallory"), Relation::AskedMe);
        CPPUNIT_ASSERT(!requests.answer(contactEvent("mallory", Relation::None, false)));
        CPPUNIT_ASSERT(requests.answer(contactEvent("mallory", Relation::None, true)));
        requests.start(request(ContactChange::Unblock, "mallory"), Relation::None);
        CPPUNIT_ASSERT(!requests.answer(contactEvent("mallory", Relation::None, true)));
        CPPUNIT_ASSERT(requests.answer(contactEvent("mallory", Relation::None, false)));
        // Removing a blocked contact leaves the block.
        requests.start(request(ContactChange::Remove, "bob"), Relation::Contact);
        CPPUNIT_ASSERT(requests.answer(contactEvent("bob", Relation::None, true)));
    }

    void testAnswerKeepsRelationBefore()
    {
        ContactRequests requests;
        requests.start(request(ContactChange::Remove, "bob"), Relation::Asked);
        const auto answer = requests.answer(contactEvent("bob", Relation::None));
        CPPUNIT_ASSERT(answer && answer->before == Relation::Asked);
    }

    void testClearForgetsEverything()
    {
        ContactRequests requests;
        requests.start(request(ContactChange::Add, "bob"), Relation::None);
        requests.clear();
        CPPUNIT_ASSERT(requests.empty());
        CPPUNIT_ASSERT(!requests.answer(contactEvent("bob", Relation::Asked)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ContactRequestsTest);
