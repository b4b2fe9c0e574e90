#include "CommandLine.h"
#include "LocalSocketPath.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::LocalSocketPath;
using peerchat::chatui::CommandLine;

class CommandLineTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(CommandLineTest);
    CPPUNIT_TEST(testParseUserGivesDefaultSocket);
    CPPUNIT_TEST(testParseSocketAndPeer);
    CPPUNIT_TEST(testParseEqualsForms);
    CPPUNIT_TEST(testParseFallsBackToEnvUser);
    CPPUNIT_TEST(testParseRefusesInvalidEnvUser);
    CPPUNIT_TEST(testParseRefusesInvalidNames);
    CPPUNIT_TEST(testParseRefusesUnknownOptionAndSecondPeer);
    CPPUNIT_TEST(testParseHelp);
    CPPUNIT_TEST_SUITE_END();

public:
    void testParseUserGivesDefaultSocket()
    {
        const auto options = CommandLine::parse({"--user", "\u5929\u6DAF"}, nullptr);
        CPPUNIT_ASSERT_MESSAGE(options.error(), options.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), options->user);
        CPPUNIT_ASSERT_EQUAL(LocalSocketPath::defaultFor("\u5929\u6DAF"), options->socketPath);
        CPPUNIT_ASSERT(options->peer.empty());
    }

    void testParseSocketAndPeer()
    {
        const auto options = CommandLine::parse({"--socket", "/tmp/x/alice.sock", "bob"}, nullptr);
        CPPUNIT_ASSERT_MESSAGE(options.error(), options.ok());
        CPPUNIT_ASSERT(options->user.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("/tmp/x/alice.sock"), options->socketPath);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), options->peer);
    }

    void testParseEqualsForms()
    {
        const auto options = CommandLine::parse({"--user=alice", "--socket=/s.sock", "\u5929\u6DAF"}, nullptr);
        CPPUNIT_ASSERT_MESSAGE(options.error(), options.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), options->user);
        CPPUNIT_ASSERT_EQUAL(std::string("/s.sock"), options->socketPath);
        CPPUNIT_ASSERT_EQUAL(std::string("\u5929\u6DAF"), options->peer);
    }

    void testParseFallsBackToEnvUser()
    {
        const auto options = CommandLine::parse({"bob"}, "carol");
        CPPUNIT_ASSERT_MESSAGE(options.error(), options.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), options->user);
        CPPUNIT_ASSERT_EQUAL(LocalSocketPath::defaultFor("carol"), options->socketPath);
    }

    void testParseRefusesInvalidEnvUser()
    {
        for (const char* env : {static_cast<const char*>(nullptr), "", "a,b"}) {
            const auto options = CommandLine::parse({}, env);
            CPPUNIT_ASSERT(!options.ok());
            CPPUNIT_ASSERT(options.error().find("--user NAME") != std::string::npos);
        }
    }

    void testParseRefusesInvalidNames()
    {
        CPPUNIT_ASSERT(!CommandLine::parse({"--user", "a b"}, nullptr).ok());
        CPPUNIT_ASSERT(!CommandLine::parse({"--user"}, nullptr).ok());
        CPPUNIT_ASSERT(!CommandLine::parse({"--user", "alice", "bad:peer"}, nullptr).ok());
        CPPUNIT_ASSERT(!CommandLine::parse({"--socket"}, "alice").ok());
    }

    void testParseRefusesUnknownOptionAndSecondPeer()
    {
        const auto unknown = CommandLine::parse({"--colour"}, "alice");
        CPPUNIT_ASSERT(!unknown.ok());
        CPPUNIT_ASSERT(unknown.error().find("--colour") != std::string::npos);
        CPPUNIT_ASSERT(!CommandLine::parse({"bob", "carol"}, "alice").ok());
    }

    void testParseHelp()
    {
        const auto options = CommandLine::parse({"--help"}, nullptr);
        CPPUNIT_ASSERT(options.ok() && options->help);
        CPPUNIT_ASSERT(CommandLine::usage().find("--socket PATH") != std::string::npos);
        for (const char* command : {"/whoami", "/verify NAME", "/trust NAME", "/help"})
            CPPUNIT_ASSERT_MESSAGE(command, CommandLine::usage().find(command) != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CommandLineTest);
