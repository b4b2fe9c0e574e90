#include "Broadcaster.h"
#include "Directory.h"
#include "LoginHandler.h"
#include "MailCarrier.h"
#include "Mailbox.h"

#include "BadDatagrams.h"
#include "RecordingSink.h"
#include "SeedClient.h"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>

#include <cppunit/extensions/HelperMacros.h>

#include <memory>

using peerchat::Broadcaster;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::Endpoint;
using peerchat::LoginHandler;
using peerchat::MailCarrier;
using peerchat::Mailbox;
using peerchat::RosterPorts;
using std::chrono::milliseconds;
using peerchat::test::endpoint;
using peerchat::test::RecordingSink;
using peerchat::test::toUtf16le;

namespace {

const RosterPorts kPorts{4001, 4002, 4003};
constexpr milliseconds kExpireAfter{700};
constexpr milliseconds kRedeliverEvery{1000};

std::vector<std::string> strings(std::initializer_list<std::string> items)
{
    return std::vector<std::string>(items);
}

// Keeps the text of every log message.
class RecordingChannel : public Poco::Channel
{
public:
    void log(const Poco::Message& message) override { lines.push_back(message.getText()); }
    std::vector<std::string> lines;
};

} // namespace

class LoginHandlerTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LoginHandlerTest);
    CPPUNIT_TEST(testLoginAcceptedAtSource);
    CPPUNIT_TEST(testLoginRegistersSourceNotWrittenEndpoint);
    CPPUNIT_TEST(testLoginAnnouncedToOthersInTheirDialect);
    CPPUNIT_TEST(testLoginOfNameOnlineElsewhereRefusedTaken);
    CPPUNIT_TEST(testRepeatedLoginFromSameEndpointAcceptedQuietly);
    CPPUNIT_TEST(testLoginDisplacesNameAtSameEndpoint);
    CPPUNIT_TEST(testPeerchatLoginGetsPeerchatRosterPort);
    CPPUNIT_TEST(testUnknownPeerchatVersionRefused);
    CPPUNIT_TEST(testOtherDialectTokensIgnored);
    CPPUNIT_TEST(testDotNetLoginAcceptedAtWrittenEndpointInUtf16);
    CPPUNIT_TEST(testDotNetUnspecifiedAddressTakesSourceAddress);
    CPPUNIT_TEST(testDotNetRefusalGoesToWrittenEndpointInUtf16);
    CPPUNIT_TEST(testDotNetPeerchatTokenRefused);
    CPPUNIT_TEST(testLogoutAnnouncedAndRemoved);
    CPPUNIT_TEST(testLogoutFromForeignEndpointIgnored);
    CPPUNIT_TEST(testLogoutOfNameNotOnlineIgnored);
    CPPUNIT_TEST(testDotNetLogoutFromAnyPortOfLoginAddress);
    CPPUNIT_TEST(testDotNetLogoutFromOtherAddressIgnored);
    CPPUNIT_TEST(testBadDatagramsAnsweredByNothing);
    CPPUNIT_TEST(testRepliesNeverLargerThanRequests);
    CPPUNIT_TEST(testAliveFromPeerchatUserAnsweredSeenWithLatestSeq);
    CPPUNIT_TEST(testAliveFromAnyoneElseAnsweredRelogin);
    CPPUNIT_TEST(testAlivesLoggedBelowInformation);
    CPPUNIT_TEST(testPeerchatVerbsInUtf16Dropped);
    CPPUNIT_TEST(testSilentPeerchatUserExpiredAndAnnounced);
    CPPUNIT_TEST(testHeartbeatsKeepPeerchatUserOnline);
    CPPUNIT_TEST(testSeedAndDotNetUsersNeverExpire);
    CPPUNIT_TEST(testPresenceSeqIncreasesByOnePerAnnouncement);
    CPPUNIT_TEST(testPeerchatLoginDeliversWaitingMail);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _directory = std::make_unique<Directory>();
        _sink = std::make_unique<RecordingSink>();
        _broadcaster = std::make_unique<Broadcaster>(*_directory, *_sink);
        _mailbox = std::make_unique<Mailbox>(":memory:", 10);
        _carrier = std::make_unique<MailCarrier>(*_mailbox, *_directory, *_sink, kRedeliverEvery);
        _handler = makeHandler(kPorts);
        _log = new RecordingChannel;
        Poco::Logger::get("LoginHandler").setChannel(_log);
    }

    void tearDown() override
    {
        Poco::Logger::get("LoginHandler").setChannel(nullptr);
    }

    void testLoginAcceptedAtSource()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"Accept,4001"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
        CPPUNIT_ASSERT(_directory->find("alice")->dialect == Dialect::Seed);
    }

    void testLoginRegistersSourceNotWrittenEndpoint()
    {
        // A client behind NAT writes its private endpoint; it is reachable where it came from.
        receive("login, alice, 192.168.1.5:6000", "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"Accept,4001"}));
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), _directory->find("alice")->endpoint.toString());
    }

    void testLoginAnnouncedToOthersInTheirDialect()
    {
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        receive(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        _sink->sent.clear();

        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"Accept,4001"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002") == strings({"login,alice,127.0.0.1:5001"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000") == strings({toUtf16le("login,alice,127.0.0.1:5001")}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"login,alice,127.0.0.1:5001,seed,4"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), _sink->sent.size());

        // Peerchat users learn every dialect; others never see a fourth field.
        _sink->sent.clear();
        receive("login,erin,127.0.0.1:5005,peerchat/1", "127.0.0.1:5005");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"login,erin,127.0.0.1:5005,peerchat/1,5"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002") == strings({"login,erin,127.0.0.1:5005"}));
        _sink->sent.clear();
        receive(toUtf16le("login,frank,127.0.0.1:6001"), "127.0.0.1:40001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"login,frank,127.0.0.1:6001,dotnet,6"}));
    }

    void testLoginOfNameOnlineElsewhereRefusedTaken()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        _sink->sent.clear();
        const auto version = _directory->version();

        receive("login,alice,127.0.0.1:5003", "127.0.0.1:5003");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5003") == strings({"refuse,alice,taken"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
        CPPUNIT_ASSERT_EQUAL(version, _directory->version());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), _directory->find("alice")->endpoint.toString());
    }

    void testRepeatedLoginFromSameEndpointAcceptedQuietly()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        _sink->sent.clear();

        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"Accept,4001"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _directory->size());
    }

    void testLoginDisplacesNameAtSameEndpoint()
    {
        receive("login,bob,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,carol,127.0.0.1:5002", "127.0.0.1:5002");
        _sink->sent.clear();

        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"Accept,4001"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002")
                       == strings({"logout,bob,127.0.0.1:5001", "login,alice,127.0.0.1:5001"}));
        CPPUNIT_ASSERT(!_directory->find("bob"));
        CPPUNIT_ASSERT(_directory->find("alice"));
    }

    void testPeerchatLoginGetsPeerchatRosterPort()
    {
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"Accept,4003"}));
        CPPUNIT_ASSERT(_directory->find("dave")->dialect == Dialect::Peerchat);
    }

    void testUnknownPeerchatVersionRefused()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        _sink->sent.clear();
        const auto version = _directory->version();
        receive("login,dave,127.0.0.1:5004,peerchat/9", "127.0.0.1:5004");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"refuse,dave,version"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
        CPPUNIT_ASSERT(!_directory->find("dave"));
        CPPUNIT_ASSERT_EQUAL(version, _directory->version());
    }

    void testOtherDialectTokensIgnored()
    {
        receive("login,alice,127.0.0.1:5001,dotnet", "127.0.0.1:5001");
        receive("login,bob,127.0.0.1:5002,seed", "127.0.0.1:5002");
        receive("login,carol,127.0.0.1:5003,irc/2", "127.0.0.1:5003");
        for (const char* source : {"127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"})
            CPPUNIT_ASSERT(sentTo(source).front() == "Accept,4001");
        for (const char* name : {"alice", "bob", "carol"})
            CPPUNIT_ASSERT(_directory->find(name)->dialect == Dialect::Seed);
    }

    void testDotNetLoginAcceptedAtWrittenEndpointInUtf16()
    {
        receive(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000") == strings({toUtf16le("Accept,4002")}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:40000").empty());
        const auto* carol = _directory->find("carol");
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:6000"), carol->endpoint.toString());
        CPPUNIT_ASSERT(carol->dialect == Dialect::DotNet);
    }

    void testDotNetUnspecifiedAddressTakesSourceAddress()
    {
        receive(toUtf16le("login,carol,0.0.0.0:6000"), "127.0.0.2:40000");
        CPPUNIT_ASSERT(sentTo("127.0.0.2:6000") == strings({toUtf16le("Accept,4002")}));
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.2:6000"), _directory->find("carol")->endpoint.toString());
    }

    void testDotNetRefusalGoesToWrittenEndpointInUtf16()
    {
        receive("login,carol,127.0.0.1:5001", "127.0.0.1:5001");
        _sink->sent.clear();
        receive(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000") == strings({toUtf16le("refuse,carol,taken")}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
    }

    void testDotNetPeerchatTokenRefused()
    {
        receive(toUtf16le("login,carol,127.0.0.1:6000,peerchat/1"), "127.0.0.1:40000");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000") == strings({toUtf16le("refuse,carol,version")}));
        CPPUNIT_ASSERT(!_directory->find("carol"));
    }

    void testLogoutAnnouncedAndRemoved()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        receive(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        _sink->sent.clear();

        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001").empty());
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002") == strings({"logout,alice,127.0.0.1:5001"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000") == strings({toUtf16le("logout,alice,127.0.0.1:5001")}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"logout,alice,127.0.0.1:5001,5"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink->sent.size());
    }

    void testLogoutFromForeignEndpointIgnored()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        _sink->sent.clear();
        const auto version = _directory->version();

        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5002");
        receive(toUtf16le("logout,alice,127.0.0.1:5001"), "127.0.0.1:5009");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT(_directory->find("alice"));
        CPPUNIT_ASSERT_EQUAL(version, _directory->version());
    }

    void testLogoutOfNameNotOnlineIgnored()
    {
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        _sink->sent.clear();
        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _directory->size());
    }

    void testDotNetLogoutFromAnyPortOfLoginAddress()
    {
        receive(toUtf16le("login,carol,0.0.0.0:6000"), "127.0.0.1:40000");
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        _sink->sent.clear();

        receive(toUtf16le("logout,carol,0.0.0.0:6000"), "127.0.0.1:40123");
        CPPUNIT_ASSERT(!_directory->find("carol"));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002") == strings({"logout,carol,127.0.0.1:6000"}));
    }

    void testDotNetLogoutFromOtherAddressIgnored()
    {
        receive(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        _sink->sent.clear();

        receive(toUtf16le("logout,carol,127.0.0.1:6000"), "127.0.0.2:40123");
        receive(toUtf16le("logout,carol,127.0.0.1:6001"), "127.0.0.1:40123");
        CPPUNIT_ASSERT(_directory->find("carol"));
        CPPUNIT_ASSERT(_sink->sent.empty());
    }

    void testBadDatagramsAnsweredByNothing()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        _sink->sent.clear();
        const auto version = _directory->version();

        for (const auto& bytes : peerchat::test::badDatagrams()) {
            // Each is dropped with exactly one line that names where it came from.
            _log->lines.clear();
            receive(bytes, "127.0.0.1:5009");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(bytes, std::size_t(1), _log->lines.size());
            CPPUNIT_ASSERT_MESSAGE(_log->lines.front(), _log->lines.front().find("127.0.0.1:5009") != std::string::npos);
        }
        // A datagram naming alice's endpoint but from elsewhere changes nothing either.
        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5009");

        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _sink->sent.size());
        CPPUNIT_ASSERT_EQUAL(version, _directory->version());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _directory->size());
        CPPUNIT_ASSERT(!_directory->find("mallory"));
    }

    void testRepliesNeverLargerThanRequests()
    {
        // The shortest requests that get each kind of reply.
        const std::vector<std::pair<std::string, std::string>> requests{
            {"login,a,1.2.3.4:1", "127.0.0.1:65535"},
            {"login,a,1.2.3.4:1", "127.0.0.1:65534"},
            {"login,b,[::1]:1", "127.0.0.1:65533"},
            {"login,c,1.2.3.4:1,peerchat/2", "127.0.0.1:65532"},
            {toUtf16le("login,d,1.2.3.4:1"), "1.2.3.4:9"},
            {toUtf16le("login,d,1.2.3.5:1"), "1.2.3.5:9"},
            {"alive,e,0", "127.0.0.1:65531"},
        };
        _handler = makeHandler(RosterPorts{65535, 65535, 65535});
        for (const auto& [request, source] : requests) {
            _sink->sent.clear();
            receive(request, source);
            CPPUNIT_ASSERT(!_sink->sent.empty());
            const auto& replyBytes = _sink->sent.front().bytes;
            CPPUNIT_ASSERT_MESSAGE(replyBytes + " answers " + request, replyBytes.size() <= request.size());
        }
    }

    void testAliveFromPeerchatUserAnsweredSeenWithLatestSeq()
    {
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        _sink->sent.clear();
        receive("alive,dave,0", "127.0.0.1:5004");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"seen,2"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
    }

    void testAliveFromAnyoneElseAnsweredRelogin()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        _sink->sent.clear();
        const auto version = _directory->version();

        receive("alive,dave,2", "127.0.0.1:5009");
        receive("alive,alice,2", "127.0.0.1:5001");
        receive("alive,天涯,0", "127.0.0.1:5004");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5009") == strings({"relogin,dave"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"relogin,alice"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"relogin,天涯"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink->sent.size());
        CPPUNIT_ASSERT_EQUAL(version, _directory->version());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), _directory->presenceSeq());
    }

    void testAlivesLoggedBelowInformation()
    {
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        _sink->sent.clear();
        _log->lines.clear();
        receive("alive,dave,1", "127.0.0.1:5004");
        receive("alive,dave,1", "127.0.0.1:5009");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink->sent.size());
        CPPUNIT_ASSERT(_log->lines.empty());
    }

    void testPeerchatVerbsInUtf16Dropped()
    {
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        _sink->sent.clear();
        for (const char* text : {"alive,dave,1", "store,bob,ab,1,12:00:00,dave,hi", "ack,dave,ab,1"}) {
            _log->lines.clear();
            receive(toUtf16le(text), "127.0.0.1:5004");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::size_t(1), _log->lines.size());
            CPPUNIT_ASSERT_MESSAGE(_log->lines.front(), _log->lines.front().find("UTF-8 only") != std::string::npos);
        }
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->countFor("bob"));
    }

    void testSilentPeerchatUserExpiredAndAnnounced()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        receive("login,erin,127.0.0.1:5005,peerchat/1", "127.0.0.1:5005");
        _sink->sent.clear();

        _now += kExpireAfter - milliseconds(1);
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(_sink->sent.empty());
        receive("alive,erin,4", "127.0.0.1:5005");
        _sink->sent.clear();

        _now += milliseconds(1);
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(!_directory->find("dave"));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"logout,dave,127.0.0.1:5004"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000") == strings({toUtf16le("logout,dave,127.0.0.1:5004")}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5005") == strings({"logout,dave,127.0.0.1:5004,5"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink->sent.size());

        // An expired user's heartbeat is told to log in again.
        _sink->sent.clear();
        receive("alive,dave,5", "127.0.0.1:5004");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"relogin,dave"}));
    }

    void testHeartbeatsKeepPeerchatUserOnline()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        for (int beat = 0; beat < 20; ++beat) {
            _now += kExpireAfter / 2;
            receive("alive,dave,2", "127.0.0.1:5004");
            _handler->expireSilentUsers(kExpireAfter);
        }
        CPPUNIT_ASSERT(_directory->find("dave"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), _directory->presenceSeq());
        // A heartbeat from elsewhere does not count for dave.
        receive("alive,dave,2", "127.0.0.1:5009");
        _now += kExpireAfter;
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(!_directory->find("dave"));
    }

    void testSeedAndDotNetUsersNeverExpire()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        _sink->sent.clear();
        _now += std::chrono::hours(24 * 365);
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _directory->size());
    }

    void testPresenceSeqIncreasesByOnePerAnnouncement()
    {
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,carol,127.0.0.1:5002", "127.0.0.1:5002");
        _now += milliseconds(100);
        receive("login,erin,127.0.0.1:5005,peerchat/1", "127.0.0.1:5005");
        _now += kExpireAfter - milliseconds(100);
        receive("alive,dave,7", "127.0.0.1:5004");
        _handler->expireSilentUsers(kExpireAfter);
        _now += milliseconds(100);
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004")
                       == strings({"Accept,4003", "login,alice,127.0.0.1:5001,seed,2",
                                   "login,bob,127.0.0.1:5002,seed,3",
                                   "logout,alice,127.0.0.1:5001,4", "logout,bob,127.0.0.1:5002,5",
                                   "login,carol,127.0.0.1:5002,seed,6", "login,erin,127.0.0.1:5005,peerchat/1,7",
                                   "seen,7", "logout,erin,127.0.0.1:5005,8"}));
        // Seed users see what they always saw.
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002")
                       == strings({"Accept,4001", "logout,alice,127.0.0.1:5001", "Accept,4001",
                                   "login,erin,127.0.0.1:5005", "logout,erin,127.0.0.1:5005"}));
    }

    void testPeerchatLoginDeliversWaitingMail()
    {
        receive("login,alice,127.0.0.1:5001,peerchat/1", "127.0.0.1:5001");
        receive("store,bob,ab12,1,12:00:00,alice,hi, bob", "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001").back() == "stored,bob,ab12,1");
        _sink->sent.clear();

        receive("login,bob,127.0.0.1:5002,peerchat/1", "127.0.0.1:5002");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002") == strings({"Accept,4003", "msg,ab12,1,12:00:00,alice,hi, bob"}));
        receive("ack,bob,ab12,1", "127.0.0.1:5002");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->countFor("bob"));

        // A seed login under a name with mail gets none: it cannot ack.
        receive("store,carol,ab12,2,12:00:01,alice,hi, carol", "127.0.0.1:5001");
        _sink->sent.clear();
        receive("login,carol,127.0.0.1:5003", "127.0.0.1:5003");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5003") == strings({"Accept,4001"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("carol"));
    }

private:
    std::unique_ptr<LoginHandler> makeHandler(RosterPorts ports)
    {
        return std::make_unique<LoginHandler>(*_directory, *_broadcaster, *_carrier, *_sink, ports,
                                              [this] { return _now; });
    }

    void receive(const std::string& bytes, const std::string& source)
    {
        _handler->handleDatagram(bytes, endpoint(source));
    }

    std::vector<std::string> sentTo(const std::string& destination) const
    {
        return _sink->to(endpoint(destination));
    }

    std::unique_ptr<Directory> _directory;
    std::unique_ptr<RecordingSink> _sink;
    std::unique_ptr<Broadcaster> _broadcaster;
    std::unique_ptr<Mailbox> _mailbox;
    std::unique_ptr<MailCarrier> _carrier;
    std::unique_ptr<LoginHandler> _handler;
    Directory::TimePoint _now{};
    Poco::AutoPtr<RecordingChannel> _log;
};

CPPUNIT_TEST_SUITE_REGISTRATION(LoginHandlerTest);
