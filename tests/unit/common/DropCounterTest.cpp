#include "DropCounter.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <string>

using namespace peerchat;
using namespace std::chrono_literals;

namespace {

Endpoint endpoint(const std::string& text)
{
    return *Endpoint::parse(text);
}

} // namespace

class DropCounterTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(DropCounterTest);
    CPPUNIT_TEST(testSummarizeNothingAsEmpty);
    CPPUNIT_TEST(testSummarizeCountsByReasonWithFirstExample);
    CPPUNIT_TEST(testStartNewIntervalAfterSummary);
    CPPUNIT_TEST(testKeepTotalsAcrossIntervals);
    CPPUNIT_TEST(testWantDetailOnlyForFirstOfInterval);
    CPPUNIT_TEST(testShortenAndCleanLongDetails);
    CPPUNIT_TEST(testSummarizeConnectionsCutTooSlow);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSummarizeNothingAsEmpty()
    {
        DropCounter counter;
        CPPUNIT_ASSERT_EQUAL(std::string(), counter.takeSummary(10s));
    }

    void testSummarizeCountsByReasonWithFirstExample()
    {
        DropCounter counter;
        for (int i = 0; i < 2000; ++i) counter.count(DropReason::Malformed, endpoint("192.0.2.1:5000"), "unknown verb 'x'");
        counter.count(DropReason::RateLimited, endpoint("192.0.2.9:7"), "over 20 a second");
        counter.count(DropReason::Malformed, endpoint("192.0.2.2:1"), "not valid UTF-8");
        CPPUNIT_ASSERT_EQUAL(std::string("dropped 2002 datagrams in the last 10000 ms: 2001 malformed (first from "
                                         "192.0.2.1:5000: unknown verb 'x'), 1 rate-limited (first from 192.0.2.9:7: "
                                         "over 20 a second)"),
                             counter.takeSummary(10s));
    }

    void testStartNewIntervalAfterSummary()
    {
        DropCounter counter;
        counter.count(DropReason::Stranger, endpoint("192.0.2.1:5000"), "");
        CPPUNIT_ASSERT(!counter.takeSummary(1s).empty());
        CPPUNIT_ASSERT_EQUAL(std::string(), counter.takeSummary(1s));
        counter.count(DropReason::Stranger, endpoint("192.0.2.3:3"), "");
        CPPUNIT_ASSERT_EQUAL(std::string("dropped 1 datagram in the last 500 ms: 1 from strangers (first from "
                                         "192.0.2.3:3)"),
                             counter.takeSummary(500ms));
    }

    void testKeepTotalsAcrossIntervals()
    {
        DropCounter counter;
        counter.count(DropReason::Oversize, endpoint("192.0.2.1:5000"), "");
        counter.takeSummary(1s);
        counter.count(DropReason::Oversize, endpoint("192.0.2.1:5000"), "");
        counter.count(DropReason::Refused, endpoint("192.0.2.1:5000"), "");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{2}, counter.total(DropReason::Oversize));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{0}, counter.total(DropReason::Malformed));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t{3}, counter.total());
    }

    void testWantDetailOnlyForFirstOfInterval()
    {
        DropCounter counter;
        CPPUNIT_ASSERT(counter.wantsDetail(DropReason::Unauthentic));
        counter.count(DropReason::Unauthentic, endpoint("192.0.2.1:5000"), "bad seal");
        CPPUNIT_ASSERT(!counter.wantsDetail(DropReason::Unauthentic));
        CPPUNIT_ASSERT(counter.wantsDetail(DropReason::Unexpected));
        counter.takeSummary(1s);
        CPPUNIT_ASSERT(counter.wantsDetail(DropReason::Unauthentic));
    }

    void testShortenAndCleanLongDetails()
    {
        DropCounter counter;
        // A detail quoting an attacker: a newline must not start a forged log line, and it must stay short.
        std::string detail = "line one\nforged line\x1b[31m";
        for (int i = 0; i < 100; ++i) detail += "天涯";
        counter.count(DropReason::Malformed, endpoint("192.0.2.1:5000"), detail);
        const std::string summary = counter.takeSummary(1s);
        CPPUNIT_ASSERT_MESSAGE(summary, summary.find('\n') == std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(summary, summary.find('\x1b') == std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(summary, summary.find("line one?forged line?[31m") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(summary, summary.size() < 300);
        CPPUNIT_ASSERT_MESSAGE(summary, summary.find("...)") != std::string::npos);
        // Cut between characters, never inside one: the last kept character is whole.
        const std::size_t cut = summary.find("...)");
        CPPUNIT_ASSERT_MESSAGE(summary, summary.compare(cut - 3, 3, "涯") == 0 || summary.compare(cut - 3, 3, "天") == 0);
    }

    void testSummarizeConnectionsCutTooSlow()
    {
        DropCounter counter("connection");
        counter.count(DropReason::Refused, endpoint("192.0.2.1:5000"), "8 served already");
        counter.count(DropReason::Slow, endpoint("192.0.2.2:6000"), "took 10 of 90 bytes");
        counter.count(DropReason::Slow, endpoint("192.0.2.3:7000"), "");
        CPPUNIT_ASSERT_EQUAL(std::string("dropped 3 connections in the last 1000 ms: 1 refused (first from "
                                         "192.0.2.1:5000: 8 served already), 2 too slow (first from 192.0.2.2:6000: "
                                         "took 10 of 90 bytes)"),
                             counter.takeSummary(1s));
        counter.count(DropReason::Slow, endpoint("192.0.2.3:7000"), "");
        CPPUNIT_ASSERT_EQUAL(std::string("dropped 1 connection in the last 1000 ms: 1 too slow (first from "
                                         "192.0.2.3:7000)"),
                             counter.takeSummary(1s));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DropCounterTest);
