// indexd as a seed client, the seed's .NET program and peerd see it: the real
// daemon on loopback, driven with raw sockets that use none of peerchat's code.
#include "BadDatagrams.h"
#include "DaemonProcess.h"
#include "SeedClient.h"
#include "TempDir.h"
#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <set>

using peerchat::test::DaemonProcess;
using peerchat::test::SeedClient;
using Entries = std::set<std::string>;

namespace {

constexpr auto kQuiet = std::chrono::milliseconds(300);

// The entries of a roster text ("a,ep;b,ep;end"), which must end in `end`
// ("end,SEQ" for the peerchat roster).
Entries entriesOf(const std::string& text, const std::string& end = "end")
{
    Entries entries;
    std::size_t start = 0;
    while (true) {
        const auto semicolon = text.find(';', start);
        if (semicolon == std::string::npos) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE("roster: " + text, end, text.substr(start));
            return entries;
        }
        entries.insert(text.substr(start, semicolon - start));
        start = semicolon + 1;
    }
}

} // namespace

class IndexdTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IndexdTest);
    CPPUNIT_TEST(testSeedLoginAcceptedAndRosterListsSelf);
    CPPUNIT_TEST(testSecondLoginBroadcastToFirst);
    CPPUNIT_TEST(testLoginOfNameOnlineElsewhereRefused);
    CPPUNIT_TEST(testRepeatedLoginFromSameEndpointAcceptedWithoutBroadcast);
    CPPUNIT_TEST(testLogoutOnlyFromRegisteredEndpoint);
    CPPUNIT_TEST(testBadDatagramsGetNoReplyAndChangeNothing);
    CPPUNIT_TEST(testDotNetClientInteroperatesWithSeedClients);
    CPPUNIT_TEST(testPeerchatLoginGetsDialects);
    CPPUNIT_TEST(testUnknownPeerchatVersionRefused);
    CPPUNIT_TEST(testSigtermExitsCleanly);
    CPPUNIT_TEST(testBadFlagExitsWithUsage);
    CPPUNIT_TEST(testConfigFileReadAndFlagsWin);
    CPPUNIT_TEST(testBadConfigValueExitsWithUsage);
    CPPUNIT_TEST(testPortInUseSaysSo);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _indexd = std::make_unique<DaemonProcess>(
            "indexd",
            std::vector<std::string>{"--port", "0", "--bind", "127.0.0.1", "--database", _dir.file("indexd.db")});
        _indexd->start();
        auto fields = _indexd->waitReady();
        _index = fields["udp"];
        _seedPort = std::stoi(fields["seed-roster"]);
        _dotnetPort = std::stoi(fields["dotnet-roster"]);
        _peerchatPort = std::stoi(fields["peerchat-roster"]);
    }

    void tearDown() override
    {
        _indexd.reset();
    }

    void testSeedLoginAcceptedAndRosterListsSelf()
    {
        SeedClient alice;
        CPPUNIT_ASSERT_EQUAL(_seedPort, login(alice, "alice"));
        CPPUNIT_ASSERT(roster() == Entries{"alice," + alice.endpoint()});
    }

    void testSecondLoginBroadcastToFirst()
    {
        SeedClient alice, bob;
        login(alice, "alice");
        login(bob, "天涯");
        CPPUNIT_ASSERT_EQUAL("login,天涯," + bob.endpoint(), next(alice));
        CPPUNIT_ASSERT(roster() == (Entries{"alice," + alice.endpoint(), "天涯," + bob.endpoint()}));
    }

    void testLoginOfNameOnlineElsewhereRefused()
    {
        SeedClient alice, bob, imposter;
        login(alice, "alice");
        login(bob, "bob");
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint(), next(alice));

        imposter.send("login,alice," + imposter.endpoint(), _index);
        CPPUNIT_ASSERT_EQUAL(std::string("refuse,alice,taken"), next(imposter));
        CPPUNIT_ASSERT(roster() == (Entries{"alice," + alice.endpoint(), "bob," + bob.endpoint()}));
        assertNextIsMarkerLogin({&alice});
    }

    void testRepeatedLoginFromSameEndpointAcceptedWithoutBroadcast()
    {
        SeedClient alice, bob;
        login(alice, "alice");
        login(bob, "bob");
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint(), next(alice));

        CPPUNIT_ASSERT_EQUAL(_seedPort, login(bob, "bob"));
        assertNextIsMarkerLogin({&alice, &bob});
    }

    void testLogoutOnlyFromRegisteredEndpoint()
    {
        SeedClient alice, bob, mallory;
        login(alice, "alice");
        login(bob, "bob");
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint(), next(alice));

        mallory.send("logout,bob," + bob.endpoint(), _index);
        CPPUNIT_ASSERT(_indexd->waitForLog("dropped datagram from " + mallory.endpoint()));
        CPPUNIT_ASSERT(roster() == (Entries{"alice," + alice.endpoint(), "bob," + bob.endpoint()}));

        bob.send("logout,bob," + bob.endpoint(), _index);
        CPPUNIT_ASSERT_EQUAL("logout,bob," + bob.endpoint(), next(alice));
        CPPUNIT_ASSERT(roster() == Entries{"alice," + alice.endpoint()});
    }

    void testBadDatagramsGetNoReplyAndChangeNothing()
    {
        SeedClient alice, attacker;
        login(alice, "alice");
        const auto bad = peerchat::test::badDatagrams();
        for (const auto& bytes : bad) attacker.sendRaw(bytes, _index);

        // Each is dropped with one log line naming its source; then nothing came back.
        const std::string line = "datagram from " + attacker.endpoint();
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), peerchat::test::waitUntil([&] {
                                   return _indexd->countInLog(line) == bad.size();
                               }));
        CPPUNIT_ASSERT(attacker.quietFor(kQuiet));
        CPPUNIT_ASSERT(roster() == Entries{"alice," + alice.endpoint()});

        // indexd still serves, and neither answered nor announced anything for the barrage.
        assertNextIsMarkerLogin({&alice});
        attacker.send("login,attacker," + attacker.endpoint(), _index);
        CPPUNIT_ASSERT_EQUAL("Accept," + std::to_string(_seedPort), next(attacker));
    }

    void testDotNetClientInteroperatesWithSeedClients()
    {
        SeedClient alice;
        SeedClient carol(SeedClient::Mode::DotNet);
        login(alice, "alice");

        // Its Accept arrives in UTF-16LE at the endpoint it listens on and names the .NET roster.
        CPPUNIT_ASSERT_EQUAL(_dotnetPort, login(carol, "carol"));
        CPPUNIT_ASSERT_EQUAL("login,carol," + carol.endpoint(), next(alice));
        const Entries both{"alice," + alice.endpoint(), "carol," + carol.endpoint()};
        CPPUNIT_ASSERT(entriesOf(carol.fetchRoster("127.0.0.1", _dotnetPort)) == both);
        CPPUNIT_ASSERT(roster() == both);

        SeedClient bob;
        login(bob, "bob");
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint(), next(carol));
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint(), next(alice));

        // The .NET program logs out from a throwaway socket of the same address.
        carol.send("logout,carol," + carol.endpoint(), _index);
        CPPUNIT_ASSERT_EQUAL("logout,carol," + carol.endpoint(), next(alice));
        CPPUNIT_ASSERT(roster() == (Entries{"alice," + alice.endpoint(), "bob," + bob.endpoint()}));
    }

    void testPeerchatLoginGetsDialects()
    {
        SeedClient alice, dave;
        login(alice, "alice");
        dave.send("login,dave," + dave.endpoint() + ",peerchat/1", _index);
        CPPUNIT_ASSERT_EQUAL("Accept," + std::to_string(_peerchatPort), next(dave));
        CPPUNIT_ASSERT_EQUAL("login,dave," + dave.endpoint(), next(alice));
        // Peerchat users also get each announcement's presence sequence number.
        CPPUNIT_ASSERT(entriesOf(dave.fetchRoster("127.0.0.1", _peerchatPort), "end,2")
                       == (Entries{"alice," + alice.endpoint() + ",seed", "dave," + dave.endpoint() + ",peerchat/1"}));

        SeedClient bob;
        login(bob, "bob");
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint() + ",seed,3", next(dave));
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint(), next(alice));
        SeedClient carol(SeedClient::Mode::DotNet);
        login(carol, "carol");
        CPPUNIT_ASSERT_EQUAL("login,carol," + carol.endpoint() + ",dotnet,4", next(dave));
        CPPUNIT_ASSERT_EQUAL("login,carol," + carol.endpoint(), next(alice));
        CPPUNIT_ASSERT_EQUAL("login,carol," + carol.endpoint(), next(bob));
        dave.send("logout,dave," + dave.endpoint(), _index);
        CPPUNIT_ASSERT_EQUAL("logout,dave," + dave.endpoint(), next(alice));
        CPPUNIT_ASSERT_EQUAL("logout,dave," + dave.endpoint(), next(carol));
    }

    void testUnknownPeerchatVersionRefused()
    {
        SeedClient alice, erin;
        login(alice, "alice");
        erin.send("login,erin," + erin.endpoint() + ",peerchat/9", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("refuse,erin,version"), next(erin));
        CPPUNIT_ASSERT(roster() == Entries{"alice," + alice.endpoint()});
        assertNextIsMarkerLogin({&alice});
    }

    void testSigtermExitsCleanly()
    {
        SeedClient alice;
        login(alice, "alice");
        _indexd->signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, _indexd->waitExit());
        CPPUNIT_ASSERT(_indexd->log().find("indexd stopping") != std::string::npos);
    }

    void testBadFlagExitsWithUsage()
    {
        DaemonProcess bad("indexd", {"--port", "abc"});
        bad.start();
        CPPUNIT_ASSERT_EQUAL(64, bad.waitExit());
        CPPUNIT_ASSERT_MESSAGE(bad.log(), bad.log().find("indexd: --port must be 0..65535, got 'abc'") != std::string::npos);

        DaemonProcess unknown("indexd", {"--no-such-flag"});
        unknown.start();
        CPPUNIT_ASSERT_EQUAL(64, unknown.waitExit());
        CPPUNIT_ASSERT_MESSAGE(unknown.log(), unknown.log().find("indexd --help") != std::string::npos);
    }

    void testConfigFileReadAndFlagsWin()
    {
        peerchat::test::TempDir dir;
        std::ofstream(dir.file("indexd.properties")) << "indexd.bind = 127.0.0.1\nindexd.port = not-a-port\n";
        DaemonProcess configured("indexd", {"--config", dir.file("indexd.properties"), "--port", "0"});
        configured.start();
        const std::string udp = configured.waitReady()["udp"];
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:"), udp.substr(0, 10));
        SeedClient alice;
        CPPUNIT_ASSERT(alice.login("alice", udp));
    }

    void testBadConfigValueExitsWithUsage()
    {
        peerchat::test::TempDir dir;
        std::ofstream(dir.file("indexd.properties")) << "indexd.bind = 127.0.0.1\nindexd.maxRosterConnections = lots\n";
        DaemonProcess bad("indexd", {"--port", "0", "--config", dir.file("indexd.properties")});
        bad.start();
        CPPUNIT_ASSERT_EQUAL(64, bad.waitExit());
        CPPUNIT_ASSERT_MESSAGE(bad.log(), bad.log().find("indexd.maxRosterConnections must be 1..65536, got 'lots'")
                                              != std::string::npos);
    }

    void testPortInUseSaysSo()
    {
        const std::string port = _index.substr(_index.rfind(':') + 1);
        DaemonProcess second("indexd", {"--port", port, "--bind", "127.0.0.1"});
        second.start();
        CPPUNIT_ASSERT_EQUAL(69, second.waitExit());
        CPPUNIT_ASSERT_MESSAGE(second.log(), second.log().find("cannot listen on UDP 127.0.0.1:" + port
                                                               + ": address in use; is another indexd running?")
                                                 != std::string::npos);
    }

