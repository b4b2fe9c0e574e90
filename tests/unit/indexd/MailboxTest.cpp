#include "IndexDatabase.h"
#include "Mailbox.h"

#include "RoomyMailLimits.h"
#include "TempDir.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <memory>

using peerchat::IndexDatabase;
using peerchat::MailBudget;
using peerchat::Mailbox;
using peerchat::MailLimit;
using peerchat::test::roomyMailLimits;
using namespace Poco::Data::Keywords;

namespace {

using Kind = Mailbox::StoreResult::Kind;

constexpr std::uint64_t kT0 = 1700000000000;

Mailbox::Letter letter(const std::string& from, const std::string& stream, std::uint64_t seq,
                       const std::string& box = "sealed")
{
    return Mailbox::Letter{from, stream, seq, box};
}

std::vector<std::string> keysOf(const std::vector<Mailbox::Letter>& letters)
{
    std::vector<std::string> keys;
    for (const auto& l : letters) keys.push_back(l.from + "/" + l.stream + "/" + std::to_string(l.seq));
    return keys;
}

// What store() did, as its kind.
Kind store(Mailbox& box, const std::string& to, const Mailbox::Letter& letter, std::uint64_t atMs = kT0)
{
    return box.store(to, letter, atMs).kind;
}

// The limit that refused letter; fails the test when it was not refused.
MailLimit refusal(Mailbox& box, const std::string& to, const Mailbox::Letter& letter)
{
    const auto result = box.store(to, letter, kT0);
    CPPUNIT_ASSERT(result.kind == Kind::Refused);
    return result.limit;
}

} // namespace

class MailboxTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(MailboxTest);
    CPPUNIT_TEST(testStoreKeepsBoxAsGiven);
    CPPUNIT_TEST(testRepeatedStoreKeepsOneCopy);
    CPPUNIT_TEST(testStorePastLimitIsFull);
    CPPUNIT_TEST(testZeroLimitHoldsNothing);
    CPPUNIT_TEST(testWaitingForOrdersBySenderStreamAndSeq);
    CPPUNIT_TEST(testAcknowledgeRemovesStreamUpToSeq);
    CPPUNIT_TEST(testLettersSurviveReopen);
    CPPUNIT_TEST(testStoreOverLimitNamesIt);
    CPPUNIT_TEST(testBudgetCountsWhatTheFileHoldsAtOpen);
    CPPUNIT_TEST(testAcknowledgeGivesBudgetBack);
    CPPUNIT_TEST(testExpireRemovesLettersStoredBeforeCutoff);
    CPPUNIT_TEST(testFailedStoreChangesNothingAndNextWorks);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { _database = std::make_unique<IndexDatabase>(":memory:"); }

    void testStoreKeepsBoxAsGiven()
    {
        Mailbox box(*_database, roomyMailLimits(10));
        // Ciphertext is any bytes: NULs, invalid UTF-8, all 256 values.
        std::string bytes;
        for (int i = 0; i < 512; ++i) bytes.push_back(static_cast<char>(i % 256));
        const Mailbox::Letter written{"天涯", "0123456789abcdef", 9223372036854775807ull, bytes};
        CPPUNIT_ASSERT(store(box, "bob", written) == Kind::Stored);
        const auto letters = box.waitingFor("bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), letters.size());
        CPPUNIT_ASSERT_EQUAL(written.from, letters[0].from);
        CPPUNIT_ASSERT_EQUAL(written.stream, letters[0].stream);
        CPPUNIT_ASSERT_EQUAL(written.seq, letters[0].seq);
        CPPUNIT_ASSERT(written.box == letters[0].box);
        CPPUNIT_ASSERT(box.waitingFor("alice").empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.countFor("bob"));
    }

    void testRepeatedStoreKeepsOneCopy()
    {
        Mailbox box(*_database, roomyMailLimits(10));
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 1)) == Kind::Stored);
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 1, "resent")) == Kind::Duplicate);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("sealed"), box.waitingFor("bob").front().box);
        // Another sender, recipient or position is another letter.
        CPPUNIT_ASSERT(store(box, "bob", letter("carol", "ab", 1)) == Kind::Stored);
        CPPUNIT_ASSERT(store(box, "dave", letter("alice", "ab", 1)) == Kind::Stored);
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 2)) == Kind::Stored);
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "cd", 1)) == Kind::Stored);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), box.countFor("bob"));
    }

    void testStorePastLimitIsFull()
    {
        Mailbox box(*_database, roomyMailLimits(2));
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 1)) == Kind::Stored);
        CPPUNIT_ASSERT(store(box, "bob", letter("carol", "cd", 1)) == Kind::Stored);
        CPPUNIT_ASSERT(refusal(box, "bob", letter("alice", "ab", 2)) == MailLimit::Recipient);
        // A repeat of a letter it holds is still a repeat, full or not.
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 1)) == Kind::Duplicate);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), box.countFor("bob"));
        // The bound is per recipient.
        CPPUNIT_ASSERT(store(box, "dave", letter("alice", "ab", 2)) == Kind::Stored);
        // An ack makes room.
        box.acknowledge("bob", "ab", 1);
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 2)) == Kind::Stored);
    }

    void testZeroLimitHoldsNothing()
    {
        Mailbox box(*_database, roomyMailLimits(0));
        CPPUNIT_ASSERT(refusal(box, "bob", letter("alice", "ab", 1)) == MailLimit::Recipient);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), box.countFor("bob"));
    }

    void testWaitingForOrdersBySenderStreamAndSeq()
    {
        Mailbox box(*_database, roomyMailLimits(10));
        for (const auto& l : {letter("carol", "ef", 2), letter("alice", "ab", 10), letter("alice", "ab", 9),
                              letter("carol", "ef", 1), letter("alice", "ab", 2)})
            store(box, "bob", l);
        const std::vector<std::string> expected{"alice/ab/2", "alice/ab/9", "alice/ab/10", "carol/ef/1", "carol/ef/2"};
        CPPUNIT_ASSERT(keysOf(box.waitingFor("bob")) == expected);
    }

    void testAcknowledgeRemovesStreamUpToSeq()
    {
        Mailbox box(*_database, roomyMailLimits(10));
        for (std::uint64_t seq = 1; seq <= 4; ++seq) store(box, "bob", letter("alice", "ab", seq));
        store(box, "bob", letter("carol", "ef", 1));
        store(box, "dave", letter("alice", "ab", 1));

        CPPUNIT_ASSERT_EQUAL(std::size_t(2), box.acknowledge("bob", "ab", 2));
        CPPUNIT_ASSERT(keysOf(box.waitingFor("bob"))
                       == (std::vector<std::string>{"alice/ab/3", "alice/ab/4", "carol/ef/1"}));
        // Acks are cumulative: an old one removes nothing more.
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), box.acknowledge("bob", "ab", 1));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), box.acknowledge("bob", "zz", 100));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), box.acknowledge("bob", "ab", 100));
        CPPUNIT_ASSERT(keysOf(box.waitingFor("bob")) == std::vector<std::string>{"carol/ef/1"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.countFor("dave"));
    }

    void testLettersSurviveReopen()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        {
            IndexDatabase database(path);
            Mailbox box(database, roomyMailLimits(10));
            store(box, "bob", letter("alice", "ab", 1, "first"));
            store(box, "bob", letter("alice", "ab", 2, "second"));
            store(box, "bob", letter("alice", "ab", 3, "third"));
            box.acknowledge("bob", "ab", 1);
        }
        IndexDatabase database(path);
        Mailbox reopened(database, roomyMailLimits(10));
        const auto letters = reopened.waitingFor("bob");
        CPPUNIT_ASSERT(keysOf(letters) == (std::vector<std::string>{"alice/ab/2", "alice/ab/3"}));
        CPPUNIT_ASSERT_EQUAL(std::string("second"), letters[0].box);
        CPPUNIT_ASSERT(store(reopened, "bob", letter("alice", "ab", 2)) == Kind::Duplicate);
    }

    void testStoreOverLimitNamesIt()
    {
        MailBudget::Limits limits = roomyMailLimits(3);
        limits.pairLines = 2;
        limits.senderBytes = 20;
        limits.totalBytes = 20;
        Mailbox box(*_database, limits);
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 1, "12345")) == Kind::Stored);
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 2, "12345")) == Kind::Stored);
        CPPUNIT_ASSERT(refusal(box, "bob", letter("alice", "ab", 3, "12345")) == MailLimit::Pair);
        CPPUNIT_ASSERT(store(box, "carol", letter("alice", "cd", 1, "12345")) == Kind::Stored);
        CPPUNIT_ASSERT(refusal(box, "dave", letter("alice", "ef", 1, "123456")) == MailLimit::Sender);
        CPPUNIT_ASSERT(store(box, "bob", letter("erin", "gh", 1, "1")) == Kind::Stored);
        CPPUNIT_ASSERT(refusal(box, "bob", letter("frank", "ij", 1, "1")) == MailLimit::Recipient);
        CPPUNIT_ASSERT(refusal(box, "dave", letter("frank", "ij", 1, "12345")) == MailLimit::Total);
        // Refused is not kept: the budget and the table agree.
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), box.countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), box.countFor("dave"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(16), box.budget().bytes());
        // A repeat of a letter held is a repeat, however full.
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 2, "12345")) == Kind::Duplicate);
    }

    void testBudgetCountsWhatTheFileHoldsAtOpen()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        MailBudget::Limits limits = roomyMailLimits();
        limits.pairLines = 2;
        {
            IndexDatabase database(path);
            Mailbox box(database, limits);
            store(box, "bob", letter("alice", "ab", 1, "123"));
            store(box, "bob", letter("alice", "ab", 2, "4567"));
            store(box, "carol", letter("alice", "cd", 1, "89"));
        }
        IndexDatabase database(path);
        Mailbox reopened(database, limits);
        CPPUNIT_ASSERT(refusal(reopened, "bob", letter("alice", "ab", 3)) == MailLimit::Pair);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), reopened.countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), reopened.budget().lines());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(9), reopened.budget().bytes());
    }

    void testAcknowledgeGivesBudgetBack()
    {
        MailBudget::Limits limits = roomyMailLimits();
        limits.pairLines = 2;
        Mailbox box(*_database, limits);
        store(box, "bob", letter("alice", "ab", 1, "123"));
        store(box, "bob", letter("alice", "ab", 2, "4567"));
        CPPUNIT_ASSERT(refusal(box, "bob", letter("alice", "ab", 3)) == MailLimit::Pair);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.acknowledge("bob", "ab", 1));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), box.budget().bytes());
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 3)) == Kind::Stored);
        box.acknowledge("bob", "ab", 3);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), box.countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), box.budget().bytes());
    }

    void testExpireRemovesLettersStoredBeforeCutoff()
    {
        MailBudget::Limits limits = roomyMailLimits();
        limits.pairLines = 2;
        Mailbox box(*_database, limits);
        store(box, "bob", letter("alice", "ab", 1), kT0);
        store(box, "bob", letter("alice", "ab", 2), kT0 + 1000);
        store(box, "carol", letter("dave", "cd", 1), kT0 + 500);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), box.expireBefore(kT0));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), box.expireBefore(kT0 + 1000));
        CPPUNIT_ASSERT(keysOf(box.waitingFor("bob")) == std::vector<std::string>{"alice/ab/2"});
        CPPUNIT_ASSERT(box.waitingFor("carol").empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.budget().lines());
        // The room an expired letter took is the sender's again.
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 3), kT0 + 2000) == Kind::Stored);
    }

    // SQLite answers SQLITE_FULL past max_page_count, as it does on a full disk.
    void testFailedStoreChangesNothingAndNextWorks()
    {
        Mailbox box(*_database, roomyMailLimits());
        store(box, "bob", letter("alice", "ab", 1));
        int pages = 0;
        _database->session() << "PRAGMA page_count", into(pages), now;
        _database->session() << "PRAGMA max_page_count = " + std::to_string(pages), now;
        const std::string big(20000, 'x');
        CPPUNIT_ASSERT_THROW(box.store("bob", letter("alice", "ab", 2, big), kT0), Poco::Exception);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.waitingFor("bob").size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), box.budget().bytes());

        _database->session() << "PRAGMA max_page_count = 1000000", now;
        CPPUNIT_ASSERT(store(box, "bob", letter("alice", "ab", 2, big)) == Kind::Stored);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), box.waitingFor("bob").size());
    }

private:
    std::unique_ptr<IndexDatabase> _database;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailboxTest);
