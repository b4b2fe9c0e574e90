#include "MailBudget.h"

#include "RoomyMailLimits.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::MailBudget;
using peerchat::MailLimit;
using peerchat::test::roomyMailLimits;

namespace {

bool fits(const MailBudget& budget, const std::string& sender, const std::string& recipient, std::uint64_t bytes)
{
    return !budget.exceeded(sender, recipient, bytes).has_value();
}

} // namespace

class MailBudgetTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(MailBudgetTest);
    CPPUNIT_TEST(testEmptyBudgetTakesLetterWithinLimits);
    CPPUNIT_TEST(testPairLimitCountsLinesAndBytesPerSenderAndRecipient);
    CPPUNIT_TEST(testSenderLimitCountsLinesAndBytesAcrossRecipients);
    CPPUNIT_TEST(testRecipientLimitCountsLinesAcrossSenders);
    CPPUNIT_TEST(testTotalLimitCountsBytesOfEveryone);
    CPPUNIT_TEST(testFirstLimitPassedIsNamed);
    CPPUNIT_TEST(testZeroLimitsHoldNothing);
    CPPUNIT_TEST(testRemoveGivesRoomBackAndForgetsEmptyTallies);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEmptyBudgetTakesLetterWithinLimits()
    {
        const MailBudget budget(roomyMailLimits());
        CPPUNIT_ASSERT(fits(budget, "alice", "bob", 100000));
        CPPUNIT_ASSERT(budget.exceeded("alice", "bob", 100001) == MailLimit::Pair);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), budget.lines());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), budget.bytes());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), budget.linesFor("bob"));
    }

    void testPairLimitCountsLinesAndBytesPerSenderAndRecipient()
    {
        MailBudget::Limits limits = roomyMailLimits();
        limits.pairLines = 2;
        limits.pairBytes = 300;
        MailBudget budget(limits);
        budget.add("alice", "bob", 100);
        budget.add("alice", "bob", 100);
        CPPUNIT_ASSERT(budget.exceeded("alice", "bob", 1) == MailLimit::Pair);
        // Another pair has its own tally, in either direction.
        CPPUNIT_ASSERT(fits(budget, "alice", "carol", 1));
        CPPUNIT_ASSERT(fits(budget, "bob", "alice", 1));
        CPPUNIT_ASSERT(fits(budget, "carol", "bob", 1));

        MailBudget bytes(limits);
        bytes.add("alice", "bob", 250);
        CPPUNIT_ASSERT(fits(bytes, "alice", "bob", 50));
        CPPUNIT_ASSERT(bytes.exceeded("alice", "bob", 51) == MailLimit::Pair);
    }

    void testSenderLimitCountsLinesAndBytesAcrossRecipients()
    {
        MailBudget::Limits limits = roomyMailLimits();
        limits.senderLines = 3;
        limits.senderBytes = 1000;
        MailBudget budget(limits);
        budget.add("alice", "bob", 10);
        budget.add("alice", "carol", 10);
        budget.add("alice", "dave", 10);
        CPPUNIT_ASSERT(budget.exceeded("alice", "erin", 10) == MailLimit::Sender);
        CPPUNIT_ASSERT(fits(budget, "bob", "erin", 10));

        MailBudget bytes(limits);
        bytes.add("alice", "bob", 600);
        CPPUNIT_ASSERT(bytes.exceeded("alice", "carol", 401) == MailLimit::Sender);
        CPPUNIT_ASSERT(fits(bytes, "alice", "carol", 400));
    }

    void testRecipientLimitCountsLinesAcrossSenders()
    {
        MailBudget::Limits limits = roomyMailLimits();
        limits.recipientLines = 2;
        MailBudget budget(limits);
        budget.add("alice", "bob", 10);
        budget.add("carol", "bob", 10);
        CPPUNIT_ASSERT(budget.exceeded("dave", "bob", 10) == MailLimit::Recipient);
        CPPUNIT_ASSERT(fits(budget, "dave", "erin", 10));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), budget.linesFor("bob"));
    }

    void testTotalLimitCountsBytesOfEveryone()
    {
        MailBudget::Limits limits = roomyMailLimits();
        limits.totalBytes = 1000;
        MailBudget budget(limits);
        budget.add("alice", "bob", 400);
        budget.add("carol", "dave", 400);
        CPPUNIT_ASSERT(budget.exceeded("erin", "frank", 201) == MailLimit::Total);
        CPPUNIT_ASSERT(fits(budget, "erin", "frank", 200));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), budget.lines());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(800), budget.bytes());
    }

    // The limit nearest the sender is named: it says best what the sender can do.
    void testFirstLimitPassedIsNamed()
    {
        MailBudget::Limits limits = roomyMailLimits();
        limits.pairLines = 1;
        limits.senderLines = 1;
        limits.recipientLines = 1;
        limits.totalBytes = 10;
        MailBudget budget(limits);
        budget.add("alice", "bob", 10);
        CPPUNIT_ASSERT(budget.exceeded("alice", "bob", 1) == MailLimit::Pair);
        CPPUNIT_ASSERT(budget.exceeded("alice", "carol", 1) == MailLimit::Sender);
        CPPUNIT_ASSERT(budget.exceeded("dave", "bob", 1) == MailLimit::Recipient);
        CPPUNIT_ASSERT(budget.exceeded("dave", "carol", 1) == MailLimit::Total);
    }

    void testZeroLimitsHoldNothing()
    {
        for (auto zero : {&MailBudget::Limits::pairLines, &MailBudget::Limits::senderLines,
                          &MailBudget::Limits::recipientLines}) {
            MailBudget::Limits limits = roomyMailLimits();
            limits.*zero = 0;
            CPPUNIT_ASSERT(!fits(MailBudget(limits), "alice", "bob", 0));
        }
        for (auto zero : {&MailBudget::Limits::pairBytes, &MailBudget::Limits::senderBytes,
                          &MailBudget::Limits::totalBytes}) {
            MailBudget::Limits limits = roomyMailLimits();
            limits.*zero = 0;
            CPPUNIT_ASSERT(!fits(MailBudget(limits), "alice", "bob", 1));
        }
    }

    void testRemoveGivesRoomBackAndForgetsEmptyTallies()
    {
        MailBudget::Limits limits = roomyMailLimits();
        limits.pairLines = 2;
        MailBudget budget(limits);
        budget.add("alice", "bob", 100);
        budget.add("alice", "bob", 200);
        budget.add("carol", "bob", 50);
        CPPUNIT_ASSERT(budget.exceeded("alice", "bob", 1) == MailLimit::Pair);
        budget.remove("alice", "bob", 100);
        CPPUNIT_ASSERT(fits(budget, "alice", "bob", 1));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), budget.linesFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(250), budget.bytes());
        budget.remove("alice", "bob", 200);
        budget.remove("carol", "bob", 50);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), budget.linesFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), budget.lines());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), budget.bytes());
        // A letter it never counted takes nothing away from the others.
        budget.add("alice", "bob", 10);
        budget.remove("dave", "erin", 10);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), budget.linesFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), budget.lines());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(10), budget.bytes());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailBudgetTest);
