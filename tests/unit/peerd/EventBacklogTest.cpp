#include "EventBacklog.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using namespace peerchat;

namespace {

// Takes everything from backlog, at most step bytes at a time.
std::string drain(EventBacklog& backlog, std::size_t step)
{
    std::string taken;
    while (!backlog.empty()) {
        const std::string_view front = backlog.front();
        CPPUNIT_ASSERT(!front.empty());
        const std::size_t n = std::min(step, front.size());
        taken.append(front.data(), n);
        backlog.consume(n);
    }
    return taken;
}

} // namespace

class EventBacklogTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(EventBacklogTest);
    CPPUNIT_TEST(testNewBacklogIsEmpty);
    CPPUNIT_TEST(testBytesComeOutInOrderAcrossChunks);
    CPPUNIT_TEST(testFrontIsAtMostOneChunk);
    CPPUNIT_TEST(testPartlyWrittenChunkResumesWhereItStopped);
    CPPUNIT_TEST(testDrainedBacklogTakesMoreAgain);
    CPPUNIT_TEST(testClearDropsEverything);
    CPPUNIT_TEST_SUITE_END();

public:
    void testNewBacklogIsEmpty()
    {
        EventBacklog backlog;
        CPPUNIT_ASSERT(backlog.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), backlog.size());
        CPPUNIT_ASSERT(backlog.front().empty());
    }

    void testBytesComeOutInOrderAcrossChunks()
    {
        EventBacklog backlog;
        std::string expected;
        // Lines of many sizes, some longer than a chunk, so that lines straddle chunk boundaries.
        for (std::size_t i = 0; i < 400; ++i) {
            const std::string line = std::string((i * 7919) % (EventBacklog::kChunkBytes + 5000), char('a' + i % 26)) + "\n";
            backlog.append(line);
            expected += line;
        }
        CPPUNIT_ASSERT_EQUAL(expected.size(), backlog.size());
        CPPUNIT_ASSERT(drain(backlog, 1000) == expected);
        CPPUNIT_ASSERT(backlog.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), backlog.size());
    }

    void testFrontIsAtMostOneChunk()
    {
        EventBacklog backlog;
        backlog.append(std::string(3 * EventBacklog::kChunkBytes + 10, 'x'));
        CPPUNIT_ASSERT_EQUAL(EventBacklog::kChunkBytes, backlog.front().size());
        backlog.consume(EventBacklog::kChunkBytes);
        CPPUNIT_ASSERT_EQUAL(2 * EventBacklog::kChunkBytes + 10, backlog.size());
        CPPUNIT_ASSERT_EQUAL(EventBacklog::kChunkBytes, backlog.front().size());
    }

    void testPartlyWrittenChunkResumesWhereItStopped()
    {
        EventBacklog backlog;
        backlog.append("hello ");
        backlog.consume(2);
        backlog.append("world\n");
        CPPUNIT_ASSERT_EQUAL(std::string("llo world\n"), std::string(backlog.front()));
        CPPUNIT_ASSERT_EQUAL(std::size_t(10), backlog.size());
    }

    void testDrainedBacklogTakesMoreAgain()
    {
        EventBacklog backlog;
        backlog.append(std::string(EventBacklog::kChunkBytes * 2, 'x'));
        drain(backlog, EventBacklog::kChunkBytes);
        backlog.append("again\n");
        CPPUNIT_ASSERT_EQUAL(std::string("again\n"), drain(backlog, 100));
    }

    void testClearDropsEverything()
    {
        EventBacklog backlog;
        backlog.append(std::string(EventBacklog::kChunkBytes + 1, 'x'));
        backlog.consume(10);
        backlog.clear();
        CPPUNIT_ASSERT(backlog.empty());
        CPPUNIT_ASSERT(backlog.front().empty());
        backlog.append("next\n");
        CPPUNIT_ASSERT_EQUAL(std::string("next\n"), std::string(backlog.front()));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EventBacklogTest);
