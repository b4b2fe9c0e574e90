// indexd with a TURN relay (--turn, --turn-secret-file): the real daemon on
// loopback hands each peerchat/3 user, sealed after its welcome, a credential
// coturn would take, and refuses to start on a relay it could not use.
#include "DaemonProcess.h"
#include "SecureClient.h"
#include "TempDir.h"

#include "TurnCredentials.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using peerchat::Alive;
using peerchat::Protocol;
using peerchat::Turn;
using peerchat::TurnCredentials;
using peerchat::test::DaemonProcess;
using peerchat::test::SecureClient;

namespace {

const std::string kSecret = "0f3c9a-peerchat-lab-turn-secret";
constexpr std::int64_t kTtlSeconds = 12 * 3600;

std::int64_t unixNow()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

class IndexdTurnTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IndexdTurnTest);
    CPPUNIT_TEST(testWelcomeFollowedBySealedTurnForConfiguredServer);
    CPPUNIT_TEST(testWithoutTurnNoCredentialSent);
    CPPUNIT_TEST(testUnusableRelayStopsIndexd);
    CPPUNIT_TEST_SUITE_END();

public:
    void testWelcomeFollowedBySealedTurnForConfiguredServer()
    {
        // A host name, resolved once at start: peerd is told the address.
        DaemonProcess indexd("indexd", args({"--turn", "localhost:3478", "--turn-secret-file", secretFile()}));
        indexd.start();
        const std::string index = indexd.waitReady()["udp"];
        SecureClient alice("alice"), bob("bob");
        for (SecureClient* client : {&alice, &bob}) {
            const auto welcome = client->login(index);
            CPPUNIT_ASSERT_MESSAGE(welcome.error() + "\n" + indexd.log(), welcome.ok());
            const std::int64_t loggedIn = unixNow();
            // receiveInner takes only what opens under the client's session with indexd.
            const auto received = client->receiveInner("turn");
            CPPUNIT_ASSERT_MESSAGE("no turn for " + client->name() + "; indexd log:\n" + indexd.log(), received);
            CPPUNIT_ASSERT(received->from == Poco::Net::SocketAddress(index));
            const Turn& turn = std::get<Turn>(*received->inner);
            CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:3478"), turn.server.toString());
            const auto expiry = static_cast<std::int64_t>(turn.expiry);
            CPPUNIT_ASSERT_MESSAGE(std::to_string(expiry - loggedIn),
                                   expiry >= loggedIn + kTtlSeconds - 5 && expiry <= loggedIn + kTtlSeconds + 5);
            CPPUNIT_ASSERT(TurnCredentials::key(kSecret, client->name(), turn.expiry) == turn.key);
        }
        CPPUNIT_ASSERT(indexd.waitForLog("TURN relay at 127.0.0.1:3478 (--turn localhost)"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), indexd.countInLog(kSecret));
    }

    void testWithoutTurnNoCredentialSent()
    {
        DaemonProcess indexd("indexd", args({}));
        indexd.start();
        SecureClient alice("alice");
        CPPUNIT_ASSERT(alice.login(indexd.waitReady()["udp"]).ok());
        // indexd answers alice in order: a turn would come before this seen.
        alice.sendToIndex(Alive{"alice", 0});
        const auto next = alice.receiveMatching([](const SecureClient::Received& r) { return r.inner.has_value(); });
        CPPUNIT_ASSERT_MESSAGE(indexd.log(), next);
        CPPUNIT_ASSERT_EQUAL(std::string("seen"), std::string(Protocol::verb(*next->inner)));
    }

    void testUnusableRelayStopsIndexd()
    {
        const std::string secret = secretFile();
        const std::string missing = _dir.file("missing");
        const std::string empty = secretFile("\n");
        const std::string open = secretFile(kSecret + "\n", 0644);
        struct Case
        {
            std::vector<std::string> flags;
            int exitCode;
            std::string says;
        };
        const std::vector<Case> cases{
            {{"--turn", "localhost:3478"}, 64, "indexd: --turn needs --turn-secret-file FILE"},
            {{"--turn-secret-file", secret}, 64, "indexd: --turn-secret-file needs --turn HOST:PORT"},
            {{"--turn", "localhost:70000", "--turn-secret-file", secret}, 64,
             "indexd: --turn must be HOST:PORT with PORT 1..65535"},
            {{"--turn", "no-such-host.invalid:3478", "--turn-secret-file", secret}, 69,
             "cannot resolve the TURN server no-such-host.invalid (--turn)"},
            {{"--turn", "localhost:3478", "--turn-secret-file", missing}, 69,
             "cannot read the TURN secret file " + missing + " (--turn-secret-file): No such file or directory"},
            {{"--turn", "localhost:3478", "--turn-secret-file", empty}, 69, "the TURN secret file " + empty + " is empty"},
            {{"--turn", "localhost:3478", "--turn-secret-file", open}, 69, "; run chmod 600 " + open},
        };
        for (const Case& c : cases) {
            DaemonProcess refused("indexd", args(c.flags));
            refused.start();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.log(), c.exitCode, refused.waitExit());
            CPPUNIT_ASSERT_MESSAGE(c.says + " not in:\n" + refused.log(),
                                   refused.log().find(c.says) != std::string::npos);
            CPPUNIT_ASSERT_MESSAGE(refused.log(), refused.log().find(kSecret) == std::string::npos);
            CPPUNIT_ASSERT_MESSAGE(refused.log(), refused.log().find("indexd ready") == std::string::npos);
            // Refused before it made anything: no identity key of a run that never was.
            const std::string key = refused.configHome() + "/peerchat/indexd.key";
            CPPUNIT_ASSERT_MESSAGE(key, ::access(key.c_str(), F_OK) != 0);
        }
    }

private:
    // indexd's flags for a private run on loopback, then extra.
    std::vector<std::string> args(const std::vector<std::string>& extra) const
    {
        std::vector<std::string> all{"--port", "0", "--bind", "127.0.0.1", "--database", ":memory:"};
        all.insert(all.end(), extra.begin(), extra.end());
        return all;
    }

    // A new file holding text with mode; its path.
    std::string secretFile(const std::string& text = kSecret + "\n", mode_t mode = 0600)
    {
        const std::string path = _dir.file("turn-secret-" + std::to_string(++_files));
        std::ofstream(path) << text;
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(path.c_str(), mode));
        return path;
    }

    peerchat::test::TempDir _dir;
    int _files = 0;
};

CPPUNIT_TEST_SUITE_REGISTRATION(IndexdTurnTest);
