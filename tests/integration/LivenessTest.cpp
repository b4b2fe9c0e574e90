// indexd's side of reliable delivery as peerd sees it: heartbeats, expiry,
// presence sequence numbers, the offline mailbox and fault injection. The
// real daemon on loopback, driven by raw sockets that speak peerchat/1 by hand
// (SeedClient in UTF-8 mode sends any text); replies are read as plain strings.
#include "DaemonProcess.h"
#include "SeedClient.h"
#include "TempDir.h"
#include "Wait.h"

#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <algorithm>
#include <fstream>
#include <memory>

using peerchat::test::DaemonProcess;
using peerchat::test::SeedClient;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kExpire{700};
constexpr milliseconds kRedeliver{300};
// Room for a loaded machine: a sweep runs every expireMs/8, a resend sweep
// every redeliverMs/4, and two test programs may share the two cores.
constexpr milliseconds kSlack{1500};

milliseconds since(Clock::time_point start)
{
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

} // namespace

class LivenessTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LivenessTest);
    CPPUNIT_TEST(testHeartbeatAnsweredSeenWithLatestSeq);
    CPPUNIT_TEST(testUnknownHeartbeatAnsweredRelogin);
    CPPUNIT_TEST(testSilentPeerchatUserExpiredAndAnnounced);
    CPPUNIT_TEST(testHeartbeatsKeepPeerchatUserOnline);
    CPPUNIT_TEST(testSeedUserNeverExpires);
    CPPUNIT_TEST(testPresenceSeqCountsAnnouncementsAndEndsRoster);
    CPPUNIT_TEST(testStoredLineDeliveredAtLoginUntilAcked);
    CPPUNIT_TEST(testStorePastBoundAnsweredFull);
    CPPUNIT_TEST(testMailboxSurvivesKillAndRestart);
    CPPUNIT_TEST(testFaultsDropRepliesAndOffDoesNot);
    CPPUNIT_TEST(testDatabaseThatCannotBeOpenedStopsIndexd);
    CPPUNIT_TEST_SUITE_END();

