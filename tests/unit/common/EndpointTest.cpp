#include "Endpoint.h"

#include <cppunit/extensions/HelperMacros.h>

#include <netinet/in.h>

#include <Poco/Net/SocketAddress.h>

#include <string>
#include <unordered_set>

using peerchat::Endpoint;

namespace {

Endpoint parseOk(const std::string& text)
{
    const auto parsed = Endpoint::parse(text);
    CPPUNIT_ASSERT_MESSAGE("refused '" + text + "': " + parsed.error(), parsed.ok());
    return *parsed;
}

void assertRefused(const std::string& text)
{
    const auto parsed = Endpoint::parse(text);
    CPPUNIT_ASSERT_MESSAGE("accepted '" + text + "'", !parsed.ok());
    CPPUNIT_ASSERT_MESSAGE("no reason for refusing '" + text + "'", !parsed.error().empty());
}

} // namespace

class EndpointTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(EndpointTest);
    CPPUNIT_TEST(testRoundTripIpv4);
    CPPUNIT_TEST(testRoundTripIpv6);
    CPPUNIT_TEST(testRoundTripIpv4CompatibleIpv6);
    CPPUNIT_TEST(testPrintSocketAddress);
    CPPUNIT_TEST(testRefusePortOutOfRange);
    CPPUNIT_TEST(testRefuseMissingPort);
    CPPUNIT_TEST(testRefuseHostNames);
    CPPUNIT_TEST(testRefuseShortIpv4Forms);
    CPPUNIT_TEST(testRefuseLeadingZeroOctets);
    CPPUNIT_TEST(testRefuseUnbracketedIpv6);
    CPPUNIT_TEST(testRefuseJunk);
    CPPUNIT_TEST(testRefuseEmptyAndOverlong);
    CPPUNIT_TEST(testCompareEndpoints);
    CPPUNIT_TEST(testHashEqualEndpointsAlike);
    CPPUNIT_TEST_SUITE_END();

