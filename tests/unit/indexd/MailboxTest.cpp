#include "IndexDatabase.h"
#include "Mailbox.h"

#include "TempDir.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>

using peerchat::IndexDatabase;
using peerchat::Mailbox;

namespace {

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
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { _database = std::make_unique<IndexDatabase>(":memory:"); }

    void testStoreKeepsBoxAsGiven()
    {
        Mailbox box(*_database, 10);
        // Ciphertext is any bytes: NULs, invalid UTF-8, all 256 values.
        std::string bytes;
        for (int i = 0; i < 512; ++i) bytes.push_back(static_cast<char>(i % 256));
        const Mailbox::Letter written{"天涯", "0123456789abcdef", 9223372036854775807ull, bytes};
        CPPUNIT_ASSERT(box.store("bob", written) == Mailbox::StoreResult::Stored);
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
        Mailbox box(*_database, 10);
        CPPUNIT_ASSERT(box.store("bob", letter("alice", "ab", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", letter("alice", "ab", 1, "resent")) == Mailbox::StoreResult::Duplicate);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("sealed"), box.waitingFor("bob").front().box);
        // Another sender, recipient or position is another letter.
        CPPUNIT_ASSERT(box.store("bob", letter("carol", "ab", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("dave", letter("alice", "ab", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", letter("alice", "ab", 2)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", letter("alice", "cd", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), box.countFor("bob"));
    }

    void testStorePastLimitIsFull()
    {
        Mailbox box(*_database, 2);
        CPPUNIT_ASSERT(box.store("bob", letter("alice", "ab", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", letter("carol", "cd", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", letter("alice", "ab", 2)) == Mailbox::StoreResult::Full);
        // A repeat of a letter it holds is still a repeat, full or not.
        CPPUNIT_ASSERT(box.store("bob", letter("alice", "ab", 1)) == Mailbox::StoreResult::Duplicate);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), box.countFor("bob"));
        // The bound is per recipient.
        CPPUNIT_ASSERT(box.store("dave", letter("alice", "ab", 2)) == Mailbox::StoreResult::Stored);
        // An ack makes room.
        box.acknowledge("bob", "ab", 1);
        CPPUNIT_ASSERT(box.store("bob", letter("alice", "ab", 2)) == Mailbox::StoreResult::Stored);
    }

    void testZeroLimitHoldsNothing()
    {
        Mailbox box(*_database, 0);
        CPPUNIT_ASSERT(box.store("bob", letter("alice", "ab", 1)) == Mailbox::StoreResult::Full);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), box.countFor("bob"));
    }

    void testWaitingForOrdersBySenderStreamAndSeq()
    {
        Mailbox box(*_database, 10);
        for (const auto& l : {letter("carol", "ef", 2), letter("alice", "ab", 10), letter("alice", "ab", 9),
                              letter("carol", "ef", 1), letter("alice", "ab", 2)})
            box.store("bob", l);
        const std::vector<std::string> expected{"alice/ab/2", "alice/ab/9", "alice/ab/10", "carol/ef/1", "carol/ef/2"};
        CPPUNIT_ASSERT(keysOf(box.waitingFor("bob")) == expected);
    }

    void testAcknowledgeRemovesStreamUpToSeq()
    {
        Mailbox box(*_database, 10);
        for (std::uint64_t seq = 1; seq <= 4; ++seq) box.store("bob", letter("alice", "ab", seq));
        box.store("bob", letter("carol", "ef", 1));
        box.store("dave", letter("alice", "ab", 1));

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
            Mailbox box(database, 10);
            box.store("bob", letter("alice", "ab", 1, "first"));
            box.store("bob", letter("alice", "ab", 2, "second"));
            box.store("bob", letter("alice", "ab", 3, "third"));
            box.acknowledge("bob", "ab", 1);
        }
        IndexDatabase database(path);
        Mailbox reopened(database, 10);
        const auto letters = reopened.waitingFor("bob");
        CPPUNIT_ASSERT(keysOf(letters) == (std::vector<std::string>{"alice/ab/2", "alice/ab/3"}));
        CPPUNIT_ASSERT_EQUAL(std::string("second"), letters[0].box);
        CPPUNIT_ASSERT(reopened.store("bob", letter("alice", "ab", 2)) == Mailbox::StoreResult::Duplicate);
    }

private:
    std::unique_ptr<IndexDatabase> _database;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailboxTest);
