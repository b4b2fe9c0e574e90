// The attacks of issue 5 tried for real: the real indexd and peerds on
// loopback, attacked with datagrams built by hand (SecureClient speaks
// peerchat/2 from common/'s codec and crypto, SeedClient the seed's plain
// protocol) and with forged source addresses (SpoofingSender), watched
// through the daemons' local sockets, logs, databases and a tcpdump capture.
#include "ChatNetwork.h"
#include "DaemonProcess.h"
#include "FakeIndex.h"
#include "LocalClient.h"
#include "PacketCapture.h"
#include "SecureClient.h"
#include "SeedClient.h"
#include "SpoofingSender.h"
#include "TempDir.h"
#include "Wait.h"

#include "Base64.h"
#include "Fingerprint.h"
#include "KeyFile.h"
#include "SignedStatement.h"

#include <Poco/Net/DatagramSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <sstream>
#include <thread>

using namespace peerchat;
using namespace peerchat::test;
using namespace std::chrono_literals;

namespace {

Endpoint endpointOf(const std::string& text)
{
    const auto endpoint = Endpoint::parse(text);
    CPPUNIT_ASSERT_MESSAGE(text, endpoint.ok());
    return *endpoint;
}

std::string datagramOf(const Message& message)
{
    return Protocol::encodeDatagram(message, TextEncoding::Utf8);
}

// A text no test has used before: what the eavesdropping tests look for.
std::string uniqueText(const std::string& prefix)
{
    std::random_device random;
    return prefix + " " + std::to_string(random()) + std::to_string(random());
}

bool isEvent(const LocalClient::Object& event, const std::string& name)
{
    return event->optValue<std::string>("event", "") == name;
}

// The texts of the lines with peer that a subscribe returns, oldest first
// (client stays subscribed).
std::vector<std::string> historyTexts(LocalClient& client, const std::string& peer)
{
    client.sendLine(peerRequest("subscribe", peer));
    const auto history = client.waitFor([&](const LocalClient::Object& event) {
        return isEvent(event, "history") && event->getValue<std::string>("peer") == peer;
    });
    CPPUNIT_ASSERT_MESSAGE("no history for " + peer, history);
    std::vector<std::string> texts;
    const auto lines = history->getArray("lines");
    for (std::size_t i = 0; i < lines->size(); ++i) texts.push_back(lines->getObject(i)->getValue<std::string>("text"));
    return texts;
}

// The roster entry peerd shows client for name; nullptr when name is not in it.
LocalClient::Object rosterUser(LocalClient& client, const std::string& name)
{
    client.sendLine(R"({"op":"roster"})");
    const auto roster = client.waitEvent("roster");
    CPPUNIT_ASSERT_MESSAGE("no roster event", roster);
    const auto users = roster->getArray("users");
    for (std::size_t i = 0; i < users->size(); ++i) {
        if (users->getObject(i)->getValue<std::string>("name") == name) return users->getObject(i);
    }
    return nullptr;
}

LocalClient::Object waitTrust(LocalClient& client, const std::string& peer, const std::string& trust,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10))
{
    return client.waitFor(
        [&](const LocalClient::Object& event) {
            return isEvent(event, "trust") && event->getValue<std::string>("peer") == peer &&
                   event->getValue<std::string>("trust") == trust;
        },
        timeout);
}

LocalClient::Object waitLineState(LocalClient& client, const std::string& state)
{
    return client.waitFor([&](const LocalClient::Object& event) {
        return isEvent(event, "status") && event->getValue<std::string>("state") == state;
    });
}

LocalClient::Object waitLinkState(LocalClient& client, const std::string& state)
{
    return client.waitFor([&](const LocalClient::Object& event) {
        return isEvent(event, "state") && event->getValue<std::string>("state") == state;
    });
}

// alice (heartbeats every 200 ms) and bob on net; alice's line firstLine is
// delivered to bob, whose key she thus pins; then bob's peerd stops and
// indexd comes back on an empty database, having forgotten whose key bob's
// is. Returns alice's client, subscribed to bob.
std::unique_ptr<LocalClient> pinnedBobGoneAndIndexdReset(ChatNetwork& net, const std::string& firstLine)
{
    net.startPeerd("alice", {"--heartbeat-ms", "200"});
    net.startPeerd("bob");
    auto alice = net.attachOnline("alice");
    auto bob = net.attachOnline("bob");
    CPPUNIT_ASSERT(befriend(*alice, "alice", *bob, "bob"));
    subscribeTo(*alice, "bob");
    alice->sendLine(sendRequest("bob", firstLine));
    CPPUNIT_ASSERT_MESSAGE(net.peerd("alice").log(), waitLineState(*alice, "delivered"));
    net.peerd("bob").signal(SIGTERM);
    CPPUNIT_ASSERT_EQUAL(0, net.peerd("bob").waitExit());
    CPPUNIT_ASSERT(waitPresence(*alice, "bob", false));
    net.restartIndexd(true);
    return alice;
}

// Checks that peerd lists peer to client with trust `changed`; returns the
// keys event it answers a verify of peer with.
LocalClient::Object changedKeys(LocalClient& client, const std::string& peer)
{
    const auto user = rosterUser(client, peer);
    CPPUNIT_ASSERT_MESSAGE(peer + " is not in the roster", user);
    CPPUNIT_ASSERT_EQUAL(std::string("changed"), user->getValue<std::string>("trust"));
    client.sendLine(R"({"op":"verify","peer":")" + peer + R"("})");
    const auto keys = client.waitEvent("keys");
    CPPUNIT_ASSERT_MESSAGE("no keys event for " + peer, keys);
    return keys;
}

// Makes the raw client and the peerds behind peers contacts, as real ones
// would be: each peerd adds it, it declares them all; and waits until it has
// seen each (learning its endpoint and keys) and each sees it.
void befriendRaw(SecureClient& raw, const std::vector<std::pair<LocalClient*, std::string>>& peers)
{
    std::vector<std::string> names;
    for (const auto& [client, name] : peers) {
        client->sendLine(peerRequest("add", raw.name()));
        names.push_back(name);
    }
    raw.declare(names);
    std::set<std::string> unseen(names.begin(), names.end());
    raw.receiveMatching(
        [&](const SecureClient::Received& received) {
            for (const Message& inner : received.bundle) {
                if (const auto* here = std::get_if<Here>(&inner)) unseen.erase(here->name);
            }
            return unseen.empty();
        },
        std::chrono::seconds(10));
    CPPUNIT_ASSERT_MESSAGE(raw.name() + " does not see everyone it declared", unseen.empty());
    for (const auto& [client, name] : peers)
        CPPUNIT_ASSERT_MESSAGE(name + " does not see " + raw.name(), waitInRoster(*client, raw.name()));
}

// A SecureClient for name logged in to net's indexd, which it takes only with net's key.
std::unique_ptr<SecureClient> loggedIn(ChatNetwork& net, const std::string& name)
{
    auto client = std::make_unique<SecureClient>(name);
    PublicKey indexKey{};
    CPPUNIT_ASSERT(Base64::decodeInto(net.indexKey(), indexKey));
    client->pinIndex(indexKey);
    const auto welcome = client->login(net.index());
    CPPUNIT_ASSERT_MESSAGE(name + " could not log in: " + welcome.error() + "\nindexd log:\n" + net.indexd().log(),
                           welcome.ok());
    return client;
}