public:
    void testRoundTripIpv4()
    {
        for (const std::string text : {"127.0.0.1:5001", "0.0.0.0:1", "255.255.255.255:65535", "10.0.0.7:80", "192.168.1.20:6000"})
            CPPUNIT_ASSERT_EQUAL(text, parseOk(text).toString());
        const Endpoint e = parseOk("127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(5001), e.port());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), e.host().toString());
        CPPUNIT_ASSERT(e.host().family() == Poco::Net::IPAddress::IPv4);
    }

    void testRoundTripIpv6()
    {
        for (const std::string text : {"[::1]:5001", "[2001:db8::42]:65535", "[::]:1", "[::]:6000", "[fe80::1:2]:7",
                                       "[::ffff:1.2.3.4]:5", "[::1.2.3.4]:5"})
            CPPUNIT_ASSERT_EQUAL(text, parseOk(text).toString());
        const Endpoint e = parseOk("[::1]:5001");
        CPPUNIT_ASSERT_EQUAL(std::uint16_t(5001), e.port());
        CPPUNIT_ASSERT(e.host().isLoopback());
        CPPUNIT_ASSERT(e.host().family() == Poco::Net::IPAddress::IPv6);
        // A long form parses and prints canonically, and the printed form parses back to the same endpoint.
        const Endpoint longForm = parseOk("[0:0:0:0:0:0:0:1]:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5001"), longForm.toString());
        CPPUNIT_ASSERT(parseOk(longForm.toString()) == longForm);
    }

    void testRoundTripIpv4CompatibleIpv6()
    {
        // Addresses whose low 32 bits start with a zero byte, which Poco 1.11 prints as "::" or "::ffff:".
        for (const std::string text : {"[::9]:5", "[::0.1.2.3]:5", "[::ffff:0.1.2.3]:5", "[::ffff:0:1]:5", "[::2]:5"}) {
            const Endpoint e = parseOk(text);
            const Endpoint back = parseOk(e.toString());
            CPPUNIT_ASSERT_MESSAGE(text + " printed as " + e.toString(), back == e);
            CPPUNIT_ASSERT_EQUAL(e.toString(), back.toString());
        }
        CPPUNIT_ASSERT(parseOk("[::9]:5") != parseOk("[::]:5"));
    }

    void testPrintSocketAddress()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), Endpoint(Poco::Net::SocketAddress("127.0.0.1", 5001)).toString());
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5002"), Endpoint(Poco::Net::SocketAddress("::1", 5002)).toString());
    }

    void testRefusePortOutOfRange()
    {
        for (const std::string text : {"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:4294967297",
                                       "127.0.0.1:-1", "127.0.0.1:+5", "127.0.0.1:5a", "127.0.0.1:0x10", "[::1]:0",
                                       "[::1]:65536", "127.0.0.1: 5", "127.0.0.1:5 "})
            assertRefused(text);
    }

    void testRefuseMissingPort()
    {
        for (const std::string text : {"127.0.0.1", "127.0.0.1:", "[::1]", "[::1]:", "[::1]5001", ":5001"}) assertRefused(text);
    }

    void testRefuseHostNames()
    {
        for (const std::string text : {"localhost:5001", "example.com:80", "[localhost]:5001", "ip6-localhost:5001"})
            assertRefused(text);
    }

    void testRefuseShortIpv4Forms()
    {
        // inet_aton would read these as addresses; the wire only knows dotted quads.
        for (const std::string text : {"1.2.3:4", "1.2:4", "16909060:4", "1.2.3.4.5:6", "256.1.1.1:5", "1..2.3:5",
                                       ".1.2.3:5", "1.2.3.4.:5", "0x7f.0.0.1:5"})
            assertRefused(text);
    }

    void testRefuseLeadingZeroOctets()
    {
        // inet_aton reads a leading zero as octal (010 is 8): refused rather than silently reinterpreted.
        for (const std::string text : {"010.0.0.1:5001", "127.0.0.01:5001", "00.0.0.0:5", "1.2.3.08:5"}) assertRefused(text);
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.0:5"), parseOk("10.0.0.0:5").toString());
    }

    void testRefuseUnbracketedIpv6()
    {
        for (const std::string text : {"::1:5001", "2001:db8::1:80", "::1", "fe80::1:5"}) assertRefused(text);
    }

    void testRefuseJunk()
    {
        for (const std::string text : {"junk", ":", "::", "[", "]", "[]:5", "]:5", "[::1]x5", "[::1:5", "[1.2.3.4]:5",
                                       " 127.0.0.1:5", "127.0.0.1 :5", "[fe80::1%eth0]:5", "\xFF\xFE:5", "天涯:5",
                                       "127.0.0.1:5001,peerchat/1", "[::1]:5001]"})
            assertRefused(text);
        assertRefused(std::string("127.0.0.1:5\0", 12));
        assertRefused(std::string("127.0.0.1\0junk:5", 16));
        assertRefused(std::string("[::1\0junk]:5", 12));
    }

    void testRefuseEmptyAndOverlong()
    {
        assertRefused("");
        assertRefused("127.0.0.1:" + std::string(100, '0') + "1");
        assertRefused(std::string(10000, '1'));
    }

    void testCompareEndpoints()
    {
        const Endpoint a = parseOk("127.0.0.1:5001");
        CPPUNIT_ASSERT(a == Endpoint(Poco::Net::SocketAddress("127.0.0.1", 5001)));
        CPPUNIT_ASSERT(a != parseOk("127.0.0.1:5002"));
        CPPUNIT_ASSERT(a != parseOk("127.0.0.2:5001"));
        CPPUNIT_ASSERT(parseOk("[::1]:5001") == parseOk("[0::1]:5001"));
        CPPUNIT_ASSERT(parseOk("[::1]:5001") != parseOk("127.0.0.1:5001"));
        CPPUNIT_ASSERT(!(a < a));
        const Endpoint b = parseOk("127.0.0.1:5002");
        CPPUNIT_ASSERT((a < b) != (b < a));
        // Ordered by address before port, as Poco's SocketAddress orders them; a scope tells IPv6 ones apart.
        CPPUNIT_ASSERT(parseOk("127.0.0.1:6000") < parseOk("127.0.0.2:5000"));
        CPPUNIT_ASSERT(parseOk("10.0.0.1:1") < parseOk("[::1]:1"));
        const Poco::Net::SocketAddress scoped = parseOk("[fe80::1]:5001").address();
        const auto* raw = reinterpret_cast<const sockaddr_in6*>(scoped.addr());
        sockaddr_in6 other = *raw;
        other.sin6_scope_id = 2;
        const Endpoint linkLocal(scoped);
        const Endpoint elsewhere(Poco::Net::SocketAddress(reinterpret_cast<const sockaddr*>(&other), sizeof other));
        CPPUNIT_ASSERT(linkLocal != elsewhere);
        CPPUNIT_ASSERT(linkLocal == parseOk("[fe80::1]:5001"));
        // A default endpoint is the wildcard, as Poco's default SocketAddress.
        CPPUNIT_ASSERT(Endpoint() == Endpoint(Poco::Net::SocketAddress()));
        CPPUNIT_ASSERT(Endpoint() != a);
    }

    void testHashEqualEndpointsAlike()
    {
        const std::hash<Endpoint> hash;
        CPPUNIT_ASSERT_EQUAL(hash(parseOk("127.0.0.1:5001")), hash(Endpoint(Poco::Net::SocketAddress("127.0.0.1", 5001))));
        CPPUNIT_ASSERT_EQUAL(hash(parseOk("[::1]:5001")), hash(parseOk("[0:0:0:0:0:0:0:1]:5001")));

        std::unordered_set<Endpoint> set;
        for (const std::string text : {"127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.2:5001", "[::1]:5001"}) set.insert(parseOk(text));
        set.insert(parseOk("127.0.0.1:5001"));
        set.insert(parseOk("[0::1]:5001"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), set.size());
        CPPUNIT_ASSERT(set.count(parseOk("127.0.0.2:5001")) == 1);
        CPPUNIT_ASSERT(set.count(parseOk("127.0.0.3:5001")) == 0);
        // Ports and hosts both feed the hash: these differ in one field each.
        CPPUNIT_ASSERT(hash(parseOk("127.0.0.1:5001")) != hash(parseOk("127.0.0.1:5002")));
        CPPUNIT_ASSERT(hash(parseOk("127.0.0.1:5001")) != hash(parseOk("127.0.0.2:5001")));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EndpointTest);
