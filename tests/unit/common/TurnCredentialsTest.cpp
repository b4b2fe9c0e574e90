#include "TurnCredentials.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::TurnCredentials;

class TurnCredentialsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(TurnCredentialsTest);
    CPPUNIT_TEST(testMintMatchesOpenssl);
    CPPUNIT_TEST(testPasswordDependsOnSecretAndUsername);
    CPPUNIT_TEST(testKeyHandedOutMakesTheSameCredential);
    CPPUNIT_TEST_SUITE_END();

public:
    void testMintMatchesOpenssl()
    {
        const auto credentials = TurnCredentials::mint(
            "s3cret-of-coturn", "alice", std::chrono::system_clock::time_point(std::chrono::seconds(1765000000)));
        CPPUNIT_ASSERT_EQUAL(std::string("1765000000:alice"), credentials.username);
        // printf %s 1765000000:alice | openssl dgst -sha1 -hmac s3cret-of-coturn -binary | base64
        CPPUNIT_ASSERT_EQUAL(std::string("0W5DDPOgaW5USEWMioAmwY/WgRs="), credentials.password);
    }

    void testPasswordDependsOnSecretAndUsername()
    {
        const std::chrono::system_clock::time_point expiry(std::chrono::seconds(1765000000));
        const auto base = TurnCredentials::mint("secret", "alice", expiry);
        CPPUNIT_ASSERT(base.password != TurnCredentials::mint("secreT", "alice", expiry).password);
        CPPUNIT_ASSERT(base.password != TurnCredentials::mint("secret", "alicf", expiry).password);
        CPPUNIT_ASSERT(base.password != TurnCredentials::mint("secret", "alice", expiry + std::chrono::seconds(1)).password);
    }

    // indexd sends the key, peerd makes the credential of it with its own name.
    void testKeyHandedOutMakesTheSameCredential()
    {
        const auto key = TurnCredentials::key("s3cret-of-coturn", "alice", 1765000000);
        const auto credentials = TurnCredentials::of("alice", 1765000000, key);
        CPPUNIT_ASSERT_EQUAL(std::string("1765000000:alice"), credentials.username);
        CPPUNIT_ASSERT_EQUAL(std::string("0W5DDPOgaW5USEWMioAmwY/WgRs="), credentials.password);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TurnCredentialsTest);
