#include "TurnRelay.h"

#include "TurnCredentials.h"

#include "TempDir.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <string>

#include <sys/stat.h>

using peerchat::Endpoint;
using peerchat::LockedSecret;
using peerchat::Turn;
using peerchat::TurnCredentials;
using peerchat::TurnRelay;
using peerchat::test::TempDir;

namespace {

constexpr std::uint64_t kTtlSeconds = 12 * 3600;

// The text of a secret.
std::string textOf(const LockedSecret<TurnRelay::Secret>& secret)
{
    return std::string(secret->bytes.data(), secret->size);
}

} // namespace

class TurnRelayTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(TurnRelayTest);
    CPPUNIT_TEST(testReadSecretDropsOneTrailingLineBreak);
    CPPUNIT_TEST(testReadSecretRefusesFileOthersCanRead);
    CPPUNIT_TEST(testReadSecretRefusesMissingEmptyOversizeAndManyLines);
    CPPUNIT_TEST(testReadSecretRefusesDirectory);
    CPPUNIT_TEST(testOpenResolvesHostToNumericEndpoint);
    CPPUNIT_TEST(testOpenRefusesHostThatDoesNotResolve);
    CPPUNIT_TEST(testGrantIsKeyOfNameAndExpiryUnderSecret);
    CPPUNIT_TEST(testHalfSpentAfterHalfOfTtl);
    CPPUNIT_TEST_SUITE_END();

public:
    void testReadSecretDropsOneTrailingLineBreak()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), textOf(TurnRelay::readSecret(write("abc\n"))));
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), textOf(TurnRelay::readSecret(write("abc"))));
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), textOf(TurnRelay::readSecret(write("abc\r\n"))));
        CPPUNIT_ASSERT_EQUAL(std::string(" a b "), textOf(TurnRelay::readSecret(write(" a b \n"))));
        const std::string longest(TurnRelay::kMaxSecretBytes, 'x');
        CPPUNIT_ASSERT_EQUAL(longest, textOf(TurnRelay::readSecret(write(longest + "\n"))));
    }

    void testReadSecretRefusesFileOthersCanRead()
    {
        // A '+' never appears in a temporary directory's name, which the error
        // does hold: a secret of letters alone can turn up there by chance.
        for (const mode_t mode : {0640, 0604, 0620, 0660}) {
            const std::string path = write("a+b+c\n", mode);
            const std::string error = refusal(path);
            CPPUNIT_ASSERT_MESSAGE(error, error.find("chmod 600 " + path) != std::string::npos);
            CPPUNIT_ASSERT_MESSAGE(error, error.find("a+b+c") == std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), textOf(TurnRelay::readSecret(write("abc\n", 0400))));
    }

    void testReadSecretRefusesMissingEmptyOversizeAndManyLines()
    {
        const std::string missing = _dir.file("missing");
        CPPUNIT_ASSERT(refusal(missing).find("cannot read the TURN secret file " + missing) != std::string::npos);
        for (const std::string& empty : {std::string(), std::string("\n"), std::string("\r\n")}) {
            const std::string path = write(empty);
            CPPUNIT_ASSERT_MESSAGE(refusal(path), refusal(path).find(path + " is empty") != std::string::npos);
        }
        const std::string oversize = write(std::string(TurnRelay::kMaxSecretBytes + 1, 'x') + "\n");
        CPPUNIT_ASSERT_MESSAGE(refusal(oversize), refusal(oversize).find("more than 256 bytes") != std::string::npos);
        for (const std::string& lines : {std::string("abc\n\n"), std::string("abc\ndef\n"), std::string("a\rb")}) {
            const std::string path = write(lines);
            CPPUNIT_ASSERT_MESSAGE(refusal(path), refusal(path).find("more than one line") != std::string::npos);
        }
    }

    void testReadSecretRefusesDirectory()
    {
        const std::string dir = _dir.file("dir");
        ::mkdir(dir.c_str(), 0700);
        CPPUNIT_ASSERT_MESSAGE(refusal(dir), refusal(dir).find("not a regular file") != std::string::npos);
    }

    void testOpenResolvesHostToNumericEndpoint()
    {
        const std::string secret = write("abc\n");
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:3478"),
                             TurnRelay::open("localhost", 3478, secret).server().toString());
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5349"), TurnRelay::open("::1", 5349, secret).server().toString());
    }

    void testOpenRefusesHostThatDoesNotResolve()
    {
        try {
            TurnRelay::open("no-such-host.invalid", 3478, write("abc\n"));
            CPPUNIT_FAIL("a host that does not resolve was taken");
        } catch (const Poco::Exception& e) {
            CPPUNIT_ASSERT_MESSAGE(e.message(), e.message().find("cannot resolve the TURN server no-such-host.invalid "
                                                                 "(--turn)")
                                                    != std::string::npos);
        }
    }

    void testGrantIsKeyOfNameAndExpiryUnderSecret()
    {
        const TurnRelay relay = TurnRelay::open("192.0.2.7", 3478, write("s3cret\n"));
        const Turn turn = relay.grant("alice", 1765000000);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.7:3478"), turn.server.toString());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1765000000) + kTtlSeconds, turn.expiry);
        CPPUNIT_ASSERT(TurnCredentials::key("s3cret", "alice", turn.expiry) == turn.key);
        CPPUNIT_ASSERT(TurnCredentials::key("s3cret\n", "alice", turn.expiry) != turn.key);
        CPPUNIT_ASSERT(relay.grant("bob", 1765000000).key != turn.key);
    }

    void testHalfSpentAfterHalfOfTtl()
    {
        const std::uint64_t granted = 1765000000;
        const std::uint64_t expiry = granted + kTtlSeconds;
        CPPUNIT_ASSERT(!TurnRelay::isHalfSpent(expiry, granted));
        CPPUNIT_ASSERT(!TurnRelay::isHalfSpent(expiry, granted + kTtlSeconds / 2));
        CPPUNIT_ASSERT(TurnRelay::isHalfSpent(expiry, granted + kTtlSeconds / 2 + 1));
        CPPUNIT_ASSERT(TurnRelay::isHalfSpent(expiry, expiry + 1));
        // None was granted yet.
        CPPUNIT_ASSERT(TurnRelay::isHalfSpent(0, granted));
    }

private:
    // A new file holding text with mode; its path.
    std::string write(const std::string& text, mode_t mode = 0600)
    {
        const std::string path = _dir.file("secret" + std::to_string(++_files));
        std::ofstream(path) << text;
        ::chmod(path.c_str(), mode);
        return path;
    }

    // Why readSecret refuses path, which it must.
    static std::string refusal(const std::string& path)
    {
        try {
            TurnRelay::readSecret(path);
        } catch (const Poco::Exception& e) {
            return e.message();
        }
        CPPUNIT_FAIL("the TURN secret file " + path + " was taken");
        return {};
    }

    TempDir _dir;
    int _files = 0;
};

CPPUNIT_TEST_SUITE_REGISTRATION(TurnRelayTest);
