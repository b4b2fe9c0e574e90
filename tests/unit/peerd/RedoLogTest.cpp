#include "Crc32c.h"
#include "RedoLog.h"
#include "TempDir.h"

#include <Poco/Checksum.h>
#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <cerrno>
#include <csignal>
#include <sys/resource.h>
#include <fstream>
#include <functional>
#include <iterator>
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

// Runs body in a child process; body ends it with ::_exit(CODE), so that
// no destructor runs, as after kill -9. Returns CODE (99: body threw).
int inProcessThatDies(const std::function<void()>& body)
{
    const pid_t child = ::fork();
    CPPUNIT_ASSERT(child >= 0);
    if (child == 0) {
        try {
            body();
        } catch (...) {
        }
        ::_exit(99);
    }
    int status = 0;
    CPPUNIT_ASSERT_EQUAL(child, ::waitpid(child, &status, 0));
    CPPUNIT_ASSERT(WIFEXITED(status));
    return WEXITSTATUS(status);
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
    CPPUNIT_TEST(testRecordsOfAnOlderPeerdAreRead);
    CPPUNIT_TEST(testCrc32cIsTheCastagnoliCheck);
    CPPUNIT_TEST(testClearEmptiesTheFile);
    CPPUNIT_TEST(testFailedAppendLeavesTheFileAsItWas);
    CPPUNIT_TEST(testRecordsOfAProcessThatDiedAreKept);
    CPPUNIT_TEST(testOnlyTheLastPartOfABigFileIsMapped);
    CPPUNIT_TEST(testRecordsGoToTheSecondFileOnceTheFirstIsFull);
    CPPUNIT_TEST(testReleasedFileStartsOverInItsOwnPages);
    CPPUNIT_TEST(testFileWithUnappliedRecordsIsNotReleased);
    CPPUNIT_TEST(testRecordOutOfTurnEndsWhatIsRecovered);
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

    // Records framed by a peerd before CRC-32C: the length's top bit clear, zlib's CRC-32 of seq and payload.
    void testRecordsOfAnOlderPeerdAreRead()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        {
            std::ofstream file(path, std::ios::binary);
            std::uint64_t seq = 1;
            for (const std::string payload : {"one", "two"}) {
                std::string frame(16, '\0');
                for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>((payload.size() >> (8 * i)) & 0xff);
                for (int i = 0; i < 8; ++i) frame[8 + i] = static_cast<char>((seq >> (8 * i)) & 0xff);
                frame += payload;
                Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
                crc.update(frame.data() + 8, static_cast<unsigned>(8 + payload.size()));
                for (int i = 0; i < 4; ++i) frame[4 + i] = static_cast<char>((crc.checksum() >> (8 * i)) & 0xff);
                file << frame;
                ++seq;
            }
        }
        {
            RedoLog log(path);
            CPPUNIT_ASSERT_EQUAL(std::size_t(2), log.takeRecovered().size());
            log.append(3, "three");
        }
        CPPUNIT_ASSERT((recovered(path) == std::vector<std::string>{"one", "two", "three"}));
    }

    void testCrc32cIsTheCastagnoliCheck()
    {
        // RFC 3720's check value, and one longer than a word on either path.
        const std::string digits = "123456789";
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0xe3069283), peerchat::crc32c(digits.data(), digits.size()));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0xe3069283), peerchat::crc32cFromTable(digits.data(), digits.size()));
        std::string bytes;
        for (int i = 0; i < 1000; ++i) bytes += static_cast<char>((i * 7919) & 0xff);
        for (std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(7), std::size_t(8), std::size_t(999)}) {
            CPPUNIT_ASSERT_EQUAL(peerchat::crc32cFromTable(bytes.data(), size), peerchat::crc32c(bytes.data(), size));
        }
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
        CPPUNIT_ASSERT_EQUAL(0, inProcessThatDies([&] {
            RedoLog log(path);
            log.append(1, "one");
            log.append(2, std::string(RedoLog::kChunk, 'y'));
            log.append(3, "three");
            ::_exit(0);
        }));
        CPPUNIT_ASSERT(fileSize(path) > 3 * 16 + 3 + RedoLog::kChunk + 5);
        RedoLog log(path);
        const auto records = log.takeRecovered();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), records.size());
        CPPUNIT_ASSERT_EQUAL(std::string("three"), records[2].payload);
        CPPUNIT_ASSERT_EQUAL(log.size(), fileSize(path));
    }

    // A log that grows under load (the writer behind) must not grow the process's memory with it.
    void testOnlyTheLastPartOfABigFileIsMapped()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        RedoLog log(path);
        const std::string record(1000, 'r');
        // Nothing is released: the first file stops at kTurnAt, the second takes the rest.
        const std::uint64_t big = RedoLog::kMostKept + 8 * RedoLog::kChunk;
        for (std::uint64_t seq = 1; log.size() < RedoLog::kTurnAt + big; ++seq) log.append(seq, record);
        CPPUNIT_ASSERT(fileSize(path + "2") >= big);
        CPPUNIT_ASSERT(mappedBytesOf(path + "2") > 0);
        CPPUNIT_ASSERT(mappedBytesOf(path + "2") <= RedoLog::kChunk);
        CPPUNIT_ASSERT(mappedBytesOf(path) <= RedoLog::kMostKept);
    }

    // Once the first file holds kTurnAt bytes, records go to the second (an
    // empty one); opened again, the log gives back the records of both in order.
    void testRecordsGoToTheSecondFileOnceTheFirstIsFull()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        const std::string record(1000, 'r');
        std::uint64_t seq = 0;
        {
            RedoLog log(path);
            while (log.size() < RedoLog::kTurnAt) log.append(++seq, record);
            log.append(++seq, "second file");
            log.append(++seq, "second file too");
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(16 + 11 + 16 + 15), fileSize(path + "2"));
        RedoLog log(path);
        const auto records = log.takeRecovered();
        CPPUNIT_ASSERT_EQUAL(static_cast<std::size_t>(seq), records.size());
        for (std::size_t i = 0; i < records.size(); ++i) CPPUNIT_ASSERT_EQUAL(std::uint64_t(i + 1), records[i].seq);
        CPPUNIT_ASSERT_EQUAL(std::string("second file too"), records.back().payload);
    }

    // A file whose records are all applied starts over from its first byte in
    // the same mapping; a process that dies then leaves the new records
    // followed by the earlier round's, and only the new ones come back.
    void testReleasedFileStartsOverInItsOwnPages()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        CPPUNIT_ASSERT_EQUAL(0, inProcessThatDies([&] {
            RedoLog log(path);
            const std::string record(1000, 'r');
            std::uint64_t seq = 0;
            while (log.size() < RedoLog::kTurnAt) log.append(++seq, record);
            const std::uint64_t mapped = mappedBytesOf(path);
            if (!log.releases(seq)) ::_exit(1);
            log.release(seq);
            if (log.size() != 0) ::_exit(2);
            // Records as long as the earlier round's: the new ones end where an old one begins.
            log.append(seq + 1, std::string(1000, 'n'));
            log.append(seq + 2, std::string(1000, 'm'));
            // The same pages, mapped once, and the file as long as before.
            ::_exit(mappedBytesOf(path) == mapped && fileSize(path) >= RedoLog::kTurnAt ? 0 : 3);
        }));
        CPPUNIT_ASSERT((recovered(path) == std::vector<std::string>{std::string(1000, 'n'), std::string(1000, 'm')}));
    }

    void testFileWithUnappliedRecordsIsNotReleased()
    {
        TempDir dir;
        const std::string path = dir.file("redo");
        RedoLog log(path);
        log.append(1, "small");
        CPPUNIT_ASSERT(!log.releases(1));
        const std::string record(1000, 'r');
        std::uint64_t seq = 1;
        while (log.size() < RedoLog::kTurnAt) log.append(++seq, record);
        CPPUNIT_ASSERT(!log.releases(seq - 1));
        log.release(seq - 1);
        CPPUNIT_ASSERT(log.size() >= RedoLog::kTurnAt);
    }

    // A record that does not follow the one before it (an earlier round's,
    // kept by a power cut in place of a newer page) ends what is recovered.
    void testRecordOutOfTurnEndsWhatIsRecovered()
    {
        TempDir dir;
        const auto closedLog = [&](const std::string& name, std::uint64_t seq, const std::vector<std::string>& payloads) {
            {
                RedoLog log(dir.file(name));
                for (const std::string& payload : payloads) log.append(seq++, payload);
            }
            std::ifstream file(dir.file(name), std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(file), {});
        };
        const std::string newer = closedLog("newer", 5, {"five", "six"});
        const std::string earlier = closedLog("earlier", 2, {"two"});
        const std::string next = closedLog("next", 7, {"seven"});
        const std::string path = dir.file("redo");
        std::ofstream(path, std::ios::binary) << newer << earlier << next;
        CPPUNIT_ASSERT((recovered(path) == std::vector<std::string>{"five", "six"}));
        std::ofstream(path, std::ios::binary | std::ios::trunc) << newer << next;
        CPPUNIT_ASSERT((recovered(path) == std::vector<std::string>{"five", "six", "seven"}));
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
