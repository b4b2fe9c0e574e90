// indexd as a seed client, the seed's .NET program and peerd see it: the real
// daemon on loopback, in legacy mode, driven with raw sockets that use none of
// peerchat's code (SeedClient), and with a peerchat/2 client built from
// common/ (SecureClient).
#include "BadDatagrams.h"
#include "DaemonProcess.h"
#include "SecureClient.h"
#include "SeedClient.h"
#include "TempDir.h"
#include "Wait.h"

#include "Base64.h"
#include "Fingerprint.h"
#include "KeyFile.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <memory>
#include <set>
#include <sys/stat.h>

using peerchat::Login;
using peerchat::Logout;
using peerchat::test::DaemonProcess;
using peerchat::test::SecureClient;
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
    CPPUNIT_TEST(testLegacyUsersSeenByPeerchatUserWhoIsSeenByNone);
    CPPUNIT_TEST(testUnknownPeerchatVersionRefused);
    CPPUNIT_TEST(testWithoutLegacySeedClientsRefusedAndRostersClosed);
    CPPUNIT_TEST(testIdentityKeyCreatedPrivateAndKept);
    CPPUNIT_TEST(testKeyFileReadableByOthersStopsIndexd);
    CPPUNIT_TEST(testSigtermExitsCleanly);
    CPPUNIT_TEST(testBadFlagExitsWithUsage);
    CPPUNIT_TEST(testConfigFileReadAndFlagsWin);
    CPPUNIT_TEST(testBadConfigValueExitsWithUsage);
    CPPUNIT_TEST(testPortInUseSaysSo);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        // Legacy mode, for the seed clients; a login rate no barrage here
        // reaches (SecurityTest floods indexd at its default rate); debug,
        // for the line each dropped datagram gets.
        _indexd = std::make_unique<DaemonProcess>(
            "indexd", std::vector<std::string>{"--port", "0", "--bind", "127.0.0.1", "--database",
                                               _dir.file("indexd.db"), "--legacy", "--login-rate", "10000",
                                               "--log-level", "debug"});
        _indexd->start();
        auto fields = _indexd->waitReady();
        _index = fields["udp"];
        _seedPort = std::stoi(fields["seed-roster"]);
        _dotnetPort = std::stoi(fields["dotnet-roster"]);
        _identity = fields["identity"];
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

        // Each is dropped with one debug line naming its source; then nothing came back.
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

    void testLegacyUsersSeenByPeerchatUserWhoIsSeenByNone()
    {
        SeedClient alice;
        login(alice, "alice");
        SecureClient dave("dave");
        const auto welcome = dave.login(_index);
        CPPUNIT_ASSERT_MESSAGE(welcome.error() + "\n" + _indexd->log(), welcome.ok());
        CPPUNIT_ASSERT_EQUAL(_identity, peerchat::Base64::encode(welcome->indexIdentity));
        // dave declares nobody; his snapshot still has the seed user alice.
        dave.declare({});
        const auto snapshot = dave.awaitHere("alice");
        CPPUNIT_ASSERT_MESSAGE("no here of alice; indexd log:\n" + _indexd->log(), snapshot);
        CPPUNIT_ASSERT_EQUAL("alice," + alice.endpoint() + ",seed", snapshot->name + "," + snapshot->endpoint.toString()
                                                                       + "," + snapshot->dialect);
        CPPUNIT_ASSERT(!snapshot->keys);

        // Seed and .NET users come and go as sealed here and gone.
        SeedClient bob;
        login(bob, "bob");
        assertHere(dave, "bob", bob.endpoint(), "seed");
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint(), next(alice));
        SeedClient carol(SeedClient::Mode::DotNet);
        login(carol, "carol");
        assertHere(dave, "carol", carol.endpoint(), "dotnet");
        CPPUNIT_ASSERT_EQUAL("login,carol," + carol.endpoint(), next(alice));
        CPPUNIT_ASSERT_EQUAL("login,carol," + carol.endpoint(), next(bob));
        alice.send("logout,alice," + alice.endpoint(), _index);
        const auto gone = dave.receiveInner("gone");
        CPPUNIT_ASSERT(gone);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), std::get<peerchat::Gone>(gone->bundle.front()).name);
        CPPUNIT_ASSERT_EQUAL("logout,alice," + alice.endpoint(), next(bob));
        CPPUNIT_ASSERT_EQUAL("logout,alice," + alice.endpoint(), next(carol));

        // The seed users never hear of dave, coming or going, nor find him in a roster.
        CPPUNIT_ASSERT(roster() == (Entries{"bob," + bob.endpoint(), "carol," + carol.endpoint()}));
        dave.logout();
        assertNextIsMarkerLogin({&bob, &carol});
    }

    void testUnknownPeerchatVersionRefused()
    {
        SeedClient alice, erin, frank;
        login(alice, "alice");
        erin.send("login,erin," + erin.endpoint() + ",peerchat/9", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("refuse,erin,version"), next(erin));
        // peerchat/1, the plain protocol before this one, is retired.
        frank.send("login,frank," + frank.endpoint() + ",peerchat/1", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("refuse,frank,version"), next(frank));
        // peerchat/2, whose key exchange did not bind keys to their holders, is refused by name too.
        SecureClient gina("gina");
        for (const std::string dialect : {"peerchat/9", "peerchat/2"}) {
            gina.sendHello(_index, dialect);
            const auto refused = gina.receive();
            CPPUNIT_ASSERT(refused);
            CPPUNIT_ASSERT_EQUAL(std::string("refuse,gina,version,"), refused->bytes.substr(0, 20));
        }
        CPPUNIT_ASSERT(roster() == Entries{"alice," + alice.endpoint()});
        assertNextIsMarkerLogin({&alice});
    }

    void testWithoutLegacySeedClientsRefusedAndRostersClosed()
    {
        DaemonProcess secure("indexd", {"--port", "0", "--bind", "127.0.0.1", "--database", _dir.file("secure.db"),
                                        "--log-level", "debug"});
        secure.start();
        auto fields = secure.waitReady();
        CPPUNIT_ASSERT_EQUAL(std::string("0"), fields["seed-roster"]);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), fields["dotnet-roster"]);
        CPPUNIT_ASSERT(secure.log().find("legacy") == std::string::npos);

        SeedClient seed;
        seed.send("login,seed1," + seed.endpoint(), fields["udp"]);
        CPPUNIT_ASSERT_EQUAL(std::string("refuse,seed1,legacy"), seed.receive().value_or("nothing"));
        // Refused where the login came from (the .NET program's throwaway
        // socket), never at the endpoint written in it.
        SeedClient dotnet(SeedClient::Mode::DotNet);
        dotnet.send("login,dn," + dotnet.endpoint(), fields["udp"]);
        CPPUNIT_ASSERT(secure.waitForLog("refused login dn from"));
        CPPUNIT_ASSERT(dotnet.quietFor(kQuiet));

        SecureClient dave("dave");
        CPPUNIT_ASSERT(dave.login(fields["udp"]).ok());
    }

    void testIdentityKeyCreatedPrivateAndKept()
    {
        // Made on first run where XDG_CONFIG_HOME says, readable by its owner only.
        const std::string keyFile = _indexd->configHome() + "/peerchat/indexd.key";
        struct stat status {};
        CPPUNIT_ASSERT_EQUAL(0, ::stat(keyFile.c_str(), &status));
        CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(status.st_mode & 0777));
        const auto key = peerchat::KeyFile::loadOrCreate(keyFile).publicKey();
        CPPUNIT_ASSERT_EQUAL(peerchat::Base64::encode(key), _identity);
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), _indexd->log().find(peerchat::Fingerprint::of(key)) != std::string::npos);

        // The same key at the next start.
        _indexd->signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, _indexd->waitExit());
        DaemonProcess again("indexd", {"--port", "0", "--bind", "127.0.0.1", "--database", _dir.file("indexd.db"),
                                       "--key", keyFile});
        again.start();
        CPPUNIT_ASSERT_EQUAL(_identity, again.waitReady()["identity"]);
    }

    void testKeyFileReadableByOthersStopsIndexd()
    {
        const std::string keyFile = _dir.file("open.key");
        peerchat::KeyFile::loadOrCreate(keyFile);
        CPPUNIT_ASSERT_EQUAL(0, ::chmod(keyFile.c_str(), 0644));
        DaemonProcess exposed("indexd", {"--port", "0", "--bind", "127.0.0.1", "--key", keyFile});
        exposed.start();
        CPPUNIT_ASSERT_EQUAL(69, exposed.waitExit());
        CPPUNIT_ASSERT_MESSAGE(exposed.log(), exposed.log().find("chmod 600 " + keyFile) != std::string::npos);
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
        SecureClient alice("alice");
        CPPUNIT_ASSERT(alice.login(udp).ok());
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

    // The next presence client gets is a here of name at endpoint in dialect, without keys.
    void assertHere(SecureClient& client, const std::string& name, const std::string& endpoint,
                    const std::string& dialect)
    {
        const auto here = client.awaitHere(name);
        CPPUNIT_ASSERT_MESSAGE("no here of " + name + "; indexd log:\n" + _indexd->log(), here);
        CPPUNIT_ASSERT_EQUAL(name + "," + endpoint + "," + dialect,
                             here->name + "," + here->endpoint.toString() + "," + here->dialect);
        CPPUNIT_ASSERT(!here->keys);
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
    std::string _identity;
    std::vector<std::unique_ptr<SeedClient>> _markers;
};

CPPUNIT_TEST_SUITE_REGISTRATION(IndexdTest);