public:
    void tearDown() override { _indexd.reset(); }

    void testHeartbeatAnsweredSeenWithLatestSeq()
    {
        startIndexd();
        SeedClient dave, alice;
        loginPeerchat(dave, "dave");
        login(alice, "alice");
        CPPUNIT_ASSERT_EQUAL("login,alice," + alice.endpoint() + ",seed,2", next(dave));

        dave.send("alive,dave,1", _index);
        Poco::Net::SocketAddress from;
        CPPUNIT_ASSERT_EQUAL(std::string("seen,2"), next(dave, &from));
        CPPUNIT_ASSERT_EQUAL(_index, from.toString());
    }

    void testUnknownHeartbeatAnsweredRelogin()
    {
        startIndexd();
        SeedClient ghost, dave, alice;
        ghost.send("alive,ghost,0", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("relogin,ghost"), next(ghost));

        // A name online elsewhere, or online as a seed client, is not the sender's to keep alive.
        loginPeerchat(dave, "dave");
        login(alice, "alice");
        ghost.send("alive,dave,0", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("relogin,dave"), next(ghost));
        alice.send("alive,alice,0", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("relogin,alice"), next(alice));
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), _indexd->log().find("relogin") == std::string::npos);
    }

    void testSilentPeerchatUserExpiredAndAnnounced()
    {
        startIndexd({"--expire-ms", std::to_string(kExpire.count())});
        SeedClient alice, dave;
        login(alice, "alice");
        const auto loginSent = Clock::now();
        loginPeerchat(dave, "dave");
        CPPUNIT_ASSERT_EQUAL("login,dave," + dave.endpoint(), next(alice));

        CPPUNIT_ASSERT_EQUAL("logout,dave," + dave.endpoint(), next(alice, nullptr, kExpire + kSlack));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(since(loginSent).count()) + " ms", since(loginSent) >= kExpire);
        CPPUNIT_ASSERT(_indexd->waitForLog("logout dave at " + dave.endpoint() + ": not heard from for 700 ms"));

        // The expiry took a presence number like any logout; dave is told to log in again.
        CPPUNIT_ASSERT_EQUAL("alice," + alice.endpoint() + ",seed;end,3",
                             alice.fetchRoster("127.0.0.1", _peerchatPort));
        dave.send("alive,dave,2", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("relogin,dave"), next(dave));
    }

    void testHeartbeatsKeepPeerchatUserOnline()
    {
        // A longer expiry than the other tests: a stalled test program must
        // not pass for a silent peerd.
        const milliseconds expire{1000};
        startIndexd({"--expire-ms", std::to_string(expire.count())});
        SeedClient alice, dave;
        login(alice, "alice");
        loginPeerchat(dave, "dave");
        CPPUNIT_ASSERT_EQUAL("login,dave," + dave.endpoint(), next(alice));

        // Heartbeats for well over the expiry time, as peerd sends them; alice hears no logout.
        const auto start = Clock::now();
        while (since(start) < 5 * expire / 2) {
            dave.send("alive,dave,2", _index);
            CPPUNIT_ASSERT_EQUAL(std::string("seen,2"), next(dave));
            CPPUNIT_ASSERT(alice.quietFor(expire / 5));
        }
        CPPUNIT_ASSERT_EQUAL("alice," + alice.endpoint() + ";dave," + dave.endpoint() + ";end",
                             sortedSeedRoster());
    }

    void testSeedUserNeverExpires()
    {
        startIndexd({"--expire-ms", std::to_string(kExpire.count())});
        SeedClient alice, bob;
        login(alice, "alice");
        login(bob, "bob");
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint(), next(alice));
        CPPUNIT_ASSERT(alice.quietFor(2 * kExpire + kExpire / 2));
        CPPUNIT_ASSERT(bob.quietFor(milliseconds(1)));
        CPPUNIT_ASSERT_EQUAL("alice," + alice.endpoint() + ";bob," + bob.endpoint() + ";end", sortedSeedRoster());
    }

    void testPresenceSeqCountsAnnouncementsAndEndsRoster()
    {
        startIndexd();
        SeedClient dave, alice, bob, erin;
        loginPeerchat(dave, "dave");
        CPPUNIT_ASSERT_EQUAL("dave," + dave.endpoint() + ",peerchat/1;end,1",
                             dave.fetchRoster("127.0.0.1", _peerchatPort));
        login(alice, "alice");
        login(bob, "bob");
        alice.send("logout,alice," + alice.endpoint(), _index);
        loginPeerchat(erin, "erin");
        erin.send("logout,erin," + erin.endpoint(), _index);

        CPPUNIT_ASSERT_EQUAL("login,alice," + alice.endpoint() + ",seed,2", next(dave));
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint() + ",seed,3", next(dave));
        CPPUNIT_ASSERT_EQUAL("logout,alice," + alice.endpoint() + ",4", next(dave));
        CPPUNIT_ASSERT_EQUAL("login,erin," + erin.endpoint() + ",peerchat/1,5", next(dave));
        CPPUNIT_ASSERT_EQUAL("logout,erin," + erin.endpoint() + ",6", next(dave));
        // A seed client sees what it always saw.
        CPPUNIT_ASSERT_EQUAL("logout,alice," + alice.endpoint(), next(bob));
        CPPUNIT_ASSERT_EQUAL("login,erin," + erin.endpoint(), next(bob));
        CPPUNIT_ASSERT_EQUAL("logout,erin," + erin.endpoint(), next(bob));

        const std::string roster = dave.fetchRoster("127.0.0.1", _peerchatPort);
        CPPUNIT_ASSERT_MESSAGE(roster, roster.size() > 6 && roster.compare(roster.size() - 6, 6, ";end,6") == 0);
        dave.send("alive,dave,6", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("seen,6"), next(dave));
    }

    void testStoredLineDeliveredAtLoginUntilAcked()
    {
        startIndexd({"--redeliver-ms", std::to_string(kRedeliver.count())});
        SeedClient alice, bob;
        loginPeerchat(alice, "alice");
        const std::string store = "store,bob,ab12,1,12:00:00,alice,hi, bob";
        alice.send(store, _index);
        CPPUNIT_ASSERT_EQUAL(std::string("stored,bob,ab12,1"), next(alice));
        alice.send(store, _index);
        CPPUNIT_ASSERT_EQUAL(std::string("stored,bob,ab12,1"), next(alice));

        const auto loginSent = Clock::now();
        loginPeerchat(bob, "bob");
        CPPUNIT_ASSERT_EQUAL("login,bob," + bob.endpoint() + ",peerchat/1,2", next(alice));
        Poco::Net::SocketAddress from;
        const std::string msg = "msg,ab12,1,12:00:00,alice,hi, bob";
        CPPUNIT_ASSERT_EQUAL(msg, next(bob, &from));
        CPPUNIT_ASSERT_EQUAL(_index, from.toString());
        // Kept once: the next copy is the resend, a redelivery interval later
        // (reading late only makes the interval look longer).
        CPPUNIT_ASSERT_EQUAL(msg, next(bob, nullptr, kRedeliver + kSlack));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(since(loginSent).count()) + " ms", since(loginSent) >= kRedeliver);
        CPPUNIT_ASSERT_EQUAL(msg, next(bob, nullptr, kRedeliver + kSlack));

        bob.send("ack,bob,ab12,1", _index);
        drainCopiesOf(bob, msg);
        CPPUNIT_ASSERT(bob.quietFor(3 * kRedeliver));

        // Gone for good: a new login brings nothing.
        bob.send("logout,bob," + bob.endpoint(), _index);
        CPPUNIT_ASSERT_EQUAL("logout,bob," + bob.endpoint() + ",3", next(alice));
        loginPeerchat(bob, "bob");
        CPPUNIT_ASSERT(bob.quietFor(2 * kRedeliver));
    }

    void testStorePastBoundAnsweredFull()
    {
        startIndexd({"--mailbox-limit", "2"});
        SeedClient alice;
        loginPeerchat(alice, "alice");
        for (int seq = 1; seq <= 3; ++seq)
            alice.send("store,bob,ab12," + std::to_string(seq) + ",12:00:00,alice,hi", _index);
        alice.send("store,bob,ab12,2,12:00:00,alice,hi", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("stored,bob,ab12,1"), next(alice));
        CPPUNIT_ASSERT_EQUAL(std::string("stored,bob,ab12,2"), next(alice));
        CPPUNIT_ASSERT_EQUAL(std::string("full,bob,ab12,3"), next(alice));
        CPPUNIT_ASSERT_EQUAL(std::string("stored,bob,ab12,2"), next(alice));

        // From a sender not online where it says, a store gets no answer at all.
        SeedClient mallory;
        mallory.send("store,bob,ab12,9,12:00:00,alice,hi", _index);
        CPPUNIT_ASSERT(mallory.quietFor(milliseconds(300)));
    }

    void testMailboxSurvivesKillAndRestart()
    {
        startIndexd();
        const std::string port = _index.substr(_index.rfind(':') + 1);
        SeedClient alice;
        loginPeerchat(alice, "alice");
        alice.send("store,天涯,ab12,1,12:00:00,alice,first", _index);
        alice.send("store,天涯,ab12,2,12:00:01,alice,second, with a comma", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("stored,天涯,ab12,1"), next(alice));
        CPPUNIT_ASSERT_EQUAL(std::string("stored,天涯,ab12,2"), next(alice));

        killAndRestart(port);
        SeedClient tianya;
        loginPeerchat(tianya, "天涯");
        CPPUNIT_ASSERT_EQUAL(std::string("msg,ab12,1,12:00:00,alice,first"), next(tianya));
        CPPUNIT_ASSERT_EQUAL(std::string("msg,ab12,2,12:00:01,alice,second, with a comma"), next(tianya));
        tianya.send("ack,天涯,ab12,2", _index);
        // The ack is on disk once indexd has taken it: a heartbeat after it is answered after it.
        tianya.send("alive,天涯,1", _index);
        CPPUNIT_ASSERT_EQUAL(std::string("seen,1"), tianya.receiveStartingWith("seen,").value_or("nothing"));

        killAndRestart(port);
        SeedClient again;
        loginPeerchat(again, "天涯");
        CPPUNIT_ASSERT(again.quietFor(milliseconds(1500)));
    }

    void testFaultsDropRepliesAndOffDoesNot()
    {
        startIndexd({"--faults", "drop=1"});
        CPPUNIT_ASSERT(_indexd->waitForLog("fault injection is on (drop=1,"));
        SeedClient dave;
        dave.send("login,dave," + dave.endpoint() + ",peerchat/1", _index);
        CPPUNIT_ASSERT(dave.quietFor(milliseconds(500)));
        // The login was taken; only what indexd sent was lost.
        CPPUNIT_ASSERT(
            peerchat::test::waitUntil([&] { return sortedSeedRoster() == "dave," + dave.endpoint() + ";end"; }));

        startIndexd({"--faults", "off"});
        SeedClient erin;
        loginPeerchat(erin, "erin");
        CPPUNIT_ASSERT(_indexd->log().find("fault injection") == std::string::npos);
    }

    void testDatabaseThatCannotBeOpenedStopsIndexd()
    {
        const std::string junk = _dir.file("junk.db");
        std::ofstream(junk) << std::string(4096, 'x');
        DaemonProcess bad("indexd", {"--port", "0", "--bind", "127.0.0.1", "--database", junk});
        bad.start();
        CPPUNIT_ASSERT_EQUAL(69, bad.waitExit());
        CPPUNIT_ASSERT_MESSAGE(bad.log(), bad.log().find("indexd: cannot open the offline mailbox " + junk
                                                         + ": file is not a database")
                                              != std::string::npos);

        DaemonProcess relative("indexd", {"--port", "0", "--database", "indexd.db"});
        relative.start();
        CPPUNIT_ASSERT_EQUAL(64, relative.waitExit());
        CPPUNIT_ASSERT_MESSAGE(relative.log(), relative.log().find("--database must be an absolute path")
                                                   != std::string::npos);
    }