private:
    int login(SeedClient& client, const std::string& name)
    {
        const auto port = client.login(name, _index);
        CPPUNIT_ASSERT_MESSAGE(name + " got no Accept; indexd log:\n" + _indexd->log(), port);
        return *port;
    }

    // The next datagram client receives.
    std::string next(SeedClient& client)
    {
        const auto text = client.receive();
        CPPUNIT_ASSERT_MESSAGE("nothing arrived; indexd log:\n" + _indexd->log(), text);
        return *text;
    }

    Entries roster()
    {
        SeedClient reader;
        return entriesOf(reader.fetchRoster("127.0.0.1", _seedPort));
    }

    // Logs a new user in and checks that its login is the next thing each
    // observer hears: indexd handles datagrams in order and loopback keeps the
    // order of what it sends, so anything announced earlier would arrive first.
    void assertNextIsMarkerLogin(std::initializer_list<SeedClient*> observers)
    {
        _markers.push_back(std::make_unique<SeedClient>());
        SeedClient& marker = *_markers.back();
        const std::string name = "marker" + std::to_string(_markers.size());
        login(marker, name);
        for (SeedClient* observer : observers)
            CPPUNIT_ASSERT_EQUAL("login," + name + "," + marker.endpoint(), next(*observer));
    }

    peerchat::test::TempDir _dir;
    std::unique_ptr<DaemonProcess> _indexd;
    std::string _index;
    int _seedPort = 0;
    int _dotnetPort = 0;
    int _peerchatPort = 0;
    std::vector<std::unique_ptr<SeedClient>> _markers;
};

CPPUNIT_TEST_SUITE_REGISTRATION(IndexdTest);
