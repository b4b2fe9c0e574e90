#include "TempDir.h"
#include "Wait.h"
#include "WriteBehind.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <vector>

using peerchat::RedoLog;
using peerchat::WriteBehind;
using peerchat::test::TempDir;
using peerchat::test::waitUntil;

namespace {

/// A database that keeps what it is given in memory, and fails while told to.
struct FakeDatabase
{
    std::mutex mutex;
    std::vector<std::uint64_t> seqs;
    std::vector<std::string> payloads;
    std::size_t batches = 0;
    std::vector<std::size_t> sizes;
    std::atomic<bool> failing{false};
    /// While set, a batch waits for it to be cleared before it is taken.
    std::atomic<bool> held{false};
    std::atomic<bool> waiting{false};
    std::atomic<int> checkpoints{0};

    WriteBehind::Database callbacks()
    {
        return WriteBehind::Database{[this](const WriteBehind::Batch& batch) {
                                         if (failing) throw Poco::IOException("refused by the test");
                                         waiting = held.load();
                                         CPPUNIT_ASSERT(waitUntil([this] { return !held; }));
                                         std::lock_guard<std::mutex> lock(mutex);
                                         ++batches;
                                         sizes.push_back(batch.size());
                                         for (const RedoLog::Record* record : batch) {
                                             seqs.push_back(record->seq);
                                             payloads.push_back(record->payload);
                                         }
                                     },
                                     [this] { ++checkpoints; }};
    }

    std::vector<std::string> applied()
    {
        std::lock_guard<std::mutex> lock(mutex);
        return payloads;
    }
};

std::uint64_t fileSize(const std::string& path)
{
    struct stat status {};
    CPPUNIT_ASSERT_EQUAL(0, ::stat(path.c_str(), &status));
    return static_cast<std::uint64_t>(status.st_size);
}

// The seq of the record at the start of the log file at path (its frame: length, CRC, seq).
std::uint64_t firstSeqIn(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    char frame[16] = {};
    CPPUNIT_ASSERT(file.read(frame, sizeof frame));
    std::uint64_t seq = 0;
    for (int i = 0; i < 8; ++i) seq |= static_cast<std::uint64_t>(static_cast<unsigned char>(frame[8 + i])) << (8 * i);
    return seq;
}

} // namespace

class WriteBehindTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(WriteBehindTest);
    CPPUNIT_TEST(testAppliesEverythingInOrderNumbered);
    CPPUNIT_TEST(testReadFindsEveryChangeAppliedFirst);
    CPPUNIT_TEST(testLongQueueAppliedInBoundedBatches);
    CPPUNIT_TEST(testLoneChangeAppliedByTheWriterItself);
    CPPUNIT_TEST(testBuffersOfAppliedPayloadsComeBack);
    CPPUNIT_TEST(testFailingDatabaseRefusesChangesUntilItTakesThemAgain);
    CPPUNIT_TEST(testWriterTriesAFailedBatchAgainByItself);
    CPPUNIT_TEST(testWhatTheDatabaseRefusedStaysInTheLog);
    CPPUNIT_TEST(testLogEmptiedOnceBigAndAllApplied);
    CPPUNIT_TEST(testLogKeptWhileTheDatabaseIsBehind);
    CPPUNIT_TEST(testStopAppliesWhatIsQueuedAndEmptiesTheLog);
    CPPUNIT_TEST_SUITE_END();