private:
    void startIndexd(std::vector<std::string> extra = {}, const std::string& port = "0")
    {
        std::vector<std::string> args{"--port", port, "--bind", "127.0.0.1", "--database", _dir.file("indexd.db")};
        args.insert(args.end(), extra.begin(), extra.end());
        _indexd = std::make_unique<DaemonProcess>("indexd", args);
        _indexd->start();
        auto fields = _indexd->waitReady();
        _index = fields["udp"];
        _seedPort = std::stoi(fields["seed-roster"]);
        _peerchatPort = std::stoi(fields["peerchat-roster"]);
    }

    void killAndRestart(const std::string& port)
    {
        _indexd->signal(SIGKILL);
        CPPUNIT_ASSERT_EQUAL(128 + SIGKILL, _indexd->waitExit());
        startIndexd({}, port);
    }

    void login(SeedClient& client, const std::string& name)
    {
        CPPUNIT_ASSERT_MESSAGE(name + " got no Accept; indexd log:\n" + _indexd->log(), client.login(name, _index));
    }

    void loginPeerchat(SeedClient& client, const std::string& name)
    {
        client.send("login," + name + "," + client.endpoint() + ",peerchat/1", _index);
        CPPUNIT_ASSERT_EQUAL("Accept," + std::to_string(_peerchatPort), next(client));
    }

    // The next datagram client receives within timeout.
    std::string next(SeedClient& client, Poco::Net::SocketAddress* from = nullptr,
                     milliseconds timeout = std::chrono::seconds(5))
    {
        const auto text = client.receive(timeout, from);
        CPPUNIT_ASSERT_MESSAGE("nothing arrived; indexd log:\n" + _indexd->log(), text);
        return *text;
    }

    // Reads the resends that were on their way when client acked text.
    void drainCopiesOf(SeedClient& client, const std::string& text)
    {
        while (auto more = client.receive(milliseconds(100))) CPPUNIT_ASSERT_EQUAL(text, *more);
    }

    // The seed roster with its entries in name order (indexd lists them in no order).
    std::string sortedSeedRoster()
    {
        SeedClient reader;
        std::string roster = reader.fetchRoster("127.0.0.1", _seedPort);
        std::vector<std::string> entries;
        std::size_t start = 0;
        for (auto semicolon = roster.find(';'); semicolon != std::string::npos; semicolon = roster.find(';', start)) {
            entries.push_back(roster.substr(start, semicolon - start));
            start = semicolon + 1;
        }
        std::sort(entries.begin(), entries.end());
        std::string sorted;
        for (const auto& e : entries) sorted += e + ";";
        return sorted + roster.substr(start);
    }

    peerchat::test::TempDir _dir;
    std::unique_ptr<DaemonProcess> _indexd;
    std::string _index;
    int _seedPort = 0;
    int _peerchatPort = 0;
};

CPPUNIT_TEST_SUITE_REGISTRATION(LivenessTest);
