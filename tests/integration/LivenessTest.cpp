// indexd's side of reliable delivery as peerd sees it: heartbeats, expiry,
// presence sequence numbers, the offline mailbox and fault injection. The
// real daemon on loopback (in legacy mode, for the seed clients that watch),
// driven by SecureClient, which speaks peerchat/2 from common/'s codec and
// crypto: sealed heartbeats, posts and acks, signed presence.
#include "DaemonProcess.h"
#include "SecureClient.h"
#include "SeedClient.h"
#include "TempDir.h"
#include "Wait.h"

#include "OfflineBox.h"

#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <csignal>
#include <deque>
#include <fstream>
#include <map>
#include <memory>

using namespace peerchat;
using peerchat::test::DaemonProcess;
using peerchat::test::SecureClient;
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

// The inner message of a sealed datagram, as its text.
std::string innerText(const SecureClient::Received& received)
{
    return received.inner ? Protocol::encode(*received.inner) : "(not sealed: " + received.bytes + ")";
}

// A post of `msg,STREAM,SEQ,TIME,FROM,TO,TEXT` from sender to recipient, sealed in an OfflineBox.
Post postOf(const SecureClient& sender, const PublicKey& recipient, const std::string& to, const std::string& stream,
            std::uint64_t seq, const std::string& text)
{
    const Msg msg{stream, seq, "12:00:00", sender.name(), to, text};
    return Post{to, stream, seq, OfflineBox::seal(sender.identity(), recipient, Protocol::encode(msg))};
}

} // namespace

class LivenessTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LivenessTest);
    CPPUNIT_TEST(testHeartbeatAnsweredSeenWithLatestSeq);
    CPPUNIT_TEST(testHeartbeatFromNoUserAnsweredBareRelogin);
    CPPUNIT_TEST(testSilentPeerchatUserExpiredAndAnnounced);
    CPPUNIT_TEST(testHeartbeatsKeepPeerchatUserOnline);
    CPPUNIT_TEST(testSeedUserNeverExpires);
    CPPUNIT_TEST(testPresenceNumberedPerRecipient);
    CPPUNIT_TEST(testStoredLineDeliveredAtLoginUntilAcked);
    CPPUNIT_TEST(testPostPastBoundAnsweredFull);
    CPPUNIT_TEST(testMailboxSurvivesKillAndRestart);
    CPPUNIT_TEST(testFaultsDropRepliesAndOffDoesNot);
    CPPUNIT_TEST(testDatabaseThatCannotBeOpenedStopsIndexd);
    CPPUNIT_TEST_SUITE_END();

