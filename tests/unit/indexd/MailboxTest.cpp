#include "Mailbox.h"

#include "TempDir.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <fstream>

using peerchat::Mailbox;
using peerchat::Msg;
using namespace Poco::Data::Keywords;

namespace {

Msg line(const std::string& from, const std::string& stream, std::uint64_t seq, const std::string& text = "hi")
{
    return Msg{stream, seq, "12:00:00", from, text};
}

std::vector<std::string> keysOf(const std::vector<Msg>& lines)
{
    std::vector<std::string> keys;
    for (const auto& m : lines) keys.push_back(m.from + "/" + m.stream + "/" + std::to_string(m.seq));
    return keys;
}

// The schema version written in a database file, read without Mailbox.
int userVersionOf(const std::string& path)
{
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
    int version = -1;
    session << "PRAGMA user_version", into(version), now;
    return version;
}

} // namespace

class MailboxTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(MailboxTest);
    CPPUNIT_TEST(testStoreKeepsLineAsWritten);
    CPPUNIT_TEST(testRepeatedStoreKeepsOneCopy);
    CPPUNIT_TEST(testStorePastLimitIsFull);
    CPPUNIT_TEST(testZeroLimitHoldsNothing);
    CPPUNIT_TEST(testWaitingForOrdersBySenderStreamAndSeq);
    CPPUNIT_TEST(testAcknowledgeRemovesStreamUpToSeq);
    CPPUNIT_TEST(testLinesSurviveReopen);
    CPPUNIT_TEST(testOpenMigratesEmptyFile);
    CPPUNIT_TEST(testOpenRefusesNewerSchema);
    CPPUNIT_TEST(testOpenRefusesFileThatIsNotDatabase);
    CPPUNIT_TEST_SUITE_END();

