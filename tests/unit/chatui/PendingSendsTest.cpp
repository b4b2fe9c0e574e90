#include "PendingSends.h"

#include <cppunit/extensions/HelperMacros.h>

#include <set>
#include <string>

using peerchat::ConversationId;
using peerchat::chatui::PendingSends;
namespace local = peerchat::local;

class PendingSendsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PendingSendsTest);
    CPPUNIT_TEST(testAddGivesEverySendAKeyOfItsOwn);
    CPPUNIT_TEST(testSentAnswersTheSendWithItsKey);
    CPPUNIT_TEST(testSendErrorAnswersTheSendWithItsKey);
    CPPUNIT_TEST(testOtherEventsAnswerNothing);
    CPPUNIT_TEST(testUnansweredKeepOrderAndKeys);
    CPPUNIT_TEST_SUITE_END();

public:
    void testAddGivesEverySendAKeyOfItsOwn()
    {
        PendingSends sends;
        std::set<std::string> keys;
        for (int i = 0; i < 100; ++i) {
            const local::SendRequest request = sends.add(ConversationId::direct("bob"), "line " + std::to_string(i));
            CPPUNIT_ASSERT(request.to == ConversationId::direct("bob"));
            CPPUNIT_ASSERT_EQUAL("line " + std::to_string(i), request.text);
            CPPUNIT_ASSERT_MESSAGE(request.key, local::LocalProtocol::isSendKey(request.key));
            CPPUNIT_ASSERT_EQUAL(std::size_t(22), request.key.size());
            keys.insert(request.key);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(100), keys.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(100), sends.size());
    }

    void testSentAnswersTheSendWithItsKey()
    {
        PendingSends sends;
        const auto first = sends.add(ConversationId::direct("bob"), "one");
        const auto second = sends.add(ConversationId::direct("bob"), "two");
        // peerd may answer out of order: each answer takes the send it names.
        const auto answered = sends.answer(local::SentEvent{ConversationId::direct("bob"), 8, second.key});
        CPPUNIT_ASSERT(answered);
        CPPUNIT_ASSERT_EQUAL(std::string("two"), answered->text);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sends.size());
        CPPUNIT_ASSERT(!sends.answer(local::SentEvent{ConversationId::direct("bob"), 8, second.key}));
        CPPUNIT_ASSERT_EQUAL(std::string("one"), sends.answer(local::SentEvent{ConversationId::direct("bob"), 7, first.key})->text);
        CPPUNIT_ASSERT(sends.empty());
    }

    void testSendErrorAnswersTheSendWithItsKey()
    {
        PendingSends sends;
        const auto request = sends.add(ConversationId::direct("bob"), "refused");
        CPPUNIT_ASSERT(!sends.answer(local::ErrorEvent{"search", "no", request.key}));
        const auto answered = sends.answer(local::ErrorEvent{"send", "the disk is full", request.key});
        CPPUNIT_ASSERT(answered);
        CPPUNIT_ASSERT_EQUAL(std::string("refused"), answered->text);
        CPPUNIT_ASSERT(sends.empty());
    }

    void testOtherEventsAnswerNothing()
    {
        PendingSends sends;
        sends.add(ConversationId::direct("bob"), "waiting");
        // A delivery problem peerd tells every client carries no key.
        CPPUNIT_ASSERT(!sends.answer(local::ErrorEvent{"send", "bob's mailbox at indexd is full"}));
        CPPUNIT_ASSERT(!sends.answer(local::SentEvent{ConversationId::direct("bob"), 3}));
        CPPUNIT_ASSERT(!sends.answer(local::SentEvent{ConversationId::direct("bob"), 3, "someone-elses"}));
        CPPUNIT_ASSERT(!sends.answer(local::UnreadEvent{ConversationId::direct("bob"), 1}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sends.size());
    }

    void testUnansweredKeepOrderAndKeys()
    {
        PendingSends sends;
        const auto one = sends.add(ConversationId::direct("bob"), "one");
        const auto two = sends.add(ConversationId::direct("carol"), "two");
        const auto three = sends.add(ConversationId::direct("bob"), "three");
        sends.answer(local::SentEvent{ConversationId::direct("carol"), 1, two.key});
        const auto& left = sends.unanswered();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), left.size());
        CPPUNIT_ASSERT_EQUAL(one.key, left[0].key);
        CPPUNIT_ASSERT_EQUAL(std::string("one"), left[0].text);
        CPPUNIT_ASSERT_EQUAL(three.key, left[1].key);
        CPPUNIT_ASSERT(left[1].to == ConversationId::direct("bob"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PendingSendsTest);
