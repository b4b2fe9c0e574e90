#include "RedoLog.h"
#include "TempDir.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <cerrno>
#include <csignal>
#include <sys/resource.h>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using peerchat::RedoLog;
using peerchat::test::TempDir;

namespace {

std::uint64_t fileSize(const std::string& path)
{
    struct stat status {};
    CPPUNIT_ASSERT_EQUAL(0, ::stat(path.c_str(), &status));
    return static_cast<std::uint64_t>(status.st_size);
}

// How many bytes of the file at path this process has mapped (/proc/self/maps).
std::uint64_t mappedBytesOf(const std::string& path)
{
    std::ifstream maps("/proc/self/maps");
    std::uint64_t bytes = 0;
    std::string line;
    while (std::getline(maps, line)) {
        if (line.size() < path.size() || line.compare(line.size() - path.size(), path.size(), path) != 0) continue;
        const std::size_t dash = line.find('-');
        const std::size_t space = line.find(' ');
        bytes += std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16) -
                 std::stoull(line.substr(0, dash), nullptr, 16);
    }
    return bytes;
}

// The payloads of what opening path recovers.
std::vector<std::string> recovered(const std::string& path)
{
    RedoLog log(path);
    std::vector<std::string> payloads;
    for (const RedoLog::Record& record : log.takeRecovered()) payloads.push_back(record.payload);
    return payloads;
}

} // namespace

class RedoLogTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(RedoLogTest);
    CPPUNIT_TEST(testRecordsComeBackInOrderWithTheirNumbers);
    CPPUNIT_TEST(testFileIsPrivate);
    CPPUNIT_TEST(testTornTailIsCutOffAndWrittenOver);
    CPPUNIT_TEST(testDamagedRecordEndsWhatIsRecovered);
    CPPUNIT_TEST(testClearEmptiesTheFile);
    CPPUNIT_TEST(testFailedAppendLeavesTheFileAsItWas);
    CPPUNIT_TEST(testRecordsOfAProcessThatDiedAreKept);
    CPPUNIT_TEST(testOnlyTheLastChunkIsMapped);
    CPPUNIT_TEST(testUnopenableLogSaysWhy);
    CPPUNIT_TEST_SUITE_END();

