#include "IndexDatabase.h"
#include "KeyRegistry.h"
#include "Mailbox.h"

#include "TempDir.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <iterator>

using peerchat::IndexDatabase;
using peerchat::KeyRegistry;
using peerchat::Mailbox;
using namespace Poco::Data::Keywords;

namespace {

Poco::Data::Session openRaw(const std::string& path)
{
    Poco::Data::SQLite::Connector::registerConnector();
    return Poco::Data::Session(Poco::Data::SQLite::Connector::KEY, path);
}

// The schema version written in a database file, read without IndexDatabase.
int userVersionOf(const std::string& path)
{
    auto session = openRaw(path);
    int version = -1;
    session << "PRAGMA user_version", into(version), now;
    return version;
}

// Every byte of a file, empty when it does not exist.
std::string contentsOf(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace

class IndexDatabaseTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IndexDatabaseTest);
    CPPUNIT_TEST(testOpenCreatesCurrentSchema);
    CPPUNIT_TEST(testOpenMigratesEmptyFile);
    CPPUNIT_TEST(testUpgradeDropsPlaintextMailAndCountsIt);
    CPPUNIT_TEST(testOpenRefusesNewerSchema);
    CPPUNIT_TEST(testOpenRefusesFileThatIsNotDatabase);
    CPPUNIT_TEST_SUITE_END();

public:
    void testOpenCreatesCurrentSchema()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        {
            IndexDatabase database(path);
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), database.droppedPlaintextLines());
        }
        CPPUNIT_ASSERT_EQUAL(IndexDatabase::kSchemaVersion, userVersionOf(path));
    }

    void testOpenMigratesEmptyFile()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        std::ofstream(path).close();
        CPPUNIT_ASSERT_EQUAL(0, userVersionOf(path));
        {
            IndexDatabase database(path);
            Mailbox box(database, 10);
            KeyRegistry keys(database);
            CPPUNIT_ASSERT(box.store("bob", Mailbox::Letter{"alice", "ab", 1, "x"}) == Mailbox::StoreResult::Stored);
            CPPUNIT_ASSERT(keys.bind("alice", peerchat::PublicKey{1}));
        }
        CPPUNIT_ASSERT_EQUAL(IndexDatabase::kSchemaVersion, userVersionOf(path));
        // Opening a current file again migrates nothing and keeps what it holds.
        IndexDatabase again(path);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), Mailbox(again, 10).countFor("bob"));
        CPPUNIT_ASSERT(KeyRegistry(again).identityOf("alice") == peerchat::PublicKey{1});
    }

    void testUpgradeDropsPlaintextMailAndCountsIt()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        const std::string secret = "the plaintext an older indexd kept";
        {
            // The file as the peerchat/1 indexd wrote it (schema 1).
            auto session = openRaw(path);
            session << "PRAGMA journal_mode = WAL", now;
            session << "CREATE TABLE mail (recipient TEXT NOT NULL, sender TEXT NOT NULL, stream TEXT NOT NULL,"
                       " seq INTEGER NOT NULL, time TEXT NOT NULL, text TEXT NOT NULL,"
                       " PRIMARY KEY (recipient, sender, stream, seq))",
                now;
            for (int seq = 1; seq <= 3; ++seq) {
                session << "INSERT INTO mail VALUES ('bob', 'alice', 'ab', ?, '12:00:00', ?)", use(seq),
                    bind(secret + " " + std::to_string(seq)), now;
            }
            session << "PRAGMA user_version = 1", now;
        }
        CPPUNIT_ASSERT(contentsOf(path).find(secret) != std::string::npos);
        {
            IndexDatabase database(path);
            CPPUNIT_ASSERT_EQUAL(std::size_t(3), database.droppedPlaintextLines());
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), Mailbox(database, 10).countFor("bob"));
            // Gone from the file at once, free pages included, not at some later checkpoint.
            CPPUNIT_ASSERT(contentsOf(path).find(secret) == std::string::npos);
            CPPUNIT_ASSERT(contentsOf(path + "-wal").find(secret) == std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(IndexDatabase::kSchemaVersion, userVersionOf(path));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), IndexDatabase(path).droppedPlaintextLines());
    }

    void testOpenRefusesNewerSchema()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        openRaw(path) << "PRAGMA user_version = " + std::to_string(IndexDatabase::kSchemaVersion + 1), now;
        try {
            IndexDatabase database(path);
            CPPUNIT_FAIL("a database from a newer indexd was opened");
        } catch (const Poco::IOException& e) {
            CPPUNIT_ASSERT_MESSAGE(e.message(), e.message().find(path) == 0);
            CPPUNIT_ASSERT_MESSAGE(e.message(), e.message().find("newer indexd") != std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(IndexDatabase::kSchemaVersion + 1, userVersionOf(path));
    }

    void testOpenRefusesFileThatIsNotDatabase()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        std::ofstream(path) << std::string(4096, 'x');
        for (const std::string& bad : {path, dir.path()}) {
            try {
                IndexDatabase database(bad);
                CPPUNIT_FAIL(bad + " was opened as a database");
            } catch (const Poco::IOException& e) {
                CPPUNIT_ASSERT_MESSAGE(e.message(), e.message().find(bad + ": ") == 0);
            }
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(IndexDatabaseTest);
