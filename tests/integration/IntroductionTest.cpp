// indexd's side of reaching across NATs, against the real daemon on loopback
// with SecureClients as peerds: candidates kept from alive and handed out in
// meet, introductions limited, and a user whose NAT rebound followed to its
// new endpoint.
#include "DaemonProcess.h"
#include "SecureClient.h"
#include "SeedClient.h"
#include "TempDir.h"

#include "Candidate.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>

using peerchat::Alive;
using peerchat::CandidateList;
using peerchat::Meet;
using peerchat::Protocol;
using peerchat::Punch;
using peerchat::Seal;
using peerchat::test::DaemonProcess;
using peerchat::test::SecureClient;
using peerchat::test::SeedClient;

class IntroductionTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IntroductionTest);
    CPPUNIT_TEST(testMeetGivesEachTheOthersCandidatesInOrder);
    CPPUNIT_TEST(testPunchOfOfflineUnknownSeedOrSelfSendsNothing);
    CPPUNIT_TEST(testPunchFloodYieldsAtMostLimitOfMeets);
    CPPUNIT_TEST(testRebindingUserSeenAtNewEndpointAndAnnounced);
    CPPUNIT_TEST(testForgedSealFromNewEndpointMovesNothing);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        // Legacy mode, for a seed user to punch; debug, to read what was dropped.
        _indexd = std::make_unique<DaemonProcess>(
            "indexd", std::vector<std::string>{"--port", "0", "--bind", "127.0.0.1", "--database",
                                               _dir.file("indexd.db"), "--legacy", "--log-level", "debug"});
        _indexd->start();
        _index = _indexd->waitReady()["udp"];
    }

    void tearDown() override { _indexd.reset(); }

    void testMeetGivesEachTheOthersCandidatesInOrder()
    {
        SecureClient alice("alice"), bob("bob");
        loginAll({&alice, &bob});
        heartbeat(alice, "relay=198.18.0.1:49152;srflx=203.0.113.7:9;host=10.0.1.2:5001");
        heartbeat(bob, "host=10.0.2.3:5002");
        alice.sendToIndex(Punch{"bob"});
        CPPUNIT_ASSERT_EQUAL("bob,host=10.0.2.3:5002;srflx=" + bob.endpoint(), meetOf(alice));
        // alice's claimed srflx is not passed on: indexd tells where it sees her.
        CPPUNIT_ASSERT_EQUAL("alice,host=10.0.1.2:5001;srflx=" + alice.endpoint() + ";relay=198.18.0.1:49152",
                             meetOf(bob));
    }

    void testPunchOfOfflineUnknownSeedOrSelfSendsNothing()
    {
        SecureClient alice("alice"), bob("bob");
        loginAll({&alice, &bob});
        SeedClient seedy;
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), seedy.login("seedy", _index));
        for (const char* peer : {"nobody", "seedy", "alice"}) alice.sendToIndex(Punch{peer});
        bob.logout();
        alice.sendToIndex(Punch{"bob"});
        // indexd handles alice's datagrams in order: a meet would come before the seen.
        alice.sendToIndex(Alive{"alice", 0});
        const auto next = alice.receiveMatching([](const SecureClient::Received& r) {
            return r.inner && (Protocol::verb(*r.inner) == "seen" || Protocol::verb(*r.inner) == "meet");
        });
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), next && Protocol::verb(*next->inner) == "seen");
        CPPUNIT_ASSERT(_indexd->waitForLog("punch of bob by alice: bob is not online"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _indexd->countInLog("punch of seedy by alice"));
    }

    void testPunchFloodYieldsAtMostLimitOfMeets()
    {
        SecureClient alice("alice"), bob("bob"), carol("carol");
        loginAll({&alice, &bob, &carol});
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < 50; ++i) alice.sendToIndex(Punch{"bob"});
        const std::size_t toAlice = meetsBeforeSeen(alice);
        // One introduction a second per pair; indexd handled the flood
        // within `seconds`, before it answered the alive sent after it.
        const auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
        const std::size_t most = 1 + static_cast<std::size_t>(seconds);
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), toAlice >= 1 && toAlice <= most);
        // bob's meets come before the seen of his own alive, sent after them; carol gets none.
        CPPUNIT_ASSERT_EQUAL(toAlice, meetsBeforeSeen(bob));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), meetsBeforeSeen(carol));
        CPPUNIT_ASSERT(_indexd->waitForLog("the two were introduced less than a second ago"));
    }

    void testRebindingUserSeenAtNewEndpointAndAnnounced()
    {
        SecureClient alice("alice"), bob("bob");
        loginAll({&alice, &bob});
        const std::string before = alice.endpoint();
        alice.rebind();
        CPPUNIT_ASSERT(alice.endpoint() != before);
        alice.sendToIndex(Alive{"alice", 0});
        const auto seen = alice.receiveInner("seen");
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), seen);
        // bob, her contact, hears she is here at her new endpoint, with the same keys.
        const auto moved = bob.awaitHere("alice");
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), moved);
        CPPUNIT_ASSERT_EQUAL(alice.endpoint(), moved->endpoint.toString());
        CPPUNIT_ASSERT(moved->keys && moved->keys->kx == alice.keys().kx);
        CPPUNIT_ASSERT(_indexd->waitForLog("alice moved from " + before + " to " + alice.endpoint()));
        // And she is introduced there.
        bob.sendToIndex(Punch{"alice"});
        CPPUNIT_ASSERT_EQUAL("alice,srflx=" + alice.endpoint(), meetOf(bob));
    }

    void testForgedSealFromNewEndpointMovesNothing()
    {
        SecureClient alice("alice"), bob("bob"), mallory("mallory");
        loginAll({&alice, &bob});
        // alice's real SKID, a box that does not open; and a replay of a real one.
        Seal forged = alice.sealForIndex(Alive{"alice", 0});
        forged.box[forged.box.size() / 2] ^= 1;
        mallory.sendRaw(Protocol::encode(forged), _index);
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), mallory.receivePlain("relogin"));
        alice.sendToIndex(Alive{"alice", 0});
        CPPUNIT_ASSERT(alice.receiveInner("seen"));
        mallory.sendRaw(alice.lastSent("seal,"), _index);
        CPPUNIT_ASSERT(mallory.receivePlain("relogin"));
        CPPUNIT_ASSERT(mallory.quietFor(std::chrono::milliseconds(200)));
        // Nothing was announced: the next here bob hears is carol's.
        SecureClient carol("carol");
        loginAll({&carol});
        const auto next = bob.receiveInner("here");
        CPPUNIT_ASSERT(next && std::get<peerchat::Here>(*next->inner).name == "carol");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _indexd->countInLog("moved from"));
    }