public:
    void testAppliesEverythingInOrderNumbered()
    {
        FakeDatabase database;
        std::vector<std::string> appended;
        {
            WriteBehind writer(nullptr, 41, database.callbacks());
            for (int i = 0; i < 2000; ++i) {
                appended.push_back("change " + std::to_string(i));
                writer.append(appended.back());
            }
            writer.flush();
            CPPUNIT_ASSERT(database.applied() == appended);
        }
        for (std::size_t i = 0; i < database.seqs.size(); ++i)
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(41 + i), database.seqs[i]);
        // Changes that queued up while a batch was applied went in together.
        CPPUNIT_ASSERT(database.batches < appended.size());
    }

    void testReadFindsEveryChangeAppliedFirst()
    {
        FakeDatabase database;
        WriteBehind writer(nullptr, 1, database.callbacks());
        for (int i = 0; i < 100; ++i) {
            writer.append(std::to_string(i));
            CPPUNIT_ASSERT_EQUAL(std::size_t(i + 1), writer.read([&] { return database.applied().size(); }));
        }
    }

    void testLongQueueAppliedInBoundedBatches()
    {
        FakeDatabase database;
        WriteBehind writer(nullptr, 1, database.callbacks());
        std::vector<std::string> appended{"first"};
        // The writer is held in its first batch while twice kMostPerBatch and one more queue up.
        database.held = true;
        writer.append(appended.back());
        CPPUNIT_ASSERT(waitUntil([&] { return database.waiting.load(); }));
        for (std::size_t i = 0; i < 2 * WriteBehind::kMostPerBatch + 1; ++i) {
            appended.push_back(std::to_string(i));
            writer.append(appended.back());
        }
        database.held = false;
        writer.flush();
        CPPUNIT_ASSERT(database.applied() == appended);
        std::lock_guard<std::mutex> lock(database.mutex);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), database.sizes.front());
        CPPUNIT_ASSERT(database.sizes.size() >= 4);
        for (const std::size_t size : database.sizes) CPPUNIT_ASSERT(size <= WriteBehind::kMostPerBatch);
    }

    void testLoneChangeAppliedByTheWriterItself()
    {
        FakeDatabase database;
        WriteBehind writer(nullptr, 1, database.callbacks());
        // The writer gathers for a moment, then applies what it has without waiting for more.
        writer.append("alone");
        CPPUNIT_ASSERT(waitUntil([&] { return database.applied().size() == 1; }));
        writer.append("later");
        CPPUNIT_ASSERT(waitUntil([&] { return database.applied().size() == 2; }));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), database.batches);
    }

    // A payload the database is done with comes back from a later append()
    // as the buffer for the next one: empty, with its room; a payload too
    // large to keep does not.
    void testBuffersOfAppliedPayloadsComeBack()
    {
        FakeDatabase database;
        WriteBehind writer(nullptr, 1, database.callbacks());
        std::string payload(200, 'a');
        const char* const buffer = payload.data();
        CPPUNIT_ASSERT(writer.append(std::move(payload)).empty());
        writer.flush();
        std::string next = writer.append("second");
        CPPUNIT_ASSERT(next.empty());
        CPPUNIT_ASSERT_EQUAL(buffer, static_cast<const char*>(next.data()));
        CPPUNIT_ASSERT(next.capacity() >= 200);
        writer.append(std::string(WriteBehind::kMostSpareBytes + 1, 'b'));
        writer.flush();
        CPPUNIT_ASSERT(writer.append("third").capacity() < WriteBehind::kMostSpareBytes);
        writer.flush();
        CPPUNIT_ASSERT((database.applied() == std::vector<std::string>{std::string(200, 'a'), "second",
                                                                        std::string(WriteBehind::kMostSpareBytes + 1, 'b'),
                                                                        "third"}));
    }

    void testFailingDatabaseRefusesChangesUntilItTakesThemAgain()
    {
        FakeDatabase database;
        WriteBehind writer(nullptr, 1, database.callbacks());
        database.failing = true;
        writer.append("kept");
        CPPUNIT_ASSERT_THROW(writer.flush(), Poco::IOException);
        try {
            writer.append("refused");
            CPPUNIT_FAIL("a change was taken while the database fails");
        } catch (const Poco::IOException& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("refused by the test"), e.message());
        }
        database.failing = false;
        writer.append("after");
        writer.flush();
        CPPUNIT_ASSERT((database.applied() == std::vector<std::string>{"kept", "after"}));
    }

    void testWriterTriesAFailedBatchAgainByItself()
    {
        FakeDatabase database;
        WriteBehind writer(nullptr, 1, database.callbacks());
        database.failing = true;
        writer.append("kept");
        CPPUNIT_ASSERT_THROW(writer.flush(), Poco::IOException);
        database.failing = false;
        CPPUNIT_ASSERT(waitUntil([&] { return database.applied().size() == 1; }));
    }

    void testWhatTheDatabaseRefusedStaysInTheLog()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        FakeDatabase database;
        database.failing = true;
        {
            WriteBehind writer(std::make_unique<RedoLog>(path), 5, database.callbacks());
            writer.append("one");
            CPPUNIT_ASSERT_THROW(writer.flush(), Poco::IOException);
        }
        RedoLog log(path);
        const auto records = log.takeRecovered();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), records.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), records[0].seq);
        CPPUNIT_ASSERT_EQUAL(std::string("one"), records[0].payload);
    }

    void testLogEmptiedOnceBigAndAllApplied()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        FakeDatabase database;
        WriteBehind writer(std::make_unique<RedoLog>(path), 1, database.callbacks());
        writer.append("small");
        CPPUNIT_ASSERT(waitUntil([&] { return database.applied().size() == 1; }));
        CPPUNIT_ASSERT(fileSize(path) > 0);
        CPPUNIT_ASSERT_EQUAL(0, database.checkpoints.load());
        writer.append(std::string(RedoLog::kTurnAt, 'x'));
        // Checkpointed first, so that a power cut cannot lose what the log held.
        CPPUNIT_ASSERT(waitUntil([&] { return database.checkpoints.load() >= 1; }));
        writer.flush();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), database.applied().size());
        // The file starts over: the next change is its first record.
        writer.append("after");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), firstSeqIn(path));
    }

    // A file is emptied only once every change in it is in the database;
    // meanwhile changes go to the other file.
    void testLogKeptWhileTheDatabaseIsBehind()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        FakeDatabase database;
        WriteBehind writer(std::make_unique<RedoLog>(path), 1, database.callbacks());
        database.held = true;
        writer.append(std::string(RedoLog::kTurnAt, 'x'));
        CPPUNIT_ASSERT(waitUntil([&] { return database.waiting.load(); }));
        writer.append("second");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), firstSeqIn(path));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), firstSeqIn(path + "2"));
        CPPUNIT_ASSERT_EQUAL(0, database.checkpoints.load());
        database.held = false;
        CPPUNIT_ASSERT(waitUntil([&] { return database.checkpoints.load() >= 1; }));
        writer.flush();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), database.applied().size());
        // The first file started over: once the second is full too, changes go to the first's start.
        database.waiting = false;
        database.held = true;
        writer.append(std::string(RedoLog::kTurnAt, 'y'));
        CPPUNIT_ASSERT(waitUntil([&] { return database.waiting.load(); }));
        writer.append("fourth");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), firstSeqIn(path));
        database.held = false;
        writer.flush();
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), database.applied().size());
    }

    void testStopAppliesWhatIsQueuedAndEmptiesTheLog()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        FakeDatabase database;
        {
            WriteBehind writer(std::make_unique<RedoLog>(path), 1, database.callbacks());
            for (int i = 0; i < 500; ++i) writer.append(std::to_string(i));
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(500), database.applied().size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), fileSize(path));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WriteBehindTest);