public:
    void testStoreKeepsLineAsWritten()
    {
        Mailbox box(":memory:", 10);
        const Msg written{"0123456789abcdef", 9223372036854775807ull, "3:04:05 PM", "天涯", "lunch, at 12? 好的"};
        CPPUNIT_ASSERT(box.store("bob", written) == Mailbox::StoreResult::Stored);
        const auto lines = box.waitingFor("bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), lines.size());
        CPPUNIT_ASSERT_EQUAL(written.stream, lines[0].stream);
        CPPUNIT_ASSERT_EQUAL(written.seq, lines[0].seq);
        CPPUNIT_ASSERT_EQUAL(written.time, lines[0].time);
        CPPUNIT_ASSERT_EQUAL(written.from, lines[0].from);
        CPPUNIT_ASSERT_EQUAL(written.text, lines[0].text);
        CPPUNIT_ASSERT(box.waitingFor("alice").empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.countFor("bob"));
    }

    void testRepeatedStoreKeepsOneCopy()
    {
        Mailbox box(":memory:", 10);
        CPPUNIT_ASSERT(box.store("bob", line("alice", "ab", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", line("alice", "ab", 1, "resent")) == Mailbox::StoreResult::Duplicate);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), box.countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("hi"), box.waitingFor("bob").front().text);
        // Another sender, recipient or position is another line.
        CPPUNIT_ASSERT(box.store("bob", line("carol", "ab", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("dave", line("alice", "ab", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", line("alice", "ab", 2)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", line("alice", "cd", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), box.countFor("bob"));
    }

    void testStorePastLimitIsFull()
    {
        Mailbox box(":memory:", 2);
        CPPUNIT_ASSERT(box.store("bob", line("alice", "ab", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", line("carol", "cd", 1)) == Mailbox::StoreResult::Stored);
        CPPUNIT_ASSERT(box.store("bob", line("alice", "ab", 2)) == Mailbox::StoreResult::Full);
        // A repeat of a line it holds is still a repeat, full or not.
        CPPUNIT_ASSERT(box.store("bob", line("alice", "ab", 1)) == Mailbox::StoreResult::Duplicate);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), box.countFor("bob"));
        // The bound is per recipient.
        CPPUNIT_ASSERT(box.store("dave", line("alice", "ab", 2)) == Mailbox::StoreResult::Stored);
        // An ack makes room.
        box.acknowledge("bob", "ab", 1);
        CPPUNIT_ASSERT(box.store("bob", line("alice", "ab", 2)) == Mailbox::StoreResult::Stored);
    }

    void testZeroLimitHoldsNothing()
    {
        Mailbox box(":memory:", 0);
        CPPUNIT_ASSERT(box.store("bob", line("alice", "ab", 1)) == Mailbox::StoreResult::Full);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), box.countFor("bob"));
    }

    void testWaitingForOrdersBySenderStreamAndSeq()
    {
        Mailbox box(":memory:", 10);
        for (const auto& m : {line("carol", "ef", 2), line("alice", "ab", 10), line("alice", "ab", 9),
                              line("carol", "ef", 1), line("alice", "ab", 2)})
            box.store("bob", m);
        const std::vector<std::string> expected{"alice/ab/2", "alice/ab/9", "alice/ab/10", "carol/ef/1", "carol/ef/2"};
        CPPUNIT_ASSERT(keysOf(box.waitingFor("bob")) == expected);
    }

    void testAcknowledgeRemovesStreamUpToSeq()
    {
        Mailbox box(":memory:", 10);
        for (std::uint64_t seq = 1; seq <= 4; ++seq) box.store("bob", line("alice", "ab", seq));
        box.store("bob", line("carol", "ef", 1));
        box.store("dave", line("alice", "ab", 1));

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

    void testLinesSurviveReopen()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        {
            Mailbox box(path, 10);
            box.store("bob", line("alice", "ab", 1, "first"));
            box.store("bob", line("alice", "ab", 2, "second"));
            box.store("bob", line("alice", "ab", 3, "third"));
            box.acknowledge("bob", "ab", 1);
        }
        Mailbox reopened(path, 10);
        const auto lines = reopened.waitingFor("bob");
        CPPUNIT_ASSERT(keysOf(lines) == (std::vector<std::string>{"alice/ab/2", "alice/ab/3"}));
        CPPUNIT_ASSERT_EQUAL(std::string("second"), lines[0].text);
        CPPUNIT_ASSERT(reopened.store("bob", line("alice", "ab", 2)) == Mailbox::StoreResult::Duplicate);
    }

    void testOpenMigratesEmptyFile()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        std::ofstream(path).close();
        CPPUNIT_ASSERT_EQUAL(0, userVersionOf(path));
        {
            Mailbox box(path, 10);
            CPPUNIT_ASSERT(box.store("bob", line("alice", "ab", 1)) == Mailbox::StoreResult::Stored);
        }
        CPPUNIT_ASSERT_EQUAL(Mailbox::kSchemaVersion, userVersionOf(path));
        // Opening a current file again migrates nothing and keeps its lines.
        Mailbox again(path, 10);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), again.countFor("bob"));
    }

    void testOpenRefusesNewerSchema()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        {
            Poco::Data::SQLite::Connector::registerConnector();
            Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
            session << "PRAGMA user_version = " + std::to_string(Mailbox::kSchemaVersion + 1), now;
        }
        try {
            Mailbox box(path, 10);
            CPPUNIT_FAIL("a database from a newer indexd was opened");
        } catch (const Poco::IOException& e) {
            CPPUNIT_ASSERT_MESSAGE(e.message(), e.message().find(path) == 0);
            CPPUNIT_ASSERT_MESSAGE(e.message(), e.message().find("newer indexd") != std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(Mailbox::kSchemaVersion + 1, userVersionOf(path));
    }

    void testOpenRefusesFileThatIsNotDatabase()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        std::ofstream(path) << std::string(4096, 'x');
        for (const std::string& bad : {path, dir.path()}) {
            try {
                Mailbox box(bad, 10);
                CPPUNIT_FAIL(bad + " was opened as a database");
            } catch (const Poco::IOException& e) {
                CPPUNIT_ASSERT_MESSAGE(e.message(), e.message().find(bad + ": ") == 0);
            }
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailboxTest);
