#include "IndexDatabase.h"
#include "KeyRegistry.h"
#include "Mailbox.h"

#include "RoomyMailLimits.h"
#include "TempDir.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <fstream>
#include <iterator>

using peerchat::IndexDatabase;
using peerchat::KeyRegistry;
using peerchat::Mailbox;
using peerchat::test::roomyMailLimits;
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

// The wall clock in milliseconds since 1970.
std::uint64_t systemMs()
{
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
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
    CPPUNIT_TEST(testUpgradeFromSchema2KeepsMailStampedAtUpgrade);
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
            Mailbox box(database, roomyMailLimits());
            KeyRegistry keys(database);
            CPPUNIT_ASSERT(box.store("bob", Mailbox::Letter{"alice", "ab", 1, "x"}, 0).kind
                           == Mailbox::StoreResult::Kind::Stored);
            CPPUNIT_ASSERT(keys.bind("alice", peerchat::PublicKey{1}));
        }
        CPPUNIT_ASSERT_EQUAL(IndexDatabase::kSchemaVersion, userVersionOf(path));
        // Opening a current file again migrates nothing and keeps what it holds.
        IndexDatabase again(path);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), Mailbox(again, roomyMailLimits()).countFor("bob"));
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
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), Mailbox(database, roomyMailLimits()).countFor("bob"));
            // Gone from the file at once, free pages included, not at some later checkpoint.
            CPPUNIT_ASSERT(contentsOf(path).find(secret) == std::string::npos);
            CPPUNIT_ASSERT(contentsOf(path + "-wal").find(secret) == std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(IndexDatabase::kSchemaVersion, userVersionOf(path));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), IndexDatabase(path).droppedPlaintextLines());
    }

    void testUpgradeFromSchema2KeepsMailStampedAtUpgrade()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        {
            // The file as the indexd of schema 2 wrote it.
            auto session = openRaw(path);
            session << "PRAGMA journal_mode = WAL", now;
            session << "CREATE TABLE mail (recipient TEXT NOT NULL, sender TEXT NOT NULL, stream TEXT NOT NULL,"
                       " seq INTEGER NOT NULL, box BLOB NOT NULL, PRIMARY KEY (recipient, sender, stream, seq))",
                now;
            session << "CREATE TABLE names (name TEXT PRIMARY KEY NOT NULL, identity BLOB NOT NULL)", now;
            for (int seq = 1; seq <= 3; ++seq)
                session << "INSERT INTO mail VALUES ('bob', 'alice', 'ab', ?, x'00ff00')", use(seq), now;
            session << "INSERT INTO names VALUES ('alice', zeroblob(32))", now;
            session << "PRAGMA user_version = 2", now;
        }
        const auto before = systemMs();
        IndexDatabase database(path);
        const auto after = systemMs();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), database.droppedPlaintextLines());
        CPPUNIT_ASSERT_EQUAL(IndexDatabase::kSchemaVersion, userVersionOf(path));
        Mailbox box(database, roomyMailLimits());
        const auto letters = box.waitingFor("bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), letters.size());
        CPPUNIT_ASSERT(letters[0].box == std::string("\x00\xff\x00", 3));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(9), box.budget().bytes());
        CPPUNIT_ASSERT(KeyRegistry(database).identityOf("alice") == peerchat::PublicKey{});
        // Stamped when upgraded (in whole seconds), so they expire a full age later, not at once.
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), box.expireBefore(before - 1000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), box.expireBefore(after + 1));
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