private:
    // Logs the clients in, each with every user of this suite as a contact
    // (indexd introduces only users who see each other), and takes the
    // snapshot that answers each list.
    void loginAll(std::initializer_list<SecureClient*> clients)
    {
        for (SecureClient* client : clients) {
            const auto welcome = client->login(_index);
            CPPUNIT_ASSERT_MESSAGE(welcome.error() + "\n" + _indexd->log(), welcome.ok());
            client->declare({"alice", "bob", "carol"});
            CPPUNIT_ASSERT_MESSAGE(_indexd->log(), client->receiveInner("snapshot"));
        }
    }

    // Sends a heartbeat carrying candidates and waits for its seen.
    void heartbeat(SecureClient& client, const std::string& candidates)
    {
        client.sendToIndex(Alive{client.name(), 0, CandidateList::parse(candidates).value()});
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), client.receiveInner("seen"));
    }

    // The next meet client gets, as `PEER,CANDS`.
    std::string meetOf(SecureClient& client)
    {
        const auto meet = client.receiveInner("meet");
        CPPUNIT_ASSERT_MESSAGE("no meet for " + client.name() + "; indexd log:\n" + _indexd->log(), meet);
        const Meet& m = std::get<Meet>(*meet->inner);
        return m.peer + "," + CandidateList::format(m.candidates);
    }

    // Sends a heartbeat and counts the meets that arrive before its seen:
    // indexd answers in order, so every meet sent earlier comes first.
    std::size_t meetsBeforeSeen(SecureClient& client)
    {
        client.sendToIndex(Alive{client.name(), 0});
        std::size_t meets = 0;
        while (true) {
            const auto inner =
                client.receiveMatching([](const SecureClient::Received& r) { return r.inner.has_value(); });
            CPPUNIT_ASSERT_MESSAGE("no seen for " + client.name() + "; indexd log:\n" + _indexd->log(), inner);
            const std::string_view verb = Protocol::verb(*inner->inner);
            if (verb == "seen") return meets;
            meets += verb == "meet";
        }
    }

    peerchat::test::TempDir _dir;
    std::unique_ptr<DaemonProcess> _indexd;
    std::string _index;
};

CPPUNIT_TEST_SUITE_REGISTRATION(IntroductionTest);