// The bytes of indexd's database and of its journal files (SQLite keeps new
// rows in NAME-wal until a checkpoint).
std::string databaseBytes(const std::string& database)
{
    std::string bytes;
    for (const char* suffix : {"", "-wal", "-journal", "-shm"}) {
        std::ifstream file(database + suffix, std::ios::binary);
        bytes.append(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    return bytes;
}

// Every form in which text could show in bytes an eavesdropper reads: as
// UTF-8, as UTF-16LE, and in base64url from any of its three alignments.
std::vector<std::string> formsOf(const std::string& text)
{
    std::vector<std::string> forms{text, toUtf16le(text)};
    for (std::size_t offset = 0; offset < 3; ++offset) {
        std::string encoded = Base64::encode(text.substr(offset));
        encoded.resize(encoded.size() - 4);  // the last characters depend on what follows
        forms.push_back(encoded);
    }
    return forms;
}

// The first form of any text that occurs in bytes; empty when none does.
std::string leakedIn(const std::string& bytes, const std::vector<std::string>& texts)
{
    for (const std::string& text : texts) {
        for (const std::string& form : formsOf(text)) {
            if (bytes.find(form) != std::string::npos) return text;
        }
    }
    return {};
}

// A login flood from 127.0.0.2 on a thread of its own: hellos, and auths
// for the challenges that come back, each with a valid nonce and a signature
// by nobody's key. It sends at least min datagrams, and more until
// userDone, up to max; it stops early only when it goes away.
struct LoginFlood
{
    LoginFlood(std::string index, std::size_t min, std::size_t max)
        : index(std::move(index)), min(min), max(max), thread([this] { run(); })
    {
    }

    ~LoginFlood()
    {
        stop = true;
        if (thread.joinable()) thread.join();
    }

    // Lets the flood end once it sent min, and waits until it has.
    void finish()
    {
        userDone = true;
        thread.join();
    }

    const std::string index;
    const std::size_t min;
    const std::size_t max;
    std::atomic<bool> userDone{false};
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> sent{0};
    // Read after finish().
    std::size_t sentBytes = 0;
    std::size_t receivedBytes = 0;
    std::size_t challenges = 0;
    double seconds = 0;
    std::string error;

private:
    // Never throws: a failure is kept in error.
    void run()
    {
        const auto start = std::chrono::steady_clock::now();
        try {
            flood();
        } catch (const Poco::Exception& e) {
            error = e.displayText();
        }
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }

    void flood()
    {
        Poco::Net::DatagramSocket socket(Poco::Net::SocketAddress("127.0.0.2", 0), false);
        const Poco::Net::SocketAddress to(index);
        SecureClient flooder("flooder", "127.0.0.2");
        const std::string hello = datagramOf(Hello{"flooder", "peerchat/3", Protocol::kMinHelloBytes, Nonce{}});
        std::string auth;
        for (std::size_t i = 0; i < max && (i < min || !userDone) && !stop; ++i) {
            const std::string& bytes = i % 2 == 0 || auth.empty() ? hello : auth;
            socket.sendTo(bytes.data(), static_cast<int>(bytes.size()), to);
            sentBytes += bytes.size();
            sent = i + 1;
            while (socket.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) {
                const auto challenge = takeReply(socket);
                if (challenge) {
                    auth = flooder.authFor(*challenge);
                    auth.back() = auth.back() == 'A' ? 'B' : 'A';
                }
            }
            // Paced a little, so that the flood outlasts the user's whole session.
            if (i % 64 == 0) std::this_thread::sleep_for(1ms);
        }
    }

    // Reads one reply; the challenge when it is one.
    std::optional<Challenge> takeReply(Poco::Net::DatagramSocket& socket)
    {
        char buffer[65536];
        Poco::Net::SocketAddress from;
        const int n = std::max(socket.receiveFrom(buffer, sizeof buffer, from), 0);
        receivedBytes += static_cast<std::size_t>(n);
        const auto reply = Protocol::decodeDatagram(std::string(buffer, static_cast<std::size_t>(n)));
        if (!reply || !std::holds_alternative<Challenge>(reply->message)) return std::nullopt;
        ++challenges;
        return std::get<Challenge>(reply->message);
    }

    // Last, so that it starts once everything it uses is there.
    std::thread thread;
};

} // namespace

class SecurityTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(SecurityTest);
    CPPUNIT_TEST(testSpoofedLogoutIgnored);
    CPPUNIT_TEST(testSpoofedHeartbeatsDoNotKeepUserOnline);
    CPPUNIT_TEST(testForgedRefuseAndReloginDoNotStopPeerd);
    CPPUNIT_TEST(testLoginWithAnotherKeyRefusedNameKeepsOwner);
    CPPUNIT_TEST(testReplayedAuthRefused);
    CPPUNIT_TEST(testAuthAfterChallengeExpiredRefused);
    CPPUNIT_TEST(testReplayedSealedMessageRefused);
    CPPUNIT_TEST(testTalkClaimingToBeBobRefusedAndLogged);
    CPPUNIT_TEST(testFakePresenceDropped);
    CPPUNIT_TEST(testChangedKeyBlocksSendingUntilTrusted);
    CPPUNIT_TEST(testIndexdWithAnotherKeyRefused);
    CPPUNIT_TEST(testTextNeverOnTheWireNorInIndexdStore);
    CPPUNIT_TEST(testLoginFloodLeavesOthersServedAndMemoryBounded);
    CPPUNIT_TEST(testUnauthenticatedRepliesNeverLarger);
    CPPUNIT_TEST(testLegacyModeSeedClientTalksBothWaysUnverified);
    CPPUNIT_TEST(testWithoutLegacySeedLoginAndTalkRefused);
    CPPUNIT_TEST(testPinnedPeerBackAsSeedGetsNothingUntilTrusted);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSpoofedLogoutIgnored()
    {
        // Debug, for the line each dropped datagram gets.
        ChatPair pair({"--log-level", "debug"});
        ChatNetwork& net = pair.net;
        const std::string alice = net.udpOf("alice");
        auto mallory = loggedIn(net, "mallory");
        befriendRaw(*mallory, {{pair.alice.get(), "alice"}, {pair.bob.get(), "bob"}});
        const PublicKey aliceKx = mallory->peer("alice").second.kx;
        subscribeTo(*pair.bob, "alice");
        const std::size_t dropsBefore = net.indexd().countInLog("dropped datagram from");
        SpoofingSender spoof;

        // The seed's logout, from alice's own address: all the seed protocol checked.
        spoof.send(alice, net.index(), "logout,alice," + alice);
        mallory->sendRaw("logout,alice," + alice, net.index());
        // Sealed, but by mallory's session: the inner name is not the sender's.
        mallory->sendToIndex(Logout{"alice", endpointOf(alice)});
        // Sealed by mallory's keys under alice's key id, from alice's address.
        Seal forged = mallory->sealForIndex(Logout{"alice", endpointOf(alice)});
        forged.sender = KxKeyPair::idOf(aliceKx);
        spoof.send(alice, net.index(), datagramOf(forged));

        // Whatever indexd announced for them would reach bob before carol's login.
        net.startPeerd("carol");
        auto carol = net.attachOnline("carol");
        CPPUNIT_ASSERT(befriend(*pair.bob, "bob", *carol, "carol"));
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), !waitPresence(*pair.bob, "alice", false, 0ms));
        const auto stillThere = rosterUser(*pair.bob, "alice");
        CPPUNIT_ASSERT_MESSAGE("alice was logged out:\n" + net.indexd().log(), stillThere);
        CPPUNIT_ASSERT_EQUAL(alice, stillThere->getValue<std::string>("endpoint"));
        CPPUNIT_ASSERT(rosterUser(*pair.bob, "mallory"));
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), net.indexd().countInLog("dropped datagram from") >= dropsBefore + 4);

        // And alice still chats.
        pair.alice->sendLine(sendRequest("bob", "still here"));
        CPPUNIT_ASSERT(waitMessage(*pair.bob, "still here"));
    }

    void testSpoofedHeartbeatsDoNotKeepUserOnline()
    {
        constexpr auto kExpire = 1000ms;
        ChatNetwork net(ChatNetwork::Wire::Secure, {"--expire-ms", std::to_string(kExpire.count())});
        net.startPeerd("alice", {"--heartbeat-ms", "200"});
        net.startPeerd("bob", {"--heartbeat-ms", "200"});
        auto aliceClient = net.attachOnline("alice");
        auto bob = net.attachOnline("bob");
        CPPUNIT_ASSERT(befriend(*aliceClient, "alice", *bob, "bob"));
        auto mallory = loggedIn(net, "mallory");
        befriendRaw(*mallory, {{aliceClient.get(), "alice"}, {bob.get(), "bob"}});
        const PublicKey aliceKx = mallory->peer("alice").second.kx;
        const std::string alice = net.udpOf("alice");
        // dora's genuine heartbeats, captured as they went.
        auto dora = loggedIn(net, "dora");
        for (std::uint64_t seq = 1; seq <= 3; ++seq) {
            dora->sendToIndex(Alive{"dora", seq});
            CPPUNIT_ASSERT(dora->receiveInner("seen"));
        }
        std::vector<std::string> captured;
        for (const std::string& datagram : dora->sent()) {
            if (datagram.rfind("seal,", 0) == 0) captured.push_back(datagram);
        }
        befriendRaw(*dora, {{bob.get(), "bob"}});

        // alice's peerd dies and dora goes quiet; mallory keeps them "alive":
        // alice from her address and from its own, dora with her own heartbeats again.
        net.peerd("alice").signal(SIGKILL);
        CPPUNIT_ASSERT_EQUAL(128 + SIGKILL, net.peerd("alice").waitExit());
        SpoofingSender spoof;
        std::set<std::string> gone;
        const auto left = [&](const LocalClient::Object& event) {
            return isEvent(event, "presence") && !event->getValue<bool>("online") &&
                   event->getObject("user")->getValue<std::string>("name") != "mallory";
        };
        const auto killed = std::chrono::steady_clock::now();
        for (std::uint64_t round = 1; gone.size() < 2 && std::chrono::steady_clock::now() - killed < 10 * kExpire;
             ++round) {
            // mallory's own heartbeat keeps mallory online: sealed heartbeats work.
            mallory->sendToIndex(Alive{"mallory", round});
            spoof.send(alice, net.index(), "alive,alice," + std::to_string(round));
            mallory->sendToIndex(Alive{"alice", round});
            Seal forged = mallory->sealForIndex(Alive{"alice", round});
            forged.sender = KxKeyPair::idOf(aliceKx);
            spoof.send(alice, net.index(), datagramOf(forged));
            dora->sendRaw(captured[round % captured.size()], net.index());
            if (const auto event = bob->waitFor(left, 200ms))
                gone.insert(event->getObject("user")->getValue<std::string>("name"));
        }
        CPPUNIT_ASSERT_MESSAGE("spoofed or replayed heartbeats kept a user online:\n" + net.indexd().log(),
                               (gone == std::set<std::string>{"alice", "dora"}));
        CPPUNIT_ASSERT(!rosterUser(*bob, "alice"));
        CPPUNIT_ASSERT(rosterUser(*bob, "mallory"));
    }

    void testForgedRefuseAndReloginDoNotStopPeerd()
    {
        ChatNetwork net;
        // At debug level peerd logs every datagram it drops.
        net.startPeerd("alice", {"--login-retry-ms", "300", "--log-level", "debug"});
        net.startPeerd("bob");
        auto alice = net.attachOnline("alice");
        auto bob = net.attachOnline("bob");
        CPPUNIT_ASSERT(befriend(*alice, "alice", *bob, "bob"));
        subscribeTo(*bob, "alice");
        // The watcher is alice's contact, and declares now the marker who comes later.
        auto watcher = loggedIn(net, "watcher");
        alice->sendLine(peerRequest("add", "watcher"));
        watcher->declare({"alice", "marker"});
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), watcher->awaitHere("alice", 10s));
        CPPUNIT_ASSERT(waitInRoster(*alice, "watcher"));
        DaemonProcess& alicePeerd = net.peerd("alice");
        const std::string aliceUdp = net.udpOf("alice");
        const std::size_t loginsBefore = net.indexd().countInLog("login alice ");
        const auto isState = [](const std::string& state) {
            return [state](const LocalClient::Object& event) {
                return isEvent(event, "state") && event->getValue<std::string>("state") == state;
            };
        };
        SpoofingSender spoof;

        // From indexd's address: a relogin, and a refusal right behind it.
        // peerd asks indexd under their session first, and indexd answers.
        spoof.send(net.index(), aliceUdp, "relogin");
        spoof.send(net.index(), aliceUdp, "refuse,alice,taken");
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(), alicePeerd.waitForLog("indexd answered the alive with seen"));
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(), alicePeerd.waitForLog("refuse after the login was settled"));
        // A contact's login after that one: any presence alice's login had caused comes before it.
        auto marker = loggedIn(net, "marker");
        marker->declare({"watcher"});
        std::size_t aliceLogins = 0;
        const auto markerLogin = watcher->receiveMatching([&](const SecureClient::Received& received) {
            bool markerHere = false;
            for (const Message& inner : received.bundle) {
                const auto* here = std::get_if<Here>(&inner);
                if (here != nullptr && here->name == "alice") ++aliceLogins;
                markerHere |= here != nullptr && here->name == "marker";
            }
            return markerHere;
        });
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), markerLogin);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), aliceLogins);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(net.indexd().log(), loginsBefore, net.indexd().countInLog("login alice "));
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(), !alice->waitFor(isState("connecting"), 0ms));
        CPPUNIT_ASSERT(alicePeerd.running());

        // indexd stalls (stopped): a forged relogin now gets no seen, so peerd
        // logs in again, and a forged refusal of that login does not stop it:
        // it echoes neither a hello nor an auth of that login.
        net.indexd().signal(SIGSTOP);
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(), waitUntil([&] {
                                   spoof.send(net.index(), aliceUdp, "relogin");
                                   return alice->waitFor(isState("connecting"), 200ms) != nullptr;
                               }));
        spoof.send(net.index(), aliceUdp, "refuse,alice,taken");
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(), alicePeerd.waitForLog("echoes no hello or auth of this login"));
        net.indexd().signal(SIGCONT);
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(), alice->waitFor(isState("online")));
        CPPUNIT_ASSERT(alicePeerd.running());
        CPPUNIT_ASSERT(!alice->waitFor(isState("refused"), 0ms));
        CPPUNIT_ASSERT(rosterUser(*bob, "alice"));
        alice->sendLine(sendRequest("bob", "still online"));
        CPPUNIT_ASSERT(waitMessage(*bob, "still online"));
    }

    void testLoginWithAnotherKeyRefusedNameKeepsOwner()
    {
        // Debug, for the line each refusal gets.
        ChatPair pair({"--log-level", "debug"});
        ChatNetwork& net = pair.net;
        const PublicKey bobKey = KeyFile::loadOrCreate(net.keyOf("bob")).publicKey();

        // Online or not, bob's name is bob's key's (the refusal echoes the auth's nonce).
        SecureClient impostor("bob");
        std::string refusal = impostor.login(net.index()).error();
        CPPUNIT_ASSERT_MESSAGE(refusal, isKeyRefusal(refusal, "bob"));
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), net.indexd().waitForLog("bob belongs to identity key"));
        net.peerd("bob").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, net.peerd("bob").waitExit());
        CPPUNIT_ASSERT(waitPresence(*pair.alice, "bob", false));
        refusal = impostor.login(net.index()).error();
        CPPUNIT_ASSERT_MESSAGE(refusal, isKeyRefusal(refusal, "bob"));
        CPPUNIT_ASSERT(!rosterUser(*pair.alice, "bob"));

        net.startPeerd("bob");
        CPPUNIT_ASSERT(net.attachOnline("bob"));
        CPPUNIT_ASSERT(waitUntil([&] { return rosterUser(*pair.alice, "bob") != nullptr; }));
        CPPUNIT_ASSERT_EQUAL(std::string("pinned"), rosterUser(*pair.alice, "bob")->getValue<std::string>("trust"));
        // A contact of bob's sees him with his own key, where he is.
        auto observer = loggedIn(net, "observer");
        auto bob = net.attach("bob");
        befriendRaw(*observer, {{bob.get(), "bob"}});
        const auto [endpoint, keys] = observer->peer("bob");
        CPPUNIT_ASSERT(keys.identity == bobKey);
        CPPUNIT_ASSERT_EQUAL(net.udpOf("bob"), endpoint);
    }

    void testReplayedAuthRefused()
    {
        // Debug, for the line each dropped datagram gets.
        ChatNetwork net(ChatNetwork::Wire::Secure, {"--log-level", "debug"});
        // The watcher is contacts with carol and with a marker, who logs in last.
        auto watcher = loggedIn(net, "watcher");
        watcher->declare({"carol", "marker"});
        auto carol = loggedIn(net, "carol");
        const std::string auth = carol->lastSent("auth,");
        carol->declare({"watcher"});
        CPPUNIT_ASSERT(watcher->awaitHere("carol"));

        // From the same address, while carol is online.
        carol->sendRaw(auth, net.index());
        CPPUNIT_ASSERT(!carol->receivePlain("welcome", 500ms));
        CPPUNIT_ASSERT(net.indexd().waitForLog("auth carol replayed"));
        // From another address.
        SecureClient other("other");
        other.sendRaw(auth, net.index());
        CPPUNIT_ASSERT(!other.receivePlain("welcome", 500ms));
        CPPUNIT_ASSERT(net.indexd().waitForLog("dropped datagram from " + other.endpoint() + ": auth carol answers"));

        // After carol logged out, from her address (the attacker forges it).
        carol->logout();
        CPPUNIT_ASSERT(watcher->receiveInner("gone"));
        const std::string address = carol->endpoint();
        carol.reset();
        SpoofingSender spoof;
        spoof.send(address, net.index(), auth);
        auto marker = loggedIn(net, "marker");
        marker->declare({"watcher"});
        CPPUNIT_ASSERT(waitUntil([&] { return net.indexd().countInLog("auth carol replayed") == 2; }));

        // Nothing but the marker was announced; carol logged in once.
        const auto next = watcher->receiveInner("here");
        CPPUNIT_ASSERT(next);
        CPPUNIT_ASSERT_EQUAL(std::string("marker"), std::get<Here>(*next->inner).name);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), net.indexd().countInLog("login carol at"));
    }

    void testAuthAfterChallengeExpiredRefused()
    {
        // indexd takes an auth at most 30 s after its challenge (security-design.md).
        constexpr auto kChallengeLife = 30s;
        ChatNetwork net;
        SecureClient carol("carol");
        carol.sendHello(net.index());
        const auto challenge = carol.awaitChallenge();
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), challenge);
        const std::string auth = carol.authFor(*challenge);
        // Held back, as an attacker on the path would, until the challenge is stale.
        CPPUNIT_ASSERT(carol.quietFor(kChallengeLife + 1s));
        carol.sendRaw(auth, net.index());
        const auto reply = carol.receive(2s);
        CPPUNIT_ASSERT_MESSAGE("indexd took a stale auth", !reply || !reply->message ||
                                                               !std::holds_alternative<Welcome>(*reply->message));
        CPPUNIT_ASSERT_EQUAL("refuse,carol,auth," + Base64::encode(challenge->nonce),
                             reply ? reply->bytes : std::string("nothing"));
        // A fresh login is fine.
        CPPUNIT_ASSERT(carol.login(net.index()).ok());
    }

    void testReplayedSealedMessageRefused()
    {
        ChatNetwork net;
        net.startPeerd("bob");
        auto bob = net.attachOnline("bob");
        auto alice = loggedIn(net, "alice");
        befriendRaw(*alice, {{bob.get(), "bob"}});

        const auto sendAndAck = [&](std::uint64_t seq, const std::string& text) {
            alice->sendMsg("bob", "a1", seq, text);
            const std::string sealed = alice->lastSent("seal,");
            const auto ack = alice->receiveInner("ack");
            CPPUNIT_ASSERT_MESSAGE("bob did not ack " + text + ":\n" + net.peerd("bob").log(), ack);
            CPPUNIT_ASSERT_EQUAL(seq, std::get<Ack>(*ack->inner).seq);
            return sealed;
        };
        const std::string first = sendAndAck(1, "first line");
        const std::string second = sendAndAck(2, "second line");

        // Again as they were, in another order, from alice's address and from another.
        for (const std::string& replay : {first, second, first}) alice->sendRaw(replay, net.udpOf("bob"));
        SecureClient other("other");
        other.sendRaw(first, net.udpOf("bob"));
        CPPUNIT_ASSERT(!alice->receiveInner("ack", 500ms));

        sendAndAck(3, "third line");
        CPPUNIT_ASSERT(historyTexts(*bob, "alice") ==
                       (std::vector<std::string>{"first line", "second line", "third line"}));
    }

    void testTalkClaimingToBeBobRefusedAndLogged()
    {
        // At debug level peerd logs every datagram it drops.
        ChatPair pair({}, {"--log-level", "debug"});
        ChatNetwork& net = pair.net;
        auto mallory = loggedIn(net, "mallory");
        befriendRaw(*mallory, {{pair.alice.get(), "alice"}, {pair.bob.get(), "bob"}});
        const PublicKey bobKx = mallory->peer("bob").second.kx;
        const std::string alice = net.udpOf("alice");
        const std::string bob = net.udpOf("bob");
        DaemonProcess& alicePeerd = net.peerd("alice");
        subscribeTo(*pair.alice, "bob");
        const std::size_t dropsBefore = alicePeerd.countInLog("dropped datagram from");
        SpoofingSender spoof;

        // The seed's talk, from a stranger and from bob's own address.
        mallory->sendRaw("talk,12:00:00,bob,plain talk from a stranger", alice);
        spoof.send(bob, alice, "talk,12:00:00,bob,plain talk from bob's address");
        // peerchat/2's msg unsealed, from bob's address.
        spoof.send(bob, alice, "msg,b0b,1,12:00:00,bob,unsealed msg from bob's address");
        // Sealed by mallory's own session with alice, naming bob.
        mallory->sendToPeer("alice", Msg{"b0b", 1, "12:00:00", "bob", "alice", "sealed by mallory as bob"});
        // Sealed by mallory's keys under bob's key id, from bob's address.
        Seal forged = mallory->sealForPeer("alice", Msg{"b0b", 1, "12:00:00", "bob", "alice", "forged seal from bob"});
        forged.sender = KxKeyPair::idOf(bobKx);
        spoof.send(bob, alice, datagramOf(forged));

        pair.bob->sendLine(sendRequest("alice", "the real bob"));
        const auto first = pair.alice->waitEvent("message");
        CPPUNIT_ASSERT(first);
        CPPUNIT_ASSERT_EQUAL(std::string("the real bob"), first->getObject("line")->getValue<std::string>("text"));
        CPPUNIT_ASSERT(historyTexts(*pair.alice, "bob") == std::vector<std::string>{"the real bob"});
        CPPUNIT_ASSERT(historyTexts(*pair.alice, "mallory").empty());
        // Each of the five dropped with a line of its own.
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(), alicePeerd.countInLog("plain talk from bob refused") == 2);
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(), alicePeerd.countInLog("dropped datagram from") >= dropsBefore + 5);
        CPPUNIT_ASSERT(alicePeerd.running());
    }

    void testFakePresenceDropped()
    {
        // At debug level peerd logs every datagram it drops.
        ChatPair pair({}, {"--log-level", "debug"});
        ChatNetwork& net = pair.net;
        const std::string alice = net.udpOf("alice");
        // mallory is alice's contact: she holds a session with alice's peerd.
        auto mallory = loggedIn(net, "mallory");
        befriendRaw(*mallory, {{pair.alice.get(), "alice"}});
        // A genuine here of bob's, sealed by indexd for mallory.
        pair.bob->sendLine(peerRequest("add", "mallory"));
        mallory->declare({"alice", "bob"});
        const auto genuine = mallory->receiveMatching([](const SecureClient::Received& r) {
            for (const Message& inner : r.bundle) {
                if (const auto* here = std::get_if<Here>(&inner); here && here->name == "bob") return true;
            }
            return false;
        });
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), genuine);
        SpoofingSender spoof;
        DaemonProcess& alicePeerd = net.peerd("alice");
        const std::size_t dropsBefore = alicePeerd.countInLog("dropped datagram from");

        // eve online and bob gone, as mallory would have alice believe: sealed
        // by mallory's own session with alice (from mallory, and from indexd's
        // address), in plain from indexd's address, in the signed forms indexd
        // spoke before, and indexd's genuine seal for mallory replayed to alice.
        SecureClient eve("eve");
        const SigningKey eveKey = SigningKey::generate();
        const PublicKey eveKx = KxKeyPair::generate().publicKey();
        const Here fakeHere{1000, "eve", endpointOf(eve.endpoint()), "peerchat/3",
                            PeerKeys{eveKey.publicKey(), eveKx,
                                     eveKey.sign(SignedStatement::kx(eveKey.publicKey(), "eve", eveKx,
                                                                     mallory->welcome().indexIdentity,
                                                                     mallory->welcome().epoch))},
                            PresenceState::Online, ""};
        const Gone fakeGone{1001, "bob"};
        for (const Message& fake : std::vector<Message>{fakeHere, fakeGone}) {
            mallory->sendToPeer("alice", fake);
            spoof.send(net.index(), alice, datagramOf(mallory->sealForPeer("alice", fake)));
            spoof.send(net.index(), alice, datagramOf(fake));
        }
        spoof.send(net.index(), alice, "login,eve," + eve.endpoint() + ",peerchat/3,9,-,-,-," + std::string(86, 'A'));
        spoof.send(net.index(), alice, "logout,bob," + net.udpOf("bob") + ",10," + std::string(86, 'A'));
        spoof.send(net.index(), alice, genuine->bytes);

        subscribeTo(*pair.bob, "alice");
        // A contact alice makes after all that is the next she sees.
        net.startPeerd("carol");
        auto carol = net.attachOnline("carol");
        CPPUNIT_ASSERT(befriend(*pair.alice, "alice", *carol, "carol"));
        CPPUNIT_ASSERT(!waitPresence(*pair.alice, "eve", true, 0ms));
        CPPUNIT_ASSERT(!waitPresence(*pair.alice, "bob", false, 0ms));
        CPPUNIT_ASSERT(!rosterUser(*pair.alice, "eve"));
        const auto bob = rosterUser(*pair.alice, "bob");
        CPPUNIT_ASSERT(bob);
        CPPUNIT_ASSERT_EQUAL(net.udpOf("bob"), bob->getValue<std::string>("endpoint"));
        // Each of the nine dropped with a line of its own.
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(),
                               alicePeerd.countInLog("dropped datagram from") >= dropsBefore + 9);
        CPPUNIT_ASSERT_MESSAGE(alicePeerd.log(), alicePeerd.countInLog("here sealed by mallory, not by indexd") >= 1);

        pair.alice->sendLine(sendRequest("bob", "bob is still here"));
        CPPUNIT_ASSERT(waitMessage(*pair.bob, "bob is still here"));
    }

    void testChangedKeyBlocksSendingUntilTrusted()
    {
        ChatNetwork net;
        // bob goes; indexd comes back having forgotten whose key bob's is; a new bob logs in.
        auto alice = pinnedBobGoneAndIndexdReset(net, "to the first bob");
        const PublicKey firstKey = KeyFile::loadOrCreate(net.keyOf("bob")).publicKey();
        TempDir device;
        net.startPeerd("bob", {"--key", device.file("bob.key"), "--database", device.file("bob.db"),
                               "--retransmit-ms", "100"});
        const PublicKey secondKey = KeyFile::loadOrCreate(device.file("bob.key")).publicKey();
        CPPUNIT_ASSERT(firstKey != secondKey);
        // The new bob asks alice to be his contact, once she is back (the
        // reset indexd must know her name): alice's list still has bob.
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), net.indexd().waitForLog("login alice at"));
        auto bob = net.attachOnline("bob");
        bob->sendLine(peerRequest("add", "alice"));

        // alice logs in again to the reset indexd (a relogin is checked first),
        // then sees the new bob once he has asked her: give it the time.
        CPPUNIT_ASSERT_MESSAGE(net.peerd("alice").log(), waitTrust(*alice, "bob", "changed", 30s));
        // Told by the new bob's request, sealed under a key that is not the
        // pinned one (presence tells it too once indexd routes it).
        alice->sendLine(R"({"op":"verify","peer":"bob"})");
        const auto keys = alice->waitEvent("keys");
        CPPUNIT_ASSERT_MESSAGE("no keys event for bob", keys);
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(firstKey), keys->getValue<std::string>("pinned"));
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(secondKey), keys->getValue<std::string>("offered"));
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(KeyFile::loadOrCreate(net.keyOf("alice")).publicKey()),
                             keys->getValue<std::string>("self"));

        // Nothing goes to the new key, nor comes from it, until alice trusts it.
        alice->sendLine(sendRequest("bob", "not for an unknown key"));
        const auto error = alice->waitEvent("error");
        CPPUNIT_ASSERT(error);
        CPPUNIT_ASSERT_MESSAGE(error->getValue<std::string>("message"),
                               error->getValue<std::string>("message").find("/trust bob") != std::string::npos);
        subscribeTo(*bob, "alice");
        bob->sendLine(sendRequest("alice", "from the new bob"));
        CPPUNIT_ASSERT(!waitMessage(*alice, "from the new bob", 1s));
        CPPUNIT_ASSERT(historyTexts(*bob, "alice") == std::vector<std::string>{"from the new bob"});
        CPPUNIT_ASSERT(historyTexts(*alice, "bob") == std::vector<std::string>{"to the first bob"});

        alice->sendLine(R"({"op":"trust","peer":"bob"})");
        CPPUNIT_ASSERT(waitTrust(*alice, "bob", "pinned"));
        alice->sendLine(sendRequest("bob", "to the new bob"));
        CPPUNIT_ASSERT_MESSAGE(net.peerd("alice").log() + net.peerd("bob").log(), waitMessage(*bob, "to the new bob"));
        CPPUNIT_ASSERT_MESSAGE(net.peerd("alice").log(), waitMessage(*alice, "from the new bob"));
        CPPUNIT_ASSERT(historyTexts(*bob, "alice") == (std::vector<std::string>{"from the new bob", "to the new bob"}));
    }

    void testIndexdWithAnotherKeyRefused()
    {
        ChatNetwork net;
        PublicKey realKey{};
        CPPUNIT_ASSERT(Base64::decodeInto(net.indexKey(), realKey));

        // Told indexd's key, peerd takes no other.
        FakeIndex impostor(SigningKey::generate());
        net.startPeerd("alice", {"--index", impostor.endpoint()});
        auto alice = net.attach("alice");
        impostor.serveChallenge();
        assertRefusedNaming(*alice, net.peerd("alice"), realKey, impostor.key().publicKey());
        CPPUNIT_ASSERT(impostor.quietFor(1s));

        // Not told, peerd pins the first key it meets, and takes no other after.
        TempDir dir;
        DaemonProcess dave("peerd", {"--user", "dave", "--index", net.index(), "--port", "0", "--bind", "127.0.0.1",
                                     "--socket", dir.file("dave.sock"), "--database", dir.file("dave.db")});
        dave.start();
        const std::string daveUdp = dave.waitReady().at("udp");
        LocalClient daveClient(dir.file("dave.sock"));
        const auto welcome = daveClient.waitEvent("welcome");
        CPPUNIT_ASSERT(welcome);
        CPPUNIT_ASSERT(welcome->getValue<std::string>("state") == "online" || waitLinkState(daveClient, "online"));
        net.indexd().signal(SIGKILL);
        CPPUNIT_ASSERT_EQUAL(128 + SIGKILL, net.indexd().waitExit());
        FakeIndex other(SigningKey::generate(), static_cast<std::uint16_t>(PacketCapture::portOf(net.index())));
        other.sendRaw("relogin", daveUdp);
        other.serveChallenge();
        assertRefusedNaming(daveClient, dave, realKey, other.key().publicKey());
    }

    void testTextNeverOnTheWireNorInIndexdStore()
    {
        ChatNetwork net;
        net.startPeerd("alice");
        net.startPeerd("bob");
        net.startPeerd("carol");
        auto alice = net.attachOnline("alice");
        auto bob = net.attachOnline("bob");
        auto carolClient = net.attachOnline("carol");
        CPPUNIT_ASSERT(befriend(*alice, "alice", *bob, "bob") && befriend(*alice, "alice", *carolClient, "carol"));
        subscribeTo(*alice, "bob");
        subscribeTo(*alice, "carol");
        subscribeTo(*bob, "alice");
        net.peerd("carol").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, net.peerd("carol").waitExit());
        CPPUNIT_ASSERT(waitPresence(*alice, "carol", false));

        const std::string toBob = uniqueText("for bob only");
        const std::string fromBob = uniqueText("for alice only");
        const std::string toCarol = uniqueText("for carol later");
        const std::string canary = uniqueText("canary in the clear");
        std::vector<int> ports;
        for (const std::string& endpoint : {net.index(), net.udpOf("alice"), net.udpOf("bob"), net.udpOf("carol")})
            ports.push_back(PacketCapture::portOf(endpoint));
        PacketCapture capture(ports);

        alice->sendLine(sendRequest("bob", toBob));
        CPPUNIT_ASSERT(waitMessage(*bob, toBob));
        CPPUNIT_ASSERT(waitLineState(*alice, "delivered"));
        bob->sendLine(sendRequest("alice", fromBob));
        CPPUNIT_ASSERT(waitMessage(*alice, fromBob));
        alice->sendLine(sendRequest("carol", toCarol));
        CPPUNIT_ASSERT_MESSAGE(net.peerd("alice").log(), waitLineState(*alice, "stored"));
        // Plain text sent last: the capture sees it, so it would have seen the others in the clear.
        SeedClient().sendRaw(canary, net.index());
        CPPUNIT_ASSERT(capture.waitCaptured(canary));
        const auto datagrams = capture.stop();

        std::size_t aliceToBob = 0;
        std::size_t aliceToIndex = 0;
        for (const auto& datagram : datagrams) {
            const std::string leaked = leakedIn(datagram.payload, {toBob, fromBob, toCarol});
            CPPUNIT_ASSERT_MESSAGE("'" + leaked + "' in a datagram from " + datagram.source + " to " +
                                       datagram.destination + ": " + datagram.payload,
                                   leaked.empty());
            aliceToBob += datagram.source == net.udpOf("alice") && datagram.destination == net.udpOf("bob");
            aliceToIndex += datagram.source == net.udpOf("alice") && datagram.destination == net.index();
        }
        CPPUNIT_ASSERT_MESSAGE("captured no datagram from alice to bob", aliceToBob >= 1);
        CPPUNIT_ASSERT_MESSAGE("captured no datagram from alice to indexd", aliceToIndex >= 1);
        CPPUNIT_ASSERT(std::any_of(datagrams.begin(), datagrams.end(),
                                   [&](const auto& datagram) { return datagram.payload == canary; }));

        // indexd keeps the line for carol, sealed: the text is nowhere in its database.
        CPPUNIT_ASSERT_EQUAL(std::string(), leakedIn(databaseBytes(net.indexDatabase()), {toBob, fromBob, toCarol}));
        // But it is there: with alice gone, carol gets it from indexd alone.
        net.peerd("alice").signal(SIGTERM);
        CPPUNIT_ASSERT_EQUAL(0, net.peerd("alice").waitExit());
        net.startPeerd("carol");
        auto carol = net.attachOnline("carol");
        CPPUNIT_ASSERT(waitUntil([&] { return historyTexts(*carol, "alice") == std::vector<std::string>{toCarol}; }));
    }

    void testLoginFloodLeavesOthersServedAndMemoryBounded()
    {
        // At least this many hellos and auths; the flood goes on until the
        // user on 127.0.0.1 is done, up to kMaxFlood.
        constexpr std::size_t kMinFlood = 20000;
        constexpr std::size_t kMaxFlood = 400000;
        // indexd keeps nothing per hello (its challenges are cookies) and one
        // rate-limit entry per address: a flood from one address must leave
        // its memory where it was, give or take allocator slack.
        constexpr std::size_t kGrowthKiB = 8 * 1024;
#ifdef __SANITIZE_ADDRESS__
        // AddressSanitizer holds freed blocks in quarantine before it reuses
        // them, so each datagram's short-lived allocations show in the RSS
        // (about 400 bytes each); LeakSanitizer checks at exit that none stays.
        constexpr std::size_t kQuarantineBytesPerDatagram = 1024;
#else
        constexpr std::size_t kQuarantineBytesPerDatagram = 0;
#endif
        // What indexd dropped, summed up five times a second.
        ChatNetwork net(ChatNetwork::Wire::Secure, {"--drop-report-ms", "200"});
        net.startPeerd("alice");
        auto alice = net.attachOnline("alice");
        DaemonProcess& indexd = net.indexd();
        const std::size_t before = indexd.residentKiB();

        LoginFlood flood(net.index(), kMinFlood, kMaxFlood);
        std::size_t peakKiB = before;
        const auto sample = [&] { peakKiB = std::max(peakKiB, indexd.residentKiB()); };

        CPPUNIT_ASSERT(waitUntil([&] { return flood.sent > 1000; }));
        net.startPeerd("bob");
        auto bob = net.attachOnline("bob");
        sample();
        CPPUNIT_ASSERT(befriend(*alice, "alice", *bob, "bob"));
        subscribeTo(*alice, "bob");
        subscribeTo(*bob, "alice");
        alice->sendLine(sendRequest("bob", "through the flood"));
        CPPUNIT_ASSERT(waitMessage(*bob, "through the flood"));
        bob->sendLine(sendRequest("alice", "back through the flood"));
        CPPUNIT_ASSERT(waitMessage(*alice, "back through the flood"));
        sample();
        const std::size_t sentWhenUserDone = flood.sent;
        // Sampled until the flood is over: the last of it counts too.
        while (flood.sent < kMinFlood) {
            sample();
            waitUntil([&] { return flood.sent >= kMinFlood; }, 20ms);
        }
        flood.finish();
        sample();
        std::printf("\nSecurityTest: %zu flood datagrams (%zu bytes) from 127.0.0.2 in %.1f s: %zu challenges, "
                    "%zu bytes back; indexd RSS %zu KiB before, %zu KiB at most\n",
                    flood.sent.load(), flood.sentBytes, flood.seconds, flood.challenges, flood.receivedBytes, before,
                    peakKiB);

        CPPUNIT_ASSERT_EQUAL(std::string(), flood.error);
        CPPUNIT_ASSERT_MESSAGE("the flood ended before the user was done", sentWhenUserDone < kMaxFlood);
        CPPUNIT_ASSERT_MESSAGE("indexd answered more bytes than it got", flood.receivedBytes <= flood.sentBytes);
        // indexd's default: 20 logins a second per address, in bursts of up to 40.
        CPPUNIT_ASSERT_MESSAGE(std::to_string(flood.challenges) + " challenges in " + std::to_string(flood.seconds) + " s",
                               flood.challenges <= static_cast<std::size_t>(20 * flood.seconds) + 40 + 20);
        // The limit held, and the log said so in its summaries, a line per
        // interval at most, never a line per datagram.
        CPPUNIT_ASSERT_MESSAGE(indexd.log(), indexd.waitForLog("rate-limited (first from 127.0.0.2"));
        std::size_t summaries = 0;
        std::istringstream log(indexd.log());
        for (std::string line; std::getline(log, line);) {
            const bool summary = line.find(" in the last 200 ms: ") != std::string::npos;
            CPPUNIT_ASSERT_MESSAGE(line, summary || line.find("127.0.0.2") == std::string::npos);
            summaries += summary;
        }
        CPPUNIT_ASSERT_MESSAGE(std::to_string(summaries) + " summaries",
                               summaries <= static_cast<std::size_t>(5 * (flood.seconds + 2)));
        const std::size_t boundKiB = before + kGrowthKiB + flood.sent * kQuarantineBytesPerDatagram / 1024;
        CPPUNIT_ASSERT_MESSAGE("indexd grew from " + std::to_string(before) + " KiB to " + std::to_string(peakKiB) +
                                   ", more than " + std::to_string(boundKiB),
                               peakKiB <= boundKiB);
        CPPUNIT_ASSERT(indexd.running());
    }

    void testUnauthenticatedRepliesNeverLarger()
    {
        ChatNetwork net;
        SecureClient carol("carol");
        // A hello shorter than a challenge gets none: indexd would amplify it.
        carol.sendHello(net.index(), "peerchat/3", 0);
        CPPUNIT_ASSERT(carol.quietFor(500ms));
        carol.sendHello(net.index());
        auto challenge = carol.receive();
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), challenge);
        CPPUNIT_ASSERT(challenge->bytes.size() <= carol.sent().back().size());
        carol.sendHello(net.index(), "peerchat/9");
        const auto version = carol.receive();
        CPPUNIT_ASSERT(version);
        CPPUNIT_ASSERT_EQUAL(std::string("refuse,carol,version,"), version->bytes.substr(0, 21));
        // A seal from nobody indexd knows: at most the bare relogin.
        SecureClient stranger("stranger");
        const Seal junk{{1, 2, 3, 4, 5, 6, 7, 8}, {8, 7, 6, 5, 4, 3, 2, 1}, 1, "x"};
        stranger.sendRaw(datagramOf(junk), net.index());
        if (const auto reply = stranger.receive(500ms)) {
            CPPUNIT_ASSERT_EQUAL(std::string("relogin"), reply->bytes);
            CPPUNIT_ASSERT(reply->bytes.size() <= datagramOf(junk).size());
        }
        // A seed login, legacy mode off.
        SeedClient seed;
        const std::string login = "login,s," + seed.endpoint();
        seed.send(login, net.index());
        const auto refused = seed.receive();
        CPPUNIT_ASSERT(refused);
        CPPUNIT_ASSERT_EQUAL(std::string("refuse,s,legacy"), *refused);
        CPPUNIT_ASSERT(refused->size() <= login.size());
    }

    void testLegacyModeSeedClientTalksBothWaysUnverified()
    {
        ChatNetwork net(ChatNetwork::Wire::Legacy);
        CPPUNIT_ASSERT_MESSAGE(net.indexd().log(), net.indexd().log().find("legacy") != std::string::npos);
        net.startPeerd("alice");
        auto alice = net.attachOnline("alice");
        SeedClient seed;
        CPPUNIT_ASSERT(seed.login("seed1", net.index()));
        CPPUNIT_ASSERT(waitInRoster(*alice, "seed1"));
        const auto user = rosterUser(*alice, "seed1");
        CPPUNIT_ASSERT_EQUAL(std::string("unverified"), user->getValue<std::string>("trust"));
        subscribeTo(*alice, "seed1");

        seed.send("talk,3:04:05 PM,seed1,hello in the clear", net.udpOf("alice"));
        const auto line = waitMessage(*alice, "hello in the clear");
        CPPUNIT_ASSERT(line);
        CPPUNIT_ASSERT(!line->getObject("line")->getValue<bool>("verified"));
        alice->sendLine(sendRequest("seed1", "hello, seed"));
        const auto talk = seed.receiveStartingWith("talk,");
        CPPUNIT_ASSERT(talk);
        CPPUNIT_ASSERT_MESSAGE(*talk, isPeerdTalk(*talk, "alice", "hello, seed"));
    }

    void testWithoutLegacySeedLoginAndTalkRefused()
    {
        ChatPair pair;
        ChatNetwork& net = pair.net;
        SeedClient seed;
        seed.send("login,seed1," + seed.endpoint(), net.index());
        CPPUNIT_ASSERT_EQUAL(std::string("refuse,seed1,legacy"), seed.receive().value_or("nothing"));
        // The .NET program's refusal goes where its login came from, a
        // throwaway socket, never to the endpoint written in it.
        SeedClient dotnet(SeedClient::Mode::DotNet);
        dotnet.send("login,dn," + dotnet.endpoint(), net.index());
        CPPUNIT_ASSERT(dotnet.quietFor(500ms));

        // alice cannot send to a seed peer, nor take its talk.
        subscribeTo(*pair.alice, "bob");
        // A stranger's datagram is queued ahead of bob's line, which marks when alice has read it.
        seed.send("talk,3:04:05 PM,seed1,plain talk", net.udpOf("alice"));
        pair.bob->sendLine(sendRequest("alice", "only this"));
        CPPUNIT_ASSERT(waitMessage(*pair.alice, "only this"));
        CPPUNIT_ASSERT(historyTexts(*pair.alice, "seed1").empty());
    }

    // Issue 10 row 2: bob (peerchat, pinned by alice) goes away; indexd
    // comes back in legacy mode with an empty database, and a plain seed
    // login takes bob's name. alice's peerd must not send it anything in the
    // clear nor show its talk as bob's, until alice accepts that bob now
    // comes without a key.
    void testPinnedPeerBackAsSeedGetsNothingUntilTrusted()
    {
        ChatNetwork net(ChatNetwork::Wire::Legacy);
        auto alice = pinnedBobGoneAndIndexdReset(net, "to the real bob");
        SeedClient fakeBob;
        CPPUNIT_ASSERT(fakeBob.login("bob", net.index()));
        // alice's peerd reads the name as changed: it comes without the key pinned for it.
        // alice logs in again to the reset indexd (a relogin is checked first),
        // then sees the new bob once he has asked her: give it the time.
        CPPUNIT_ASSERT_MESSAGE(net.peerd("alice").log(), waitTrust(*alice, "bob", "changed", 30s));

        // The send is refused; had a talk gone out, it was on fakeBob's socket before peerd answered.
        const std::string secret = uniqueText("for bob's eyes only");
        alice->sendLine(sendRequest("bob", secret));
        const auto error = alice->waitEvent("error");
        CPPUNIT_ASSERT_MESSAGE(fakeBob.receiveStartingWith("talk,", 500ms).value_or("no talk"), error);
        const std::string message = error->getValue<std::string>("message");
        CPPUNIT_ASSERT_MESSAGE(message, message.find("/verify bob") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(message, message.find("/trust bob") != std::string::npos);
        CPPUNIT_ASSERT(!fakeBob.receiveStartingWith("talk,", 500ms));

        const auto keys = changedKeys(*alice, "bob");
        CPPUNIT_ASSERT_EQUAL(Fingerprint::of(KeyFile::loadOrCreate(net.keyOf("bob")).publicKey()),
                             keys->getValue<std::string>("pinned"));
        CPPUNIT_ASSERT_EQUAL(std::string(), keys->getValue<std::string>("offered"));

        // fakeBob's talk is dropped; a seed user's talk after it marks when alice has read it.
        SeedClient carol;
        CPPUNIT_ASSERT(carol.login("carol", net.index()));
        CPPUNIT_ASSERT(waitInRoster(*alice, "carol"));
        subscribeTo(*alice, "carol");
        fakeBob.send("talk,3:04:05 PM,bob,it is me bob", net.udpOf("alice"));
        carol.send("talk,3:04:06 PM,carol,marker", net.udpOf("alice"));
        CPPUNIT_ASSERT(waitMessage(*alice, "marker"));
        const std::vector<std::string> history = historyTexts(*alice, "bob");
        std::string texts;
        for (const std::string& text : history) texts += text + "|";
        CPPUNIT_ASSERT_MESSAGE(texts, history == std::vector<std::string>{"to the real bob"});

        // alice accepts that bob now comes without a key: bob is a seed user to her from now on.
        alice->sendLine(R"({"op":"trust","peer":"bob"})");
        CPPUNIT_ASSERT(waitTrust(*alice, "bob", "unverified"));
        alice->sendLine(sendRequest("bob", "to bob, in the clear"));
        const auto talk = fakeBob.receiveStartingWith("talk,");
        CPPUNIT_ASSERT(talk);
        CPPUNIT_ASSERT_MESSAGE(*talk, isPeerdTalk(*talk, "alice", "to bob, in the clear"));
        fakeBob.send("talk,3:04:07 PM,bob,plain bob", net.udpOf("alice"));
        CPPUNIT_ASSERT(waitMessage(*alice, "plain bob"));
    }

private:
    // True when refusal is indexd's `refuse,NAME,key,ECHO` of name's auth.
    static bool isKeyRefusal(const std::string& refusal, const std::string& name)
    {
        const auto decoded = Protocol::decode(refusal);
        const auto* refuse = decoded ? std::get_if<Refuse>(&*decoded) : nullptr;
        return refuse != nullptr && refuse->name == name && refuse->reason == "key" && refuse->echo;
    }

    // client sees peerd's link refused, with a detail naming both keys' fingerprints.
    static void assertRefusedNaming(LocalClient& client, DaemonProcess& peerd, const PublicKey& pinned,
                                    const PublicKey& presented)
    {
        const auto refused = waitLinkState(client, "refused");
        CPPUNIT_ASSERT_MESSAGE(peerd.log(), refused);
        const std::string detail = refused->getValue<std::string>("detail");
        CPPUNIT_ASSERT_MESSAGE(detail, detail.find(Fingerprint::of(pinned)) != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(detail, detail.find(Fingerprint::of(presented)) != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SecurityTest);