public:
    void testRecordsComeBackInOrderWithTheirNumbers()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        std::uint64_t size = 0;
        {
            RedoLog log(path);
            CPPUNIT_ASSERT(log.takeRecovered().empty());
            log.append(7, "first");
            log.append(8, "");
            log.append(9, std::string(100000, 'x'));
            size = log.size();
            CPPUNIT_ASSERT(fileSize(path) >= RedoLog::kChunk);
        }
        // Closed, the file holds just its records: what was allocated ahead goes back.
        CPPUNIT_ASSERT_EQUAL(size, fileSize(path));
        RedoLog log(path);
        const auto records = log.takeRecovered();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), records.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), records[0].seq);
        CPPUNIT_ASSERT_EQUAL(std::string("first"), records[0].payload);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(8), records[1].seq);
        CPPUNIT_ASSERT(records[1].payload.empty());
        CPPUNIT_ASSERT_EQUAL(std::string(100000, 'x'), records[2].payload);
        CPPUNIT_ASSERT_EQUAL(fileSize(path), log.size());
    }

    void testFileIsPrivate()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        RedoLog log(path);
        struct stat status {};
        CPPUNIT_ASSERT_EQUAL(0, ::stat(path.c_str(), &status));
        CPPUNIT_ASSERT_EQUAL(mode_t(0600), status.st_mode & 0777);
    }

    void testTornTailIsCutOffAndWrittenOver()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        std::uint64_t intact = 0;
        {
            RedoLog log(path);
            log.append(1, "one");
            log.append(2, "two");
            intact = log.size();
            log.append(3, "three");
        }
        // A power cut tore the last record.
        CPPUNIT_ASSERT_EQUAL(0, ::truncate(path.c_str(), static_cast<off_t>(intact + 10)));
        {
            RedoLog log(path);
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), log.takeRecovered().size());
            CPPUNIT_ASSERT_EQUAL(intact, fileSize(path));
            log.append(3, "three again");
        }
        CPPUNIT_ASSERT((recovered(path) == std::vector<std::string>{"one", "two", "three again"}));
    }

    void testDamagedRecordEndsWhatIsRecovered()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        {
            RedoLog log(path);
            log.append(1, "one");
            log.append(2, "two");
            log.append(3, "three");
        }
        // One byte of the second record's payload flipped.
        {
            std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
            file.seekp(16 + 3 + 16 + 1);
            file.put('X');
        }
        CPPUNIT_ASSERT((recovered(path) == std::vector<std::string>{"one"}));
    }

    void testClearEmptiesTheFile()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        {
            RedoLog log(path);
            log.append(1, "one");
            log.clear();
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), log.size());
            log.append(2, "two");
        }
        CPPUNIT_ASSERT((recovered(path) == std::vector<std::string>{"two"}));
    }

    void testFailedAppendLeavesTheFileAsItWas()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        {
            RedoLog log(path);
            log.append(1, "one");
            const std::uint64_t before = log.size();
            // The process may not grow the file any more: an append that needs more room than was allocated
            // ahead fails, with EFBIG; one that fits still goes in.
            const auto previous = std::signal(SIGXFSZ, SIG_IGN);
            rlimit saved {};
            ::getrlimit(RLIMIT_FSIZE, &saved);
            rlimit small = saved;
            small.rlim_cur = 4096;
            ::setrlimit(RLIMIT_FSIZE, &small);
            int code = 0;
            try {
                log.append(2, std::string(RedoLog::kChunk, 'x'));
            } catch (const Poco::IOException& e) {
                code = e.code();
            }
            log.append(2, "two");
            ::setrlimit(RLIMIT_FSIZE, &saved);
            std::signal(SIGXFSZ, previous);
            CPPUNIT_ASSERT_EQUAL(EFBIG, code);
            CPPUNIT_ASSERT_EQUAL(before + 16 + 3, log.size());
        }
        CPPUNIT_ASSERT((recovered(path) == std::vector<std::string>{"one", "two"}));
    }

    // Records are stored into a mapping of the file: a process that dies
    // right after append() returns (no destructor runs) leaves them in the
    // file, followed by the zeros allocated ahead, which the next open cuts off.
    void testRecordsOfAProcessThatDiedAreKept()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        const pid_t child = ::fork();
        CPPUNIT_ASSERT(child >= 0);
        if (child == 0) {
            RedoLog log(path);
            log.append(1, "one");
            log.append(2, std::string(RedoLog::kChunk, 'y'));
            log.append(3, "three");
            ::_exit(0);
        }
        int status = 0;
        CPPUNIT_ASSERT_EQUAL(child, ::waitpid(child, &status, 0));
        CPPUNIT_ASSERT(fileSize(path) > 3 * 16 + 3 + RedoLog::kChunk + 5);
        RedoLog log(path);
        const auto records = log.takeRecovered();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), records.size());
        CPPUNIT_ASSERT_EQUAL(std::string("three"), records[2].payload);
        CPPUNIT_ASSERT_EQUAL(log.size(), fileSize(path));
    }

    // A log that grows under load (the writer behind) must not grow the process's memory with it.
    void testOnlyTheLastChunkIsMapped()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        RedoLog log(path);
        const std::string record(1000, 'r');
        for (std::uint64_t seq = 1; log.size() < 8 * RedoLog::kChunk; ++seq) log.append(seq, record);
        CPPUNIT_ASSERT(fileSize(path) >= 8 * RedoLog::kChunk);
        CPPUNIT_ASSERT(mappedBytesOf(path) > 0);
        CPPUNIT_ASSERT(mappedBytesOf(path) <= RedoLog::kChunk);
    }

    void testUnopenableLogSaysWhy()
    {
        TempDir dir;
        try {
            RedoLog missing(dir.file("no/such/dir/redo"));
            CPPUNIT_FAIL("a log opened in a missing directory");
        } catch (const Poco::IOException& e) {
            CPPUNIT_ASSERT_EQUAL(ENOENT, e.code());
            CPPUNIT_ASSERT_EQUAL(0, static_cast<int>(e.message().find("cannot open " + dir.file("no/such/dir/redo"))));
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RedoLogTest);
