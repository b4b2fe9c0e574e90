#include "LoginCookie.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::Endpoint;
using peerchat::LoginCookie;
using peerchat::Nonce;

namespace {

constexpr std::uint64_t kMaxAge = 30000;
constexpr std::uint64_t kNow = 1700000000000;

Endpoint endpoint(const std::string& text)
{
    return *Endpoint::parse(text);
}

std::uint64_t stampOf(const Nonce& nonce)
{
    std::uint64_t stamp = 0;
    for (std::size_t i = 0; i < 8; ++i) stamp |= static_cast<std::uint64_t>(nonce[i]) << (8 * i);
    return stamp;
}

void assertRefused(const peerchat::Parsed<std::uint64_t>& checked, const std::string& reason)
{
    CPPUNIT_ASSERT_MESSAGE("accepted a nonce that should be refused", !checked.ok());
    CPPUNIT_ASSERT_EQUAL(reason, checked.error());
}

} // namespace

class LoginCookieTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LoginCookieTest);
    CPPUNIT_TEST(testCheckIssuedNonce);
    CPPUNIT_TEST(testRefuseOtherName);
    CPPUNIT_TEST(testRefuseOtherEndpoint);
    CPPUNIT_TEST(testRefuseExpired);
    CPPUNIT_TEST(testRefuseOtherCookie);
    CPPUNIT_TEST(testRefuseTamperedNonce);
    CPPUNIT_TEST(testIncreaseStampsWhenClockRepeats);
    CPPUNIT_TEST(testIncreaseStampsWhenClockStepsBack);
    CPPUNIT_TEST_SUITE_END();

public:
    void testCheckIssuedNonce()
    {
        LoginCookie cookie;
        const Endpoint alice = endpoint("127.0.0.1:40000");
        const Nonce nonce = cookie.issue("alice", alice, kNow);
        CPPUNIT_ASSERT_EQUAL(kNow, stampOf(nonce));
        const auto checked = cookie.check(nonce, "alice", alice, kNow + 5, kMaxAge);
        CPPUNIT_ASSERT_MESSAGE(checked.error(), checked.ok());
        CPPUNIT_ASSERT_EQUAL(kNow, *checked);
        // Right at the limit it is still good.
        CPPUNIT_ASSERT(cookie.check(nonce, "alice", alice, kNow + kMaxAge, kMaxAge).ok());
        const Endpoint ipv6 = endpoint("[::1]:40000");
        CPPUNIT_ASSERT(cookie.check(cookie.issue("bob", ipv6, kNow), "bob", ipv6, kNow, kMaxAge).ok());
    }

    void testRefuseOtherName()
    {
        LoginCookie cookie;
        const Endpoint source = endpoint("127.0.0.1:40000");
        const Nonce nonce = cookie.issue("alice", source, kNow);
        assertRefused(cookie.check(nonce, "alicf", source, kNow, kMaxAge), "not issued here");
        assertRefused(cookie.check(nonce, "alice1", source, kNow, kMaxAge), "not issued here");
        assertRefused(cookie.check(nonce, "", source, kNow, kMaxAge), "not issued here");
    }

    void testRefuseOtherEndpoint()
    {
        LoginCookie cookie;
        const Nonce nonce = cookie.issue("alice", endpoint("127.0.0.1:40000"), kNow);
        assertRefused(cookie.check(nonce, "alice", endpoint("127.0.0.1:40001"), kNow, kMaxAge), "not issued here");
        assertRefused(cookie.check(nonce, "alice", endpoint("127.0.0.2:40000"), kNow, kMaxAge), "not issued here");
        assertRefused(cookie.check(nonce, "alice", endpoint("[::1]:40000"), kNow, kMaxAge), "not issued here");
    }

    void testRefuseExpired()
    {
        LoginCookie cookie;
        const Endpoint source = endpoint("127.0.0.1:40000");
        const Nonce nonce = cookie.issue("alice", source, kNow);
        assertRefused(cookie.check(nonce, "alice", source, kNow + kMaxAge + 1, kMaxAge), "expired");
        assertRefused(cookie.check(nonce, "alice", source, kNow + 10 * kMaxAge, 0), "expired");
        CPPUNIT_ASSERT(cookie.check(nonce, "alice", source, kNow, 0).ok());
    }

    void testRefuseOtherCookie()
    {
        LoginCookie first;
        LoginCookie second;
        const Endpoint source = endpoint("127.0.0.1:40000");
        const Nonce nonce = first.issue("alice", source, kNow);
        assertRefused(second.check(nonce, "alice", source, kNow, kMaxAge), "not issued here");
        assertRefused(first.check(Nonce{}, "alice", source, kNow, kMaxAge), "not issued here");
    }

    void testRefuseTamperedNonce()
    {
        LoginCookie cookie;
        const Endpoint source = endpoint("127.0.0.1:40000");
        const Nonce nonce = cookie.issue("alice", source, kNow);
        for (std::size_t i = 0; i < nonce.size(); ++i) {
            Nonce tampered = nonce;
            tampered[i] ^= 0x01;
            // A changed stamp (bytes 0-7) must not pass either: the MAC covers it.
            assertRefused(cookie.check(tampered, "alice", source, kNow, kMaxAge), "not issued here");
        }
    }

    void testIncreaseStampsWhenClockRepeats()
    {
        LoginCookie cookie;
        const Endpoint source = endpoint("127.0.0.1:40000");
        std::uint64_t last = 0;
        for (int i = 0; i < 100; ++i) {
            const Nonce nonce = cookie.issue(i % 2 ? "alice" : "bob", source, kNow);
            CPPUNIT_ASSERT(stampOf(nonce) > last);
            last = stampOf(nonce);
            CPPUNIT_ASSERT_EQUAL(last, *cookie.check(nonce, i % 2 ? "alice" : "bob", source, kNow, kMaxAge));
        }
        // The clock moving on past the stamps is taken as it is.
        CPPUNIT_ASSERT_EQUAL(kNow + 1000, stampOf(cookie.issue("alice", source, kNow + 1000)));
    }

    void testIncreaseStampsWhenClockStepsBack()
    {
        LoginCookie cookie;
        const Endpoint source = endpoint("127.0.0.1:40000");
        const std::uint64_t first = stampOf(cookie.issue("alice", source, kNow));
        const Nonce later = cookie.issue("alice", source, kNow - 60000);
        CPPUNIT_ASSERT(stampOf(later) > first);
        // A stamp ahead of the stepped-back clock is fresh, not expired.
        CPPUNIT_ASSERT(cookie.check(later, "alice", source, kNow - 60000, kMaxAge).ok());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LoginCookieTest);