public:
    void tearDown() override { _indexd.reset(); }

    void testHeartbeatAnsweredSeenWithLatestSeq()
    {
        startIndexd();
        SecureClient dave("dave");
        SeedClient alice;
        loginSecure(dave);
        dave.declare({});
        CPPUNIT_ASSERT_EQUAL(std::string("snapshot,1,0"), nextPresence(dave));
        login(alice, "alice");
        CPPUNIT_ASSERT_EQUAL("here,2,alice," + alice.endpoint() + ",seed,-,-,-,online,", nextPresence(dave));

        dave.sendToIndex(Alive{"dave", 2});
        const auto seen = dave.receiveInner("seen");
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), seen);
        CPPUNIT_ASSERT_EQUAL(std::string("seen,2"), innerText(*seen));
        CPPUNIT_ASSERT_EQUAL(_index, seen->from.toString());
    }

    void testHeartbeatFromNoUserAnsweredBareRelogin()
    {
        startIndexd();
        SecureClient ghost("ghost");
        SecureClient dave("dave");
        SeedClient alice;
        loginSecure(ghost);
        loginSecure(dave);
        login(alice, "alice");
        // Sealed for a login indexd no longer has: it cannot tell who sent it.
        ghost.logout();
        CPPUNIT_ASSERT(_indexd->waitForLog("logout ghost at " + ghost.endpoint()));
        ghost.sendToIndex(Alive{"ghost", 0});
        const auto relogin = ghost.receivePlain("relogin");
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), relogin);
        CPPUNIT_ASSERT_EQUAL(std::string("relogin"), relogin->bytes);

        // Plain heartbeats are no one's: dropped, unanswered, even for a user online.
        ghost.sendRaw("alive,dave,0", _index);
        alice.send("alive,alice,0", _index);
        CPPUNIT_ASSERT(ghost.quietFor(milliseconds(300)));
        CPPUNIT_ASSERT(_indexd->waitForLog("dropped datagram from " + alice.endpoint() + ": plain alive"));
        // A heartbeat sealed by ghost's session for dave is not dave's.
        loginSecure(ghost);
        ghost.sendToIndex(Alive{"dave", 0});
        CPPUNIT_ASSERT(_indexd->waitForLog("alive for dave sealed by ghost"));
        CPPUNIT_ASSERT(ghost.quietFor(milliseconds(300)));
    }

    void testSilentPeerchatUserExpiredAndAnnounced()
    {
        startIndexd({"--expire-ms", std::to_string(kExpire.count())});
        SecureClient erin("erin");
        SecureClient dave("dave");
        loginSecure(erin);
        const auto loginSent = Clock::now();
        loginSecure(dave);
        befriend(erin, dave);

        // erin keeps sending heartbeats; dave falls silent, and erin hears he is gone.
        std::optional<SecureClient::Received> gone;
        while (!gone && since(loginSent) < kExpire + kSlack) {
            erin.sendToIndex(Alive{"erin", 0});
            gone = erin.receiveMatching([](const SecureClient::Received& r) { return hasGone(r, "dave"); },
                                        kExpire / 4);
        }
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), gone);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(since(loginSent).count()) + " ms", since(loginSent) >= kExpire);
        CPPUNIT_ASSERT(_indexd->waitForLog("logout dave at " + dave.endpoint() + ": not heard from for 700 ms"));

        // dave is told to log in again.
        dave.sendToIndex(Alive{"dave", 2});
        const auto relogin = dave.receivePlain("relogin");
        CPPUNIT_ASSERT(relogin);
        CPPUNIT_ASSERT_EQUAL(std::string("relogin"), relogin->bytes);
    }

    void testHeartbeatsKeepPeerchatUserOnline()
    {
        // A longer expiry than the other tests: a stalled test program must
        // not pass for a silent peerd.
        const milliseconds expire{1000};
        startIndexd({"--expire-ms", std::to_string(expire.count())});
        SecureClient erin("erin");
        SecureClient dave("dave");
        loginSecure(erin);
        loginSecure(dave);
        befriend(erin, dave);

        // Heartbeats for well over the expiry time, as peerd sends them; erin hears no gone.
        const auto start = Clock::now();
        while (since(start) < 5 * expire / 2) {
            for (SecureClient* client : {&dave, &erin}) {
                client->sendToIndex(Alive{client->name(), 2});
                const auto seen = client->receiveInner("seen");
                CPPUNIT_ASSERT_MESSAGE(_indexd->log(), seen);
                CPPUNIT_ASSERT(!hasGone(*seen, "dave"));
            }
            CPPUNIT_ASSERT(erin.quietFor(expire / 5));
        }
        CPPUNIT_ASSERT(_indexd->log().find("logout dave") == std::string::npos);
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

    void testPresenceNumberedPerRecipient()
    {
        startIndexd();
        SecureClient dave("dave");
        SecureClient erin("erin");
        SeedClient alice, bob;
        loginSecure(dave);
        dave.declare({"erin"});
        CPPUNIT_ASSERT_EQUAL(std::string("snapshot,1,0"), nextPresence(dave));
        login(alice, "alice");
        CPPUNIT_ASSERT_EQUAL("here,2,alice," + alice.endpoint() + ",seed,-,-,-,online,", nextPresence(dave));
        login(bob, "bob");
        CPPUNIT_ASSERT_EQUAL("here,3,bob," + bob.endpoint() + ",seed,-,-,-,online,", nextPresence(dave));
        alice.send("logout,alice," + alice.endpoint(), _index);
        CPPUNIT_ASSERT_EQUAL(std::string("gone,4,alice"), nextPresence(dave));
        loginSecure(erin);
        erin.declare({"dave"}, PresenceState::Busy, "in a meeting, back at 3");
        const std::string erinHere = nextPresence(dave);
        CPPUNIT_ASSERT_MESSAGE(erinHere, erinHere.rfind("here,5,erin," + erin.endpoint() + ",peerchat/3,", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(erinHere, erinHere.find(",busy,in a meeting, back at 3") != std::string::npos);
        erin.logout();
        CPPUNIT_ASSERT_EQUAL(std::string("gone,6,erin"), nextPresence(dave));
        // A seed client sees what it always saw, and nothing of erin.
        CPPUNIT_ASSERT_EQUAL("logout,alice," + alice.endpoint(), next(bob));
        CPPUNIT_ASSERT(bob.quietFor(milliseconds(200)));

        dave.sendToIndex(Alive{"dave", 6});
        const auto seen = dave.receiveInner("seen");
        CPPUNIT_ASSERT(seen);
        CPPUNIT_ASSERT_EQUAL(std::string("seen,6"), innerText(*seen));
    }

    void testStoredLineDeliveredAtLoginUntilAcked()
    {
        startIndexd({"--redeliver-ms", std::to_string(kRedeliver.count())});
        SecureClient alice("alice");
        SecureClient bob("bob");
        registerOffline("bob", bob.identity());
        loginSecure(alice);
        const Post post = postOf(alice, bob.identity().publicKey(), "bob", "ab12", 1, "hi, bob");
        for (int copy = 0; copy < 2; ++copy) {
            alice.sendToIndex(post);
            const auto stored = alice.receiveInner("stored");
            CPPUNIT_ASSERT_MESSAGE(_indexd->log(), stored);
            CPPUNIT_ASSERT_EQUAL(std::string("stored,bob,ab12,1"), innerText(*stored));
        }

        const auto loginSent = Clock::now();
        loginSecure(bob);
        // The mail names alice's key and opens with it to alice's msg.
        const auto mail = bob.receiveInner("mail");
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), mail);
        CPPUNIT_ASSERT_EQUAL(_index, mail->from.toString());
        const Mail& letter = std::get<Mail>(*mail->inner);
        CPPUNIT_ASSERT_EQUAL(std::string("alice,ab12,1"), letter.from + "," + letter.stream + "," +
                                                               std::to_string(letter.seq));
        CPPUNIT_ASSERT(letter.identity == alice.identity().publicKey());
        const auto text = OfflineBox::open(bob.identity(), letter.identity, letter.box);
        CPPUNIT_ASSERT_MESSAGE(text.error(), text.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("msg,ab12,1,12:00:00,alice,bob,hi, bob"), *text);
        // Kept once: the next copy is the resend, a redelivery interval later
        // (reading late only makes the interval look longer).
        CPPUNIT_ASSERT(bob.receiveInner("mail", kRedeliver + kSlack));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(since(loginSent).count()) + " ms", since(loginSent) >= kRedeliver);
        CPPUNIT_ASSERT(bob.receiveInner("mail", kRedeliver + kSlack));

        bob.sendToIndex(Ack{"bob", "ab12", 1, {}});
        drainMail(bob);
        CPPUNIT_ASSERT(bob.quietFor(3 * kRedeliver));

        // Gone for good: a new login brings nothing.
        bob.logout();
        CPPUNIT_ASSERT(_indexd->waitForLog("logout bob at " + bob.endpoint()));
        loginSecure(bob);
        CPPUNIT_ASSERT(bob.quietFor(2 * kRedeliver));
    }

    void testPostPastBoundAnsweredFull()
    {
        startIndexd({"--mailbox-limit", "2"});
        SecureClient alice("alice");
        const SigningKey bobKey = SigningKey::generate();
        registerOffline("bob", bobKey);
        const PublicKey bob = bobKey.publicKey();
        loginSecure(alice);
        for (std::uint64_t seq = 1; seq <= 3; ++seq) alice.sendToIndex(postOf(alice, bob, "bob", "ab12", seq, "hi"));
        alice.sendToIndex(postOf(alice, bob, "bob", "ab12", 2, "hi"));
        for (const std::string expected : {"stored,bob,ab12,1", "stored,bob,ab12,2", "full,bob,ab12,3,recipient",
                                           "stored,bob,ab12,2"}) {
            const auto reply = alice.receiveMatching([](const SecureClient::Received& r) { return r.inner.has_value(); });
            CPPUNIT_ASSERT_MESSAGE("no " + expected + "; indexd log:\n" + _indexd->log(), reply);
            CPPUNIT_ASSERT_EQUAL(expected, innerText(*reply));
        }

        // Plain, a post is no one's: it gets no answer at all.
        SecureClient mallory("mallory");
        mallory.sendRaw(Protocol::encode(postOf(alice, bob, "bob", "ab12", 9, "hi")), _index);
        CPPUNIT_ASSERT(mallory.quietFor(milliseconds(300)));
    }

    void testMailboxSurvivesKillAndRestart()
    {
        startIndexd();
        const std::string port = _index.substr(_index.rfind(':') + 1);
        SecureClient alice("alice");
        const SigningKey tianyaKey = SigningKey::generate();
        registerOffline("天涯", tianyaKey);
        loginSecure(alice);
        alice.sendToIndex(postOf(alice, tianyaKey.publicKey(), "天涯", "ab12", 1, "first"));
        alice.sendToIndex(postOf(alice, tianyaKey.publicKey(), "天涯", "ab12", 2, "second, with a comma"));
        for (const std::string expected : {"stored,天涯,ab12,1", "stored,天涯,ab12,2"}) {
            const auto stored = alice.receiveInner("stored");
            CPPUNIT_ASSERT(stored);
            CPPUNIT_ASSERT_EQUAL(expected, innerText(*stored));
        }

        killAndRestart(port);
        SecureClient tianya("天涯", tianyaKey);
        loginSecure(tianya);
        for (const std::string expected : {"msg,ab12,1,12:00:00,alice,天涯,first",
                                           "msg,ab12,2,12:00:00,alice,天涯,second, with a comma"}) {
            const auto mail = tianya.receiveInner("mail");
            CPPUNIT_ASSERT_MESSAGE(_indexd->log(), mail);
            const Mail& letter = std::get<Mail>(*mail->inner);
            CPPUNIT_ASSERT_EQUAL(expected, OfflineBox::open(tianyaKey, letter.identity, letter.box).value());
        }
        tianya.sendToIndex(Ack{"天涯", "ab12", 2, {}});
        // The ack is on disk once indexd has taken it: a heartbeat after it is answered after it.
        tianya.sendToIndex(Alive{"天涯", 1});
        const auto seen = tianya.receiveInner("seen");
        CPPUNIT_ASSERT(seen);

        killAndRestart(port);
        SecureClient again("天涯", tianyaKey);
        loginSecure(again);
        CPPUNIT_ASSERT(again.quietFor(milliseconds(1500)));
    }

    void testFaultsDropRepliesAndOffDoesNot()
    {
        startIndexd({"--faults", "drop=1"});
        CPPUNIT_ASSERT(_indexd->waitForLog("fault injection is on (drop=1,"));
        SeedClient carol;
        carol.send("login,carol," + carol.endpoint(), _index);
        CPPUNIT_ASSERT(carol.quietFor(milliseconds(500)));
        // The login was taken; only what indexd sent was lost.
        CPPUNIT_ASSERT(
            peerchat::test::waitUntil([&] { return sortedSeedRoster() == "carol," + carol.endpoint() + ";end"; }));
        SecureClient dave("dave");
        dave.sendHello(_index);
        CPPUNIT_ASSERT(dave.quietFor(milliseconds(500)));

        startIndexd({"--faults", "off"});
        SecureClient erin("erin");
        loginSecure(erin);
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
        // Legacy mode for the seed clients that watch; the same key at each
        // restart; debug, for the line each dropped datagram gets.
        std::vector<std::string> args{"--port", port, "--bind", "127.0.0.1", "--database", _dir.file("indexd.db"),
                                      "--key", _dir.file("indexd.key"), "--legacy", "--log-level", "debug"};
        args.insert(args.end(), extra.begin(), extra.end());
        _indexd = std::make_unique<DaemonProcess>("indexd", args);
        _indexd->start();
        auto fields = _indexd->waitReady();
        _index = fields["udp"];
        _seedPort = std::stoi(fields["seed-roster"]);
    }

    // Logs name in with key and out again: the name is bound to the key (indexd
    // keeps letters only for such names) and offline.
    void registerOffline(const std::string& name, const SigningKey& key)
    {
        SecureClient user(name, key);
        loginSecure(user);
        user.logout();
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

    void loginSecure(SecureClient& client)
    {
        const auto welcome = client.login(_index);
        CPPUNIT_ASSERT_MESSAGE(client.name() + ": " + welcome.error() + "; indexd log:\n" + _indexd->log(),
                               welcome.ok());
    }

    // The next datagram client receives within timeout.
    std::string next(SeedClient& client, Poco::Net::SocketAddress* from = nullptr,
                     milliseconds timeout = std::chrono::seconds(5))
    {
        const auto text = client.receive(timeout, from);
        CPPUNIT_ASSERT_MESSAGE("nothing arrived; indexd log:\n" + _indexd->log(), text);
        return *text;
    }

    // The next presence message (here, gone, snapshot) client receives, as text.
    std::string nextPresence(SecureClient& client)
    {
        if (_presence[&client].empty()) {
            const auto received = client.receiveMatching([](const SecureClient::Received& r) {
                for (const auto& inner : r.bundle) {
                    if (std::holds_alternative<Here>(inner) || std::holds_alternative<Gone>(inner)
                        || std::holds_alternative<Snapshot>(inner))
                        return true;
                }
                return false;
            });
            CPPUNIT_ASSERT_MESSAGE("no presence; indexd log:\n" + _indexd->log(), received);
            for (const auto& inner : received->bundle) {
                if (!std::holds_alternative<peerchat::Seen>(inner)) _presence[&client].push_back(Protocol::encode(inner));
            }
        }
        const std::string text = _presence[&client].front();
        _presence[&client].pop_front();
        return text;
    }

    // True when received holds a gone of name.
    static bool hasGone(const SecureClient::Received& received, const std::string& name)
    {
        for (const auto& inner : received.bundle) {
            if (const auto* gone = std::get_if<Gone>(&inner); gone && gone->name == name) return true;
        }
        return false;
    }

    // a and b declare each other, and each waits until it sees the other.
    void befriend(SecureClient& a, SecureClient& b)
    {
        a.declare({b.name()});
        b.declare({a.name()});
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), a.awaitHere(b.name()));
        CPPUNIT_ASSERT_MESSAGE(_indexd->log(), b.awaitHere(a.name()));
    }

    // Reads the resends of a mail that were on their way when it was acked.
    void drainMail(SecureClient& client)
    {
        while (auto more = client.receive(milliseconds(100)))
            CPPUNIT_ASSERT_EQUAL_MESSAGE(more->bytes, std::string("mail"),
                                         more->inner ? std::string(Protocol::verb(*more->inner)) : more->problem);
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
    std::map<const SecureClient*, std::deque<std::string>> _presence;  ///< taken by nextPresence, not yet returned
    int _seedPort = 0;
};

CPPUNIT_TEST_SUITE_REGISTRATION(LivenessTest);
