#include "Base64.h"
#include "PeerStore.h"
#include "DatagramSink.h"
#include "EventLoop.h"
#include "Fingerprint.h"
#include "KeyPins.h"
#include "KxKeyPair.h"
#include "OfflineBox.h"
#include "PeerTestData.h"
#include "Protocol.h"
#include "Roster.h"
#include "SessionCipher.h"
#include "SignedStatement.h"
#include "SigningKey.h"
#include "Utf8.h"
#include "WireLink.h"
#include "WireListener.h"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

using peerchat::ConversationId;
using namespace peerchat;
using namespace std::chrono_literals;
using test::endpoint;

namespace {

const Endpoint kIndex = endpoint("127.0.0.1:9400");
const Endpoint kSelf = endpoint("127.0.0.1:5001");
const Endpoint kBob = endpoint("127.0.0.1:5002");
const Endpoint kDotNet = endpoint("127.0.0.1:5003");
const Endpoint kCarol = endpoint("127.0.0.1:5004");
const Endpoint kDave = endpoint("127.0.0.1:5005");
const Endpoint kErin = endpoint("127.0.0.1:5006");
const std::string kPeerchat = "peerchat/3";

/// Someone alice's peerd talks to, built from the real crypto classes: a fake
/// indexd or a fake peer, with an identity key, the key-exchange pair of its
/// current login, and the session with alice's current key-exchange key.
struct Party
{
    /// partyName, talking to the peerd of alice, logged in to the indexd of
    /// index in its run of epoch (which a test may change: a restart).
    Party(std::string partyName, const PublicKey& alice, const PublicKey& index, const Epoch& epoch)
        : name(std::move(partyName)), aliceIdentity(alice), indexIdentity(index), indexEpoch(&epoch)
    {
    }

    /// Its keys as indexd presents them, with a KXSIG for indexd's run.
    PeerKeys keys() const
    {
        return PeerKeys{identity.publicKey(), kx.publicKey(),
                        identity.sign(SignedStatement::kx(identity.publicKey(), name, kx.publicKey(), indexIdentity,
                                                          *indexEpoch))};
    }

    /// A new login (a peer) or a new run (indexd): a new key-exchange pair.
    void renewKx()
    {
        kx = KxKeyPair::generate();
        session.reset();
    }

    SessionCipher& sessionWith(const PublicKey& aliceKx)
    {
        if (!session || sessionPeer != aliceKx) {
            session = SessionCipher::between(kx, identity, aliceIdentity, aliceKx);
            sessionPeer = aliceKx;
        }
        return *session;
    }

    /// The datagram bytes of message sealed to alice.
    std::string seal(const PublicKey& aliceKx, const Message& message)
    {
        return Protocol::encodeDatagram(sessionWith(aliceKx).seal(Protocol::encode(message)), TextEncoding::Utf8);
    }

    /// The datagram bytes of messages sealed to alice in one bundle.
    std::string sealBundle(const PublicKey& aliceKx, const std::vector<Message>& messages)
    {
        std::string bundle;
        for (const Message& message : messages) {
            if (!bundle.empty()) bundle += Protocol::kBundleSeparator;
            bundle += Protocol::encode(message);
        }
        return Protocol::encodeDatagram(sessionWith(aliceKx).seal(bundle), TextEncoding::Utf8);
    }

    std::string name;
    PublicKey aliceIdentity{};
    PublicKey indexIdentity{};
    const Epoch* indexEpoch;
    SigningKey identity = SigningKey::generate();
    KxKeyPair kx = KxKeyPair::generate();
    std::optional<SessionCipher> session;
    PublicKey sessionPeer{};
};

/// Keeps every datagram instead of sending it; read() turns each into the
/// text its recipient sees (a seal opened by the fake party it is for).
class RecordingSink : public DatagramSink
{
public:
    struct Datagram
    {
        std::string bytes;
        Endpoint to;
        std::string text;  ///< what the recipient reads: the inner message of a seal, else the bytes
        std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now();

        bool sealed() const { return bytes.rfind("seal,", 0) == 0; }
    };

    void sendTo(std::string_view bytes, const Endpoint& to) override
    {
        const std::string text = read ? read(bytes, to) : std::string(bytes);
        sent.push_back({std::string(bytes), to, text});
    }

    std::function<std::string(std::string_view bytes, const Endpoint& to)> read;
    std::vector<Datagram> sent;
};

/// Keeps every report WireLink makes.
class RecordingListener : public WireListener
{
public:
    void linkStateChanged(local::LinkState state, const std::string& detail) override
    {
        states.emplace_back(state, detail);
    }
    void presenceChanged(const Roster::Change& change) override { presence.push_back(change); }
    void lineReceived(const local::ChatLine& line, std::uint32_t unread) override { lines.emplace_back(line, unread); }
    void lineStateChanged(const std::string& peer, std::uint64_t id, local::LineState state) override
    {
        statuses.push_back({ConversationId::direct(peer), id, state});
    }
    void deliveryProblem(const std::string& peer, const std::string& detail) override
    {
        problems.emplace_back(peer, detail);
    }
    void trustChanged(const std::string& peer, local::Trust trust) override { trusts.emplace_back(peer, trust); }
    void pathChanged(const std::string& peer, PathKind path) override { paths.emplace_back(peer, path); }
    void contactChanged(const std::string& name, const ContactRecord& record) override
    {
        contacts.emplace_back(name, record.relation);
    }
    void contactProblem(const std::string& name, const std::string& detail) override
    {
        contactProblems.emplace_back(name, detail);
    }
    void peerTyping(const std::string& peer) override { typing.push_back(peer); }
    void ownStatusChanged() override { ++ownStatusChanges; }

    std::vector<std::pair<local::LinkState, std::string>> states;
    std::vector<Roster::Change> presence;
    std::vector<std::pair<local::ChatLine, std::uint32_t>> lines;
    std::vector<local::StatusEvent> statuses;
    std::vector<std::pair<std::string, std::string>> problems;
    std::vector<std::pair<std::string, local::Trust>> trusts;
    std::vector<std::pair<std::string, PathKind>> paths;
    std::vector<std::pair<std::string, Relation>> contacts;
    std::vector<std::pair<std::string, std::string>> contactProblems;
    std::vector<std::string> typing;
    int ownStatusChanges = 0;
};

/// Keeps what peerd.wire logs, with its priority.
class LogRecorder : public Poco::Channel
{
public:
    void log(const Poco::Message& message) override { messages.push_back(message); }

    /// The lines holding needle logged at priority or more severe.
    std::size_t count(const std::string& needle, Poco::Message::Priority atLeast) const
    {
        return static_cast<std::size_t>(std::count_if(messages.begin(), messages.end(), [&](const Poco::Message& m) {
            return m.getPriority() <= atLeast && m.getText().find(needle) != std::string::npos;
        }));
    }

    std::vector<Poco::Message> messages;
};

// Runs loop until condition holds or timeout passes; true when it held.
bool runUntil(EventLoop& loop, const std::function<bool()>& condition, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::function<void()> check = [&] {
        if (condition() || std::chrono::steady_clock::now() >= deadline) {
            loop.stop();
            return;
        }
        loop.runAfter(5ms, check);
    };
    loop.runAfter(0ms, check);
    loop.run();
    return condition();
}

} // namespace

class WireLinkTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(WireLinkTest);
    CPPUNIT_TEST(testStartSendsPaddedHello);
    CPPUNIT_TEST(testHelloResentUntilIndexAnswers);
    CPPUNIT_TEST(testChallengeAnsweredWithSignedAuth);
    CPPUNIT_TEST(testChallengeForOthersDropped);
    CPPUNIT_TEST(testChallengeNotEchoingOurHelloDropped);
    CPPUNIT_TEST(testForgedChallengeWithOtherObservedGetsNoAuth);
    CPPUNIT_TEST(testOneAuthPerHello);
    CPPUNIT_TEST(testWelcomeThenSnapshotGoesOnline);
    CPPUNIT_TEST(testWelcomeNotSignedOverOurNonceDropped);
    CPPUNIT_TEST(testWelcomePinsIndexKeyOnFirstContact);
    CPPUNIT_TEST(testChallengeFromOtherThanPinnedIndexKeyRefused);
    CPPUNIT_TEST(testChallengeFromOtherThanConfiguredIndexKeyRefused);
    CPPUNIT_TEST(testPresenceAroundTheFirstSnapshotAppliedInOrder);
    CPPUNIT_TEST(testLogoutBeforeWelcomeSendsNothing);
    CPPUNIT_TEST(testLogoutAfterRefusalSendsNothing);
    CPPUNIT_TEST(testRefuseTakenReportsAndStops);
    CPPUNIT_TEST(testRefuseKeyNamesTheKeyFile);
    CPPUNIT_TEST(testRefuseAuthKeepsAsking);
    CPPUNIT_TEST(testRefuseNotFromIndexDropped);
    CPPUNIT_TEST(testRefuseNotEchoingOurLoginDropped);
    CPPUNIT_TEST(testRefuseBusyKeepsLoggingIn);
    CPPUNIT_TEST(testRefuseAfterWelcomeKeepsLoggingIn);
    CPPUNIT_TEST(testSealedPresenceUpdatesRoster);
    CPPUNIT_TEST(testPlainPresenceDropped);
    CPPUNIT_TEST(testPresenceNotSealedByIndexDropped);
    CPPUNIT_TEST(testPresenceWithBadKeySignatureDropped);
    CPPUNIT_TEST(testKxOfAnotherPeerInPresenceDropped);
    CPPUNIT_TEST(testKxOfAnotherPeerInSnapshotDropped);
    CPPUNIT_TEST(testOldKxPresentedAgainGetsNoSession);
    CPPUNIT_TEST(testSnapshotEntryWithBadKeySignatureDropped);
    CPPUNIT_TEST(testPeerStatusChangeReportedWithoutRestartingLines);
    CPPUNIT_TEST(testChangedKeyBlocksSendingAndIncoming);
    CPPUNIT_TEST(testTrustedKeyReleasesWaitingLines);
    CPPUNIT_TEST(testPinnedKeyBackRestoresTrust);
    CPPUNIT_TEST(testMalformedDatagramsDropped);
    CPPUNIT_TEST(testDatagramsFromStrangersDroppedBeforeParsing);
    CPPUNIT_TEST(testDropsLoggedAtDebugAndSummarisedPerInterval);
    CPPUNIT_TEST(testSentTimeFollowsTheClock);
    CPPUNIT_TEST(testSendToPeerchatPeerGoesSealed);
    CPPUNIT_TEST(testBundleFromPeerTakenPartByPart);
    CPPUNIT_TEST(testLinesGoInBundlesOncePeerSaysItTakesThem);
    CPPUNIT_TEST(testCapsForAnotherRecipientDropped);
    CPPUNIT_TEST(testMsgToAnotherRecipientDropped);
    CPPUNIT_TEST(testSendToSelfRefused);
    CPPUNIT_TEST(testSendBeforeRosterWaitsForIt);
    CPPUNIT_TEST(testSealedMsgDeliveredAndAcked);
    CPPUNIT_TEST(testOneAckPerStreamForEachTurnOfTheLoop);
    CPPUNIT_TEST(testLoneLineAckedAfterADelay);
    CPPUNIT_TEST(testAckGoesAtOnceAfterEnoughLines);
    CPPUNIT_TEST(testReplayedSealRefused);
    CPPUNIT_TEST(testDuplicateMsgAckedNotDeliveredTwice);
    CPPUNIT_TEST(testOutOfOrderMsgHeldThenDelivered);
    CPPUNIT_TEST(testSealFromWrongSourceDropped);
    CPPUNIT_TEST(testPlainChatDropped);
    CPPUNIT_TEST(testMsgResentWithBackoffUntilAcked);
    CPPUNIT_TEST(testAckMarksDeliveredUpToSeq);
    CPPUNIT_TEST(testAckFromWrongSourceIgnored);
    CPPUNIT_TEST(testGiveUpMarksFailedAndKeepsTrying);
    CPPUNIT_TEST(testTalkRefusedWithoutLegacy);
    CPPUNIT_TEST(testLegacyTalkStoredUnverified);
    CPPUNIT_TEST(testLegacyTalkInPeerchatPeersNameDropped);
    CPPUNIT_TEST(testPinnedNameBackWithoutKeyGetsNothingUntilTrusted);
    CPPUNIT_TEST(testLegacyDotNetTalkAcceptedFromAnyPortOfItsAddress);
    CPPUNIT_TEST(testLegacySendUsesUtf16ForDotNetPeer);
    CPPUNIT_TEST(testLegacySendToSeedPeerIsOneTalkMarkedSent);
    CPPUNIT_TEST(testLegacyQueuedLinesTalkedOnceWhenPeerIsSeed);
    CPPUNIT_TEST(testSendToOfflinePeerPostsSealedBox);
    CPPUNIT_TEST(testSendToNeverSeenPeerAsksIndexdForItsKey);
    CPPUNIT_TEST(testSendToUnknownNameWaitsUnsent);
    CPPUNIT_TEST(testPostResentUntilStored);
    CPPUNIT_TEST(testFullLeavesLineQueuedAndReportsOnce);
    CPPUNIT_TEST(testFullReasonToldInWordsOncePerReason);
    CPPUNIT_TEST(testQueuedLinesGoDirectWhenPeerLogsIn);
    CPPUNIT_TEST(testLinesToPeerThatLeftGoToIndex);
    CPPUNIT_TEST(testOutboxLeftInStoreGoesOutAfterStart);
    CPPUNIT_TEST(testMailDeliveredOnceAndAckedToIndex);
    CPPUNIT_TEST(testReceiptOfMailTellsAnUnseenSenderItsLinesAreDelivered);
    CPPUNIT_TEST(testReceiptInMailMarksLinesDelivered);
    CPPUNIT_TEST(testMailFromPinnedSenderWithOtherKeyDropped);
    CPPUNIT_TEST(testMailNotMatchingItsMsgDropped);
    CPPUNIT_TEST(testHeartbeatSealedCarriesPresenceSeq);
    CPPUNIT_TEST(testUnansweredAliveSentAgain);
    CPPUNIT_TEST(testHeartbeatsJittered);
    CPPUNIT_TEST(testSilentIndexMeansRelogin);
    CPPUNIT_TEST(testReloginHintLogsInAgainWithNewKeys);
    CPPUNIT_TEST(testLetterRefusedForAnUnknownNameEndsTheRequest);
    CPPUNIT_TEST(testContactListGoesAfterWelcomeUntilIndexdHoldsIt);
    CPPUNIT_TEST(testReloginHintAnsweredBySeenKeepsLogin);
    CPPUNIT_TEST(testPresenceGapAsksForSnapshotAgain);
    CPPUNIT_TEST(testOldPresenceIgnored);
    CPPUNIT_TEST(testSeenAheadAsksForSnapshotAgain);
    CPPUNIT_TEST(testFreshSnapshotReportsWhoLeftAndCame);
    CPPUNIT_TEST(testNoSnapshotAfterWelcomeDeclaresAgain);
    CPPUNIT_TEST(testNoSnapshotWhileConnectingLogsInAgain);
    CPPUNIT_TEST(testStatusChangeDeclaresANewVersion);
    CPPUNIT_TEST(testInvisibleUserPostsLinesThroughIndex);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _loop = std::make_unique<EventLoop>();
        _sink = RecordingSink();
        _sink.read = [this](std::string_view bytes, const Endpoint& to) { return read(bytes, to); };
        _roster = std::make_unique<Roster>("alice");
        _store = std::make_unique<PeerStore>(100);
        _pins = std::make_unique<KeyPins>(_store->keys, _store->outbox);
        _listener = RecordingListener();
        _refusal.reset();
        _aliceKx.reset();
        _index = std::make_unique<Party>("indexd", _alice.publicKey(), PublicKey{}, _epoch);
        _parties.clear();
        for (const char* name : {"bob", "carol", "dave", "erin"}) _parties.emplace(name, newParty(name));
        _nonces = 0;
        _presenceSeq = 0;
        _declarations.clear();
        _log = new LogRecorder;
        // Every part of the wire logs under peerd.wire (peerd.wire.index, ...).
        Poco::Logger::get("peerd.wire");
        Poco::Logger::setChannel("peerd.wire", _log);
        Poco::Logger::setLevel("peerd.wire", Poco::Message::PRIO_DEBUG);
        makeLink(settings());
    }

    void tearDown() override
    {
        Poco::Logger::setChannel("peerd.wire", nullptr);
        _link.reset();
        _loop.reset();
    }

    // ---- login ------------------------------------------------------------

    void testStartSendsPaddedHello()
    {
        _link->start();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        const std::string& bytes = _sink.sent[0].bytes;
        CPPUNIT_ASSERT(std::regex_match(bytes, std::regex("hello,alice,peerchat/3,[A-Za-z0-9_-]{32},0+")));
        CPPUNIT_ASSERT(bytes.size() >= Protocol::kMinHelloBytes);
        CPPUNIT_ASSERT(_sink.sent[0].to == kIndex);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
    }

    void testHelloResentUntilIndexAnswers()
    {
        WireLink::Settings quick = settings();
        quick.loginRetry = 10ms;
        makeLink(quick);
        _link->start();
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _sink.sent.size() >= 3; }, 5s));
        // Every hello carries a nonce of its own.
        std::set<Nonce> nonces;
        for (const auto& datagram : _sink.sent) {
            const Parsed<Message> hello = Protocol::decode(datagram.bytes);
            CPPUNIT_ASSERT(hello && std::holds_alternative<Hello>(*hello) && std::get<Hello>(*hello).nonce);
            nonces.insert(*std::get<Hello>(*hello).nonce);
        }
        CPPUNIT_ASSERT_EQUAL(_sink.sent.size(), nonces.size());
        CPPUNIT_ASSERT(!_listener.states.empty());
        CPPUNIT_ASSERT(_listener.states[0].first == local::LinkState::Connecting);
        CPPUNIT_ASSERT(_listener.states[0].second.find("no answer from indexd at 127.0.0.1:9400") != std::string::npos);
    }

    void testChallengeAnsweredWithSignedAuth()
    {
        WireLink::Settings quick = settings();
        quick.loginRetry = 10ms;
        makeLink(quick);
        _link->start();
        const Challenge challenge = challengeToLastHello();
        deliver(Protocol::encode(challenge), kIndex);
        const Auth auth = lastAuth();
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), auth.name);
        CPPUNIT_ASSERT(auth.observed == kSelf);
        CPPUNIT_ASSERT_EQUAL(kPeerchat, auth.dialect);
        CPPUNIT_ASSERT(auth.nonce == challenge.nonce);
        CPPUNIT_ASSERT(auth.keys.identity == _alice.publicKey());
        CPPUNIT_ASSERT(SigningKey::verify(_alice.publicKey(), SignedStatement::auth(auth), auth.sig));
        CPPUNIT_ASSERT(SigningKey::verify(_alice.publicKey(),
                                          SignedStatement::kx(_alice.publicKey(), "alice", auth.keys.kx,
                                                              _index->identity.publicKey(), _epoch),
                                          auth.keys.kxSig));

        // The challenge to the next hello of the same login round is answered with the same key-exchange key.
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("hello,").size() >= 2; }, 5s));
        deliver(Protocol::encode(challengeToLastHello()), kIndex);
        CPPUNIT_ASSERT(lastAuth().nonce != auth.nonce);
        CPPUNIT_ASSERT(lastAuth().keys.kx == auth.keys.kx);
    }

    void testChallengeForOthersDropped()
    {
        _link->start();
        Challenge challenge = challengeToLastHello();
        challenge.name = "bob";
        deliver(Protocol::encode(challenge), kIndex);
        deliver(Protocol::encode(challengeToLastHello()), kBob);
        deliver(Protocol::encode(challengeToLastHello()), endpoint("127.0.0.2:9400"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
    }

    void testChallengeNotEchoingOurHelloDropped()
    {
        _link->start();
        // Forged from indexd's address by someone who never saw the hello: no echo, or a nonce of its own.
        for (int i = 0; i < 200; ++i) {
            deliver(Protocol::encode(signedChallenge(*_index, nextNonce(), kSelf)), kIndex);
            deliver(Protocol::encode(signedChallenge(*_index, nextNonce(), kSelf)), kIndex);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(400), _log->count("echoes no hello", Poco::Message::PRIO_DEBUG));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _log->count("dropped", Poco::Message::PRIO_WARNING));
        // The real challenge still gets its auth, and the login goes through.
        login();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), sentBesidesContactLists());
    }

    // Row 5 of issue 10: someone on the path saw the hello, so it knows the
    // HNONCE, and sends from indexd's address a challenge naming its own
    // endpoint as OBSERVED. Before, peerd signed an auth for it.
    void testForgedChallengeWithOtherObservedGetsNoAuth()
    {
        _link->start();
        Party mallory = newParty("mallory");
        const Endpoint attacker = endpoint("203.0.113.9:4444");
        // Signed by mallory but naming indexd's key; signed by indexd for another OBSERVED.
        Challenge forged = signedChallenge(mallory, lastHelloNonce(), attacker);
        forged.indexIdentity = _index->identity.publicKey();
        Challenge moved = challengeToLastHello();
        moved.observed = attacker;
        for (const Challenge& challenge : {forged, moved}) deliver(Protocol::encode(challenge), kIndex);
        CPPUNIT_ASSERT(sentStartingWith("auth,").empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _log->count("not signed by the index key", Poco::Message::PRIO_DEBUG));
        // indexd's own challenge still gets the auth, for the endpoint indexd saw.
        login();
        CPPUNIT_ASSERT(lastAuth().observed == kSelf);
    }

    void testOneAuthPerHello()
    {
        _link->start();
        const Challenge first = challengeToLastHello();
        deliver(Protocol::encode(first), kIndex);
        CPPUNIT_ASSERT(lastAuth().nonce == first.nonce);
        // Another challenge echoing the same hello (a copy, or a forgery by someone who saw it) gets nothing.
        deliver(Protocol::encode(challengeToLastHello()), kIndex);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
        CPPUNIT_ASSERT(lastAuth().nonce == first.nonce);
    }

    void testWelcomeThenSnapshotGoesOnline()
    {
        WireLink::Settings legacy = settings();
        legacy.legacy = true;
        makeLink(legacy);
        _link->start();
        login();
        // Welcomed, the contact list goes to indexd; who is online comes in answer.
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentStartingWith("contacts,alice,").size());
        CPPUNIT_ASSERT(sentStartingWith("contacts,alice,")[0].to == kIndex);
        deliverSnapshot({entry("bob", kBob), seedEntry("dn", kDotNet, "dotnet")});
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);

        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _roster->peers().size());
        CPPUNIT_ASSERT(_roster->find("dn")->dialect == Dialect::DotNet);
        CPPUNIT_ASSERT(_roster->find("bob")->keys->kx == party("bob").kx.publicKey());
        CPPUNIT_ASSERT(_pins->pinned("bob") == party("bob").identity.publicKey());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.presence.size());
        CPPUNIT_ASSERT(_listener.states.back().first == local::LinkState::Online);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), _link->presenceSeq());

        _link->logout();
        CPPUNIT_ASSERT(_sink.sent.back().sealed());
        CPPUNIT_ASSERT(_sink.sent.back().to == kIndex);
        CPPUNIT_ASSERT_EQUAL(std::string("logout,alice,127.0.0.1:5001"), _sink.sent.back().text);
    }

    void testWelcomeNotSignedOverOurNonceDropped()
    {
        _link->start();
        deliver(Protocol::encode(challengeToLastHello()), kIndex);
        _aliceKx = lastAuth().keys.kx;
        Welcome welcome = welcomeFor(*_index);
        // Signed over a nonce this peerd never answered.
        welcome.sig = _index->identity.sign(SignedStatement::welcome(welcome, nextNonce()));
        deliver(Protocol::encode(welcome), kIndex);
        // Claiming indexd's key, signed by another.
        Party mallory = newParty("mallory");
        welcome = welcomeFor(*_index);
        welcome.sig = mallory.identity.sign(SignedStatement::welcome(welcome, lastAuth().nonce));
        deliver(Protocol::encode(welcome), kIndex);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
        CPPUNIT_ASSERT(_listener.states.empty());
        CPPUNIT_ASSERT(!_pins->indexPin("127.0.0.1:9400"));
    }

    void testWelcomePinsIndexKeyOnFirstContact()
    {
        goOnline({});
        CPPUNIT_ASSERT(_pins->indexPin("127.0.0.1:9400") == _index->identity.publicKey());
    }

    void testChallengeFromOtherThanPinnedIndexKeyRefused()
    {
        const Party first = newParty("indexd");
        _pins->pinIndex("127.0.0.1:9400", first.identity.publicKey());
        _link->start();
        deliver(Protocol::encode(challengeToLastHello()), kIndex);
        CPPUNIT_ASSERT(sentStartingWith("auth,").empty());
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Refused);
        CPPUNIT_ASSERT(_refusal.has_value());
        const std::string& detail = _listener.states.back().second;
        CPPUNIT_ASSERT_EQUAL(*_refusal, detail);
        CPPUNIT_ASSERT(detail.find(Fingerprint::of(first.identity.publicKey())) != std::string::npos);
        CPPUNIT_ASSERT(detail.find(Fingerprint::of(_index->identity.publicKey())) != std::string::npos);
        CPPUNIT_ASSERT(detail.find("pinned at first contact") != std::string::npos);
        CPPUNIT_ASSERT(_pins->indexPin("127.0.0.1:9400") == first.identity.publicKey());
        assertSilentTowardsIndex();
    }

    void testChallengeFromOtherThanConfiguredIndexKeyRefused()
    {
        const Party configured = newParty("indexd");
        WireLink::Settings pinned = settings();
        pinned.indexKey = configured.identity.publicKey();
        makeLink(pinned);
        _link->start();
        deliver(Protocol::encode(challengeToLastHello()), kIndex);
        CPPUNIT_ASSERT(sentStartingWith("auth,").empty());
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Refused);
        const std::string& detail = _listener.states.back().second;
        CPPUNIT_ASSERT(detail.find(Fingerprint::of(configured.identity.publicKey())) != std::string::npos);
        CPPUNIT_ASSERT(detail.find(Fingerprint::of(_index->identity.publicKey())) != std::string::npos);
        CPPUNIT_ASSERT(detail.find("--index-key") != std::string::npos);
        CPPUNIT_ASSERT(!_pins->indexPin("127.0.0.1:9400"));
        assertSilentTowardsIndex();

        // The configured key wins over a pin, and the pin follows it.
        _pins->pinIndex("127.0.0.1:9400", configured.identity.publicKey());
        pinned.indexKey = _index->identity.publicKey();
        _listener = RecordingListener();
        goOnline(pinned, {});
        CPPUNIT_ASSERT(_pins->indexPin("127.0.0.1:9400") == _index->identity.publicKey());
    }

    void testPresenceAroundTheFirstSnapshotAppliedInOrder()
    {
        _link->start();
        login();
        // indexd numbered carol's here and bob's gone after the snapshot, but they came first.
        deliverFromIndex(Gone{4, "bob"});
        deliverFromIndex(numbered(entry("carol", kCarol), 3));
        CPPUNIT_ASSERT(_roster->peers().empty());
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
        deliverFromIndex(Snapshot{1, 1});
        deliverFromIndex(numbered(entry("bob", kBob), 2));
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), _listener.presence.back().name);
        CPPUNIT_ASSERT(!_listener.presence.back().online);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), _link->presenceSeq());
    }

    void testLogoutBeforeWelcomeSendsNothing()
    {
        _link->logout();
        _link->start();
        deliver(Protocol::encode(challengeToLastHello()), kIndex);
        const std::size_t sent = _sink.sent.size();
        _link->logout();
        CPPUNIT_ASSERT_EQUAL(sent, _sink.sent.size());
    }

    void testLogoutAfterRefusalSendsNothing()
    {
        _link->start();
        deliver(refusalOfLastHello("taken"), kIndex);
        _link->logout();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
    }

    void testRefuseTakenReportsAndStops()
    {
        _link->start();
        deliver(refusalOfLastHello("taken"), kIndex);
        CPPUNIT_ASSERT(_refusal.has_value());
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Refused);
        CPPUNIT_ASSERT(_listener.states.back().first == local::LinkState::Refused);
        CPPUNIT_ASSERT_EQUAL(std::string("indexd refused alice: the name is online from another endpoint; choose "
                                         "another --user or stop the other peerd"),
                             _listener.states.back().second);
        assertSilentTowardsIndex();
    }

    void testRefuseKeyNamesTheKeyFile()
    {
        _link->start();
        // A refusal of the auth echoes the auth's nonce.
        const Challenge challenge = challengeToLastHello();
        deliver(Protocol::encode(challenge), kIndex);
        deliver(Protocol::encode(Refuse{"alice", "key", challenge.nonce}), kIndex);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Refused);
        CPPUNIT_ASSERT_EQUAL(std::string("indexd refused alice: the name belongs to another identity key; start "
                                         "peerd with the key file that registered it (--key FILE) or choose "
                                         "another --user"),
                             *_refusal);
    }

    void testRefuseAuthKeepsAsking()
    {
        WireLink::Settings quick = settings();
        quick.loginRetry = 10ms;
        makeLink(quick);
        _link->start();
        deliver(refusalOfLastHello("auth"), kIndex);
        CPPUNIT_ASSERT(!_refusal);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("hello,").size() >= 2; }, 5s));
        login();
        CPPUNIT_ASSERT(!_refusal);
    }

    void testRefuseNotFromIndexDropped()
    {
        _link->start();
        deliver(refusalOfLastHello("taken"), kBob);
        Refuse other = std::get<Refuse>(Protocol::decode(refusalOfLastHello("taken")).value());
        other.name = "bob";
        deliver(Protocol::encode(other), kIndex);
        CPPUNIT_ASSERT(!_refusal);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
    }

    void testRefuseNotEchoingOurLoginDropped()
    {
        startRetryingQuickly();
        deliver(Protocol::encode(challengeToLastHello()), kIndex);
        // Forged from indexd's address during the first login: without an
        // echo, echoing a nonce of the forger's, or a hello forgotten by now.
        const std::string forgotten = refusalOfLastHello("taken");
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("hello,").size() > LoginState::kMaxHellos + 1; },
                                5s));
        for (const std::string& forged : {std::string("refuse,alice,taken"), std::string("refuse,alice,version"),
                                          Protocol::encode(Refuse{"alice", "key", nextNonce()}), forgotten}) {
            deliver(forged, kIndex);
        }
        CPPUNIT_ASSERT(!_refusal);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4),
                             _log->count("echoes no hello or auth of this login", Poco::Message::PRIO_DEBUG));
        login();
        deliverSnapshot({});
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
    }

    void testRefuseBusyKeepsLoggingIn()
    {
        startRetryingQuickly();
        const Challenge challenge = challengeToLastHello();
        deliver(Protocol::encode(challenge), kIndex);
        deliver(Protocol::encode(Refuse{"alice", "busy", challenge.nonce}), kIndex);
        CPPUNIT_ASSERT(!_refusal);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
        CPPUNIT_ASSERT_EQUAL(std::string("indexd refused alice for now: too many logins under this identity key in a "
                                         "short time; peerd keeps trying every 10 ms"),
                             _listener.states.back().second);
        const std::size_t hellos = sentStartingWith("hello,").size();
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("hello,").size() > hellos; }, 5s));
        login();
        deliverSnapshot({});
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(!_refusal);
    }

    void testRefuseAfterWelcomeKeepsLoggingIn()
    {
        WireLink::Settings quick = settings();
        quick.loginRetry = 20ms;
        goOnline(quick, {entry("bob", kBob)});
        // A relogin with no seen in answer starts a new login, which a refusal now does not end.
        deliver("relogin", kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("hello,").empty(); }, 5s));
        deliver(refusalOfLastHello("taken"), kIndex);
        CPPUNIT_ASSERT(!_refusal);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
        const std::string detail = _listener.states.back().second;
        CPPUNIT_ASSERT(detail.rfind("indexd refused alice: the name is online from another endpoint", 0) == 0);
        CPPUNIT_ASSERT(detail.find("may be forged: it keeps logging in") != std::string::npos);
        const std::size_t reports = _listener.states.size();
        deliver(refusalOfLastHello("taken"), kIndex);
        CPPUNIT_ASSERT_EQUAL(reports, _listener.states.size());
        deliver(refusalOfLastHello("key"), kIndex);
        CPPUNIT_ASSERT(!_refusal);
        CPPUNIT_ASSERT(_listener.states.back().first == local::LinkState::Connecting);
        CPPUNIT_ASSERT(_listener.states.back().second.find("another identity key") != std::string::npos);

        const std::size_t hellos = sentStartingWith("hello,").size();
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("hello,").size() > hellos; }, 5s));
        login();
        deliverSnapshot({});
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(!_refusal);
    }

    // ---- presence and roster --------------------------------------------

    void testSealedPresenceUpdatesRoster()
    {
        goOnline({});
        deliverHere(entry("bob", kBob));
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.presence.size());
        CPPUNIT_ASSERT(_listener.presence[0].online);
        CPPUNIT_ASSERT(_pins->pinned("bob") == party("bob").identity.publicKey());

        deliverGone("bob");
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.presence.size());
        CPPUNIT_ASSERT(!_listener.presence[1].online);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), _link->presenceSeq());
    }

    // peerchat/3 users hear of presence sealed only: indexd's plain
    // announcements (signed or not), and presence in the open, are dropped.
    void testPlainPresenceDropped()
    {
        goOnline({});
        const PeerKeys carol = party("carol").keys();
        const std::vector<std::string> plain{
            "login,mallory,127.0.0.1:6666",
            "login,mallory,127.0.0.1:6666,peerchat/3",
            // The signed announcement of before.
            "login,carol,127.0.0.1:5004,peerchat/3,1," + Base64::encode(carol.identity) + "," + Base64::encode(carol.kx) +
                "," + Base64::encode(carol.kxSig) + "," + Base64::encode(_index->identity.sign("login")),
            Protocol::encode(numbered(entry("carol", kCarol), 2)),
            Protocol::encode(Snapshot{2, 0}),
            "gone,2,bob",
            "logout,bob,127.0.0.1:5002",
        };
        for (const std::string& datagram : plain) deliver(datagram, kIndex);
        CPPUNIT_ASSERT(_roster->peers().empty());
        CPPUNIT_ASSERT(_listener.presence.empty());
        CPPUNIT_ASSERT(!_pins->pinned("carol"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _link->presenceSeq());
        CPPUNIT_ASSERT_EQUAL(plain.size(), _log->count("dropped datagram from 127.0.0.1:9400", Poco::Message::PRIO_DEBUG));
    }

    // Only indexd's seal carries presence: not a peer's, not one made
    // between other keys, not one from elsewhere.
    void testPresenceNotSealedByIndexDropped()
    {
        goOnline({entry("bob", kBob)});
        deliverFrom("bob", numbered(entry("carol", kCarol), 3));
        deliverFrom("bob", Gone{3, "bob"});
        Party mallory = newParty("indexd");
        deliver(mallory.seal(*_aliceKx, numbered(entry("dave", kDave), 3)), kIndex);
        deliver(_index->seal(*_aliceKx, numbered(entry("erin", kErin), 3)), endpoint("127.0.0.1:9401"));
        CPPUNIT_ASSERT(_roster->find("carol") == nullptr && _roster->find("dave") == nullptr);
        CPPUNIT_ASSERT(_roster->find("erin") == nullptr && _roster->find("bob") != nullptr);
        CPPUNIT_ASSERT(_listener.presence.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _log->count("sealed by bob, not by indexd", Poco::Message::PRIO_DEBUG));
        // indexd's own here, numbered after what it sent, is taken.
        deliverHere(entry("carol", kCarol));
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
    }

    void testPresenceWithBadKeySignatureDropped()
    {
        goOnline({});
        // indexd (or whoever holds its key) cannot swap bob's key-exchange key: bob signs it himself.
        Here swapped = entry("bob", kBob);
        swapped.keys->kx = party("carol").kx.publicKey();
        deliverHere(swapped);
        // A peerchat/3 user without keys, a seed user with keys.
        Here keyless = entry("carol", kCarol);
        keyless.keys.reset();
        deliverHere(keyless);
        Here seed = seedEntry("seed1", kDave, "seed");
        seed.keys = party("dave").keys();
        deliverHere(seed);
        CPPUNIT_ASSERT(_roster->peers().empty());
        CPPUNIT_ASSERT(!_pins->pinned("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _log->count("here dropped", Poco::Message::PRIO_DEBUG));
    }

    // Row 1 of issue 10, with a malicious indexd: it presents mallory with
    // bob's key-exchange key (and a KXSIG of mallory's own). Before, peerd
    // took mallory and sealed lines to her under its session with bob's key.
    void testKxOfAnotherPeerInPresenceDropped()
    {
        goOnline({entry("bob", kBob)});
        const Party mallory = newParty("mallory");
        deliverHere(Here{0, "mallory", kErin, kPeerchat, keysClaiming(mallory, party("bob").kx.publicKey())});
        CPPUNIT_ASSERT(_roster->find("mallory") == nullptr);
        CPPUNIT_ASSERT(!_pins->pinned("mallory"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("mallory and bob present one key-exchange key",
                                                         Poco::Message::PRIO_DEBUG));
        CPPUNIT_ASSERT(_link->sendTalk("mallory", "for mallory only").ok());
        CPPUNIT_ASSERT(_link->sendTalk("bob", "marker").ok());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("msg,").empty(); }, 5s));
        for (const auto& datagram : _sink.sent) {
            CPPUNIT_ASSERT_MESSAGE(datagram.text, datagram.to != kErin);
            CPPUNIT_ASSERT_MESSAGE(datagram.text, datagram.text.find("for mallory only") == std::string::npos);
        }
        // The holder online first keeps its key: bob still gets his lines.
        CPPUNIT_ASSERT(sentStartingWith("msg,")[0].text.find(",alice,bob,marker") != std::string::npos);
    }

    void testKxOfAnotherPeerInSnapshotDropped()
    {
        const Party mallory = newParty("mallory");
        goOnline({entry("bob", kBob), Here{0, "mallory", kErin, kPeerchat, keysClaiming(mallory, party("bob").kx.publicKey())},
                  entry("carol", kCarol)});
        // Nobody can tell which of two holds the key: neither is taken.
        CPPUNIT_ASSERT(_roster->find("mallory") == nullptr);
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
        // Nor one that presents this login's own key.
        deliverHere(Here{0, "dave", kDave, kPeerchat, keysClaiming(party("dave"), *_aliceKx)});
        CPPUNIT_ASSERT(_roster->find("dave") == nullptr);
    }

    // Row 3: a malicious indexd presents bob's earlier key-exchange key
    // again (signed for this run). Before, peerd made a fresh cipher for it,
    // counting from 1 again under keys it had used.
    void testOldKxPresentedAgainGetsNoSession()
    {
        goOnline({entry("bob", kBob)});
        const PeerKeys first = party("bob").keys();
        CPPUNIT_ASSERT(_link->sendTalk("bob", "under the first key").ok());
        endTurn();
        party("bob").renewKx();
        deliverHere(entry("bob", kBob));
        CPPUNIT_ASSERT(_roster->find("bob")->keys->kx == party("bob").kx.publicKey());
        CPPUNIT_ASSERT(_link->sendTalk("bob", "under the second key").ok());
        endTurn();
        CPPUNIT_ASSERT(!sentStartingWith("msg," + streamTo("bob") + ",2,").empty());
        deliverHere(Here{0, "bob", kBob, kPeerchat, first});
        CPPUNIT_ASSERT(_roster->find("bob")->keys->kx == party("bob").kx.publicKey());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("already used in this login", Poco::Message::PRIO_DEBUG));
    }

    void testSnapshotEntryWithBadKeySignatureDropped()
    {
        PeerKeys swapped = party("carol").keys();
        swapped.kxSig = party("bob").keys().kxSig;
        goOnline({entry("bob", kBob), Here{0, "carol", kCarol, kPeerchat, swapped}});
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        CPPUNIT_ASSERT(_roster->find("carol") == nullptr);
        CPPUNIT_ASSERT(!_pins->pinned("carol"));
    }

    void testPeerStatusChangeReportedWithoutRestartingLines()
    {
        goOnline({entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "still there?").ok());
        endTurn();
        const std::size_t sent = _sink.sent.size();
        Here away = entry("bob", kBob);
        away.state = PresenceState::Away;
        away.status = "back at 3, 你好";
        deliverHere(away);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.presence.size());
        CPPUNIT_ASSERT(_listener.presence[0].online && _listener.presence[0].statusOnly);
        CPPUNIT_ASSERT(_roster->find("bob")->state == PresenceState::Away);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3, 你好"), _roster->find("bob")->status);
        // bob is where he was: the line is not sent again before its time, the path stays.
        CPPUNIT_ASSERT_EQUAL(sent, _sink.sent.size());
        CPPUNIT_ASSERT(_listener.paths.empty());
    }

    // ---- keys -------------------------------------------------------------

    void testChangedKeyBlocksSendingAndIncoming()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {10ms, 20ms, 60000ms};
        goOnline(quick, {entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "before the change").ok());
        const Party oldBob = std::move(_parties.at("bob"));
        _parties.erase("bob");
        _parties.emplace("bob", newParty("bob"));

        deliverHere(entry("bob", kBob));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.trusts.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), _listener.trusts[0].first);
        CPPUNIT_ASSERT(_listener.trusts[0].second == local::Trust::Changed);
        CPPUNIT_ASSERT(_pins->trustOf("bob") == local::Trust::Changed);
        CPPUNIT_ASSERT(_pins->pinned("bob") == oldBob.identity.publicKey());

        const auto refused = _link->sendTalk("bob", "after the change");
        CPPUNIT_ASSERT(!refused.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("bob's key changed: compare fingerprints with /verify bob, then /trust bob"),
                             refused.error());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->lines.history(ConversationId::direct("bob")).size());

        // Nothing from the new key is taken, and the line already queued waits.
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "bob", "alice", "trust me"});
        CPPUNIT_ASSERT(_listener.lines.empty());
        _sink.sent.clear();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return !_sink.sent.empty(); }, 150ms));
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.trusts.size());
    }

    void testTrustedKeyReleasesWaitingLines()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {10ms, 20ms, 60000ms};
        goOnline(quick, {entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "for the first bob").ok());
        const std::string firstStream = streamTo("bob");
        deliverFrom("bob", Ack{"bob", firstStream, 1, {}});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "waiting for the new key").ok());
        _parties.erase("bob");
        _parties.emplace("bob", newParty("bob"));
        deliverHere(entry("bob", kBob));
        _sink.sent.clear();

        CPPUNIT_ASSERT(_pins->trust("bob"));
        _link->keyTrusted("bob");
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("msg,").empty(); }, 5s));
        CPPUNIT_ASSERT(sentStartingWith("msg,")[0].to == kBob);
        // The new bob never saw the first line: the waiting one starts a new stream.
        CPPUNIT_ASSERT(streamTo("bob") != firstStream);
        CPPUNIT_ASSERT_EQUAL("msg," + streamTo("bob") + ",1,",
                             sentStartingWith("msg,")[0].text.substr(0, streamTo("bob").size() + 7));
        CPPUNIT_ASSERT(std::regex_match(sentStartingWith("msg,")[0].text,
                                        std::regex("msg,[0-9a-f]+,1,[0-9:]+,alice,bob,waiting for the new key")));
        deliverFrom("bob", Ack{"bob", streamTo("bob"), 1, {}});
        CPPUNIT_ASSERT(stateOf("bob", 2) == local::LineState::Delivered);
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "bob", "alice", "new key, same bob"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        CPPUNIT_ASSERT(_link->sendTalk("bob", "welcome back").ok());
    }

    void testPinnedKeyBackRestoresTrust()
    {
        goOnline({entry("bob", kBob)});
        Party other = newParty("bob");
        deliverHere(Here{0, "bob", kBob, kPeerchat, other.keys()});
        CPPUNIT_ASSERT(_pins->trustOf("bob") == local::Trust::Changed);
        party("bob").renewKx();
        deliverHere(entry("bob", kBob));
        CPPUNIT_ASSERT(_pins->trustOf("bob") == local::Trust::Pinned);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.trusts.size());
        CPPUNIT_ASSERT(_listener.trusts[1].second == local::Trust::Pinned);
        CPPUNIT_ASSERT(_link->sendTalk("bob", "hello again").ok());
        endTurn();
        CPPUNIT_ASSERT_EQUAL(std::string("msg,"), _sink.sent.back().text.substr(0, 4));
    }

    void testMalformedDatagramsDropped()
    {
        goOnline({entry("bob", kBob)});
        const std::vector<std::string> junk{
            "",
            "hello",
            "talk",
            "seal",
            "seal,AAAAAAAAAAA,AAAAAAAAAAA,1,AAAA",
            "seal,!!,??,x,y",
            "welcome,alice",
            "challenge,alice,127.0.0.1:5001,short",
            "talk,12:00:00,bob,bad \xff utf-8",
            std::string("talk,12:00:00,bob,nul\0inside", 27),
            std::string(Protocol::kMaxDatagramBytes + 1, 'a'),
            "logout,bob",
            "login,bob,not-an-endpoint",
            "Accept,9401",
            std::string("t\0a\0", 4),
        };
        for (const std::string& bytes : junk) {
            _link->handleDatagram(bytes, kBob);
            _link->handleDatagram(bytes, kIndex);
        }
        // Garbage sealed under the right keys.
        const std::string sealedJunk = Protocol::encodeDatagram(
            party("bob").sessionWith(*_aliceKx).seal("msg,zz,1"), TextEncoding::Utf8);
        _link->handleDatagram(sealedJunk, kBob);
        for (const std::string text : {"here,3,carol", "here,0,carol,127.0.0.1:5004,seed,-,-,-,online,",
                                       "here,3,carol,127.0.0.1:5004,seed,-,-,-,invisible,", "gone,x,bob",
                                       "snapshot,3", "gone,3,bob,extra"}) {
            _link->handleDatagram(Protocol::encodeDatagram(_index->sessionWith(*_aliceKx).seal(text), TextEncoding::Utf8),
                                  kIndex);
        }
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _roster->peers().size());
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(_sink.sent.empty());
    }

    void testDatagramsFromStrangersDroppedBeforeParsing()
    {
        goOnline({entry("bob", kBob)});
        // indexd's genuine here and bob's genuine seal, from an endpoint where nobody is online.
        const Endpoint stranger = endpoint("127.0.0.1:6666");
        deliver(_index->seal(*_aliceKx, numbered(entry("carol", kCarol), 3)), stranger);
        deliver(party("bob").seal(*_aliceKx, Msg{"b0b", 1, "12:00:00", "bob", "alice", "from elsewhere"}), stranger);
        deliver(std::string(Protocol::kMaxDatagramBytes + 1, 'x'), stranger);
        CPPUNIT_ASSERT(_roster->find("carol") == nullptr);
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _log->count("dropped datagram from 127.0.0.1:6666: neither from indexd "
                                                         "nor from a peer online",
                                                         Poco::Message::PRIO_DEBUG));
        deliverHere(entry("carol", kCarol));
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
    }

    void testDropsLoggedAtDebugAndSummarisedPerInterval()
    {
        WireLink::Settings quick = settings();
        quick.dropReport = 100ms;
        goOnline(quick, {entry("bob", kBob)});
        _log->messages.clear();
        for (int i = 0; i < 1000; ++i) deliver("\x7fgarbage", endpoint("127.0.0.2:4000"));
        deliver(std::string(Protocol::kMaxDatagramBytes + 1, 'x'), kIndex);
        deliver("welcome,alice", kIndex);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1002), _log->count("dropped datagram from", Poco::Message::PRIO_DEBUG));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _log->count("", Poco::Message::PRIO_INFORMATION));
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _log->count("", Poco::Message::PRIO_WARNING) > 0; }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("", Poco::Message::PRIO_WARNING));
        const std::string summary = _log->messages.back().getText();
        CPPUNIT_ASSERT_MESSAGE(summary, summary.rfind("dropped 1002 datagrams in the last 100 ms: ", 0) == 0);
        for (const std::string part : {"1000 from strangers (first from 127.0.0.2:4000: neither from indexd",
                                       "1 oversize (first from 127.0.0.1:9400",
                                       "1 malformed (first from 127.0.0.1:9400"}) {
            CPPUNIT_ASSERT_MESSAGE(summary, summary.find(part) != std::string::npos);
        }
        // Nothing dropped since: no summary.
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _log->count("", Poco::Message::PRIO_WARNING) > 1; }, 300ms));
        deliver("\x7fgarbage", endpoint("127.0.0.2:4000"));
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _log->count("", Poco::Message::PRIO_WARNING) > 1; }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::string("dropped 1 datagram in the last 100 ms: 1 from strangers (first from "
                                         "127.0.0.2:4000: neither from indexd nor from a peer online)"),
                             _log->messages.back().getText());
    }

    // ---- chat -------------------------------------------------------------

    void testSentTimeFollowsTheClock()
    {
        // The time of day is formatted once a second: a line in the next second gets the next time.
        goOnline({entry("bob", kBob)});
        const auto first = _link->sendTalk("bob", "one");
        CPPUNIT_ASSERT(first.ok());
        const std::time_t at = std::time(nullptr);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return std::time(nullptr) != at; }, 3s));
        const auto second = _link->sendTalk("bob", "two");
        CPPUNIT_ASSERT(second.ok());
        CPPUNIT_ASSERT(first->line.sentTime != second->line.sentTime);
    }

    void testSendToPeerchatPeerGoesSealed()
    {
        goOnline({entry("bob", kBob)});
        const auto line = _link->sendTalk("bob", "你好, world");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), line->line.id);
        CPPUNIT_ASSERT(line->line.outgoing);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), line->line.from);
        CPPUNIT_ASSERT(line->line.state == local::LineState::Pending);
        // It goes at the end of the loop's turn, after alice's caps: bob's are not known yet.
        CPPUNIT_ASSERT(_sink.sent.empty());
        endTurn();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::string("caps,alice,bob,bundle,0"), _sink.sent[0].text);
        CPPUNIT_ASSERT(_sink.sent[1].to == kBob);
        CPPUNIT_ASSERT(_sink.sent[1].sealed());
        CPPUNIT_ASSERT(_sink.sent[1].bytes.find("world") == std::string::npos);
        const std::string stream = streamTo("bob");
        CPPUNIT_ASSERT(std::regex_match(_sink.sent[1].text,
                                        std::regex("msg,[0-9a-f]+,1,[0-2][0-9]:[0-5][0-9]:[0-5][0-9],alice,bob,你好, world")));
        CPPUNIT_ASSERT_EQUAL("msg," + stream + ",1," + line->line.sentTime + ",alice,bob,你好, world", _sink.sent[1].text);
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Pending);

        CPPUNIT_ASSERT(_link->sendTalk("bob", "two").ok());
        endTurn();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL("msg," + stream + ",2,", _sink.sent[2].text.substr(0, stream.size() + 7));
    }

    void testBundleFromPeerTakenPartByPart()
    {
        goOnline({entry("bob", kBob)});
        const std::string bundle = Protocol::encode(Msg{"b0b", 1, "12:00:01", "bob", "alice", "one"}) + '\0' +
                                   "garbage" + '\0' +
                                   Protocol::encode(Msg{"b0b", 2, "12:00:02", "bob", "alice", "two, and\na newline"}) +
                                   '\0' + Protocol::encode(Caps{"bob", "alice", "bundle", false});
        deliver(Protocol::encodeDatagram(party("bob").sessionWith(*_aliceKx).seal(bundle), TextEncoding::Utf8), kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("one"), _listener.lines[0].first.text);
        CPPUNIT_ASSERT_EQUAL(std::string("two, and\na newline"), _listener.lines[1].first.text);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("sealed message does not parse", Poco::Message::PRIO_DEBUG));
        // A bundle holds lines and acks only: the caps in it is not answered.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("caps in a bundle", Poco::Message::PRIO_DEBUG));
        // One ack for both lines.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,2"), _sink.sent[0].text);
    }

    void testLinesGoInBundlesOncePeerSaysItTakesThem()
    {
        goOnline({entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "first").ok());
        endTurn();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());  // alice's caps, then the line
        deliverFrom("bob", Ack{"bob", streamTo("bob"), 1, {}});
        deliverFrom("bob", Caps{"bob", "alice", "bundle", true});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());  // an answer is not answered
        // Lines a client writes in one go leave in one datagram.
        for (int i = 2; i <= 6; ++i) CPPUNIT_ASSERT(_link->sendTalk("bob", "line " + std::to_string(i)).ok());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
        endTurn();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink.sent.size());
        const auto parts = Protocol::decodeBundle(_sink.sent[2].text);
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), parts.size());
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const Msg& msg = std::get<Msg>(parts[i].value());
            CPPUNIT_ASSERT_EQUAL(std::uint64_t(i + 2), msg.seq);
            CPPUNIT_ASSERT_EQUAL("line " + std::to_string(i + 2), msg.text);
        }
    }

    void testCapsForAnotherRecipientDropped()
    {
        goOnline({entry("bob", kBob)});
        deliverFrom("bob", Caps{"bob", "carol", "bundle", false});
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("caps from bob to carol, not to alice", Poco::Message::PRIO_DEBUG));
    }

    // msg names its recipient: a line bob sealed for someone else does not
    // pass for one to alice (issue 10, row 1).
    void testMsgToAnotherRecipientDropped()
    {
        goOnline({entry("bob", kBob)});
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "bob", "carol", "meant for carol"});
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("msg from bob to carol, not to alice", Poco::Message::PRIO_DEBUG));
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "bob", "alice", "for alice"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("for alice"), _listener.lines[0].first.text);
    }

    void testSendToSelfRefused()
    {
        const auto line = _link->sendTalk("alice", "hello");
        CPPUNIT_ASSERT(!line.ok());
        CPPUNIT_ASSERT(line.error().find("yourself") != std::string::npos);
        CPPUNIT_ASSERT(_sink.sent.empty());
    }

    void testSendBeforeRosterWaitsForIt()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {5ms, 10ms, 60000ms};
        makeLink(quick);
        _link->start();
        const auto line = _link->sendTalk("bob", "early");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT(line->line.state == local::LineState::Pending);
        // Without presence bob's whereabouts are unknown: nothing but the hello goes anywhere yet.
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > 1; }, 100ms));

        login();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return !sentStartingWith("post,").empty(); }, 50ms));
        deliverSnapshot({entry("bob", kBob)});
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("msg,").empty(); }, 5s));
        CPPUNIT_ASSERT(sentStartingWith("msg,")[0].to == kBob);
        CPPUNIT_ASSERT(sentStartingWith("post,").empty());
    }

    void testSealedMsgDeliveredAndAcked()
    {
        goOnline({entry("bob", kBob)});
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "bob", "alice", "hi, alice"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        const local::ChatLine& line = _listener.lines[0].first;
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), line.conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::string("hi, alice"), line.text);
        CPPUNIT_ASSERT_EQUAL(std::string("12:00:01"), line.sentTime);
        CPPUNIT_ASSERT(line.state == local::LineState::Received);
        CPPUNIT_ASSERT(line.verified);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), _listener.lines[0].second);
        // A line in order is acked after Delivery::kAckDelay, in case more follow.
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !_sink.sent.empty(); }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT(_sink.sent[0].sealed());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,1"), _sink.sent[0].text);
        CPPUNIT_ASSERT(_sink.sent[0].to == kBob);
    }

    void testOneAckPerStreamForEachTurnOfTheLoop()
    {
        goOnline({entry("bob", kBob)});
        const std::size_t before = _sink.sent.size();
        // Four datagrams read in one turn; 4 is missing.
        for (const std::uint64_t seq : {1, 2, 3, 5})
            _link->handleDatagram(party("bob").seal(*_aliceKx, Msg{"b0b", seq, "12:00:01", "bob", "alice", "hi"}), kBob);
        CPPUNIT_ASSERT_EQUAL(before, _sink.sent.size());
        runUntil(*_loop, [] { return true; }, 0ms);
        CPPUNIT_ASSERT_EQUAL(before + 1, _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,3,5-5"), _sink.sent.back().text);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _listener.lines.size());
    }

    void testLoneLineAckedAfterADelay()
    {
        goOnline({entry("bob", kBob)});
        const auto start = std::chrono::steady_clock::now();
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "bob", "alice", "hi"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !_sink.sent.empty(); }, 5s));
        CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start >= Delivery::kAckDelay);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,1"), _sink.sent[0].text);
    }

    void testAckGoesAtOnceAfterEnoughLines()
    {
        goOnline({entry("bob", kBob)});
        for (std::uint64_t seq = 1; seq < Delivery::kAckEvery; ++seq)
            deliverFrom("bob", Msg{"b0b", seq, "12:00:01", "bob", "alice", "hi"});
        CPPUNIT_ASSERT(_sink.sent.empty());
        deliverFrom("bob", Msg{"b0b", Delivery::kAckEvery, "12:00:01", "bob", "alice", "hi"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL("ack,alice,b0b," + std::to_string(Delivery::kAckEvery), _sink.sent[0].text);
    }

    void testReplayedSealRefused()
    {
        goOnline({entry("bob", kBob)});
        const std::string first = party("bob").seal(*_aliceKx, Msg{"b0b", 1, "12:00:01", "bob", "alice", "once"});
        const std::string second = party("bob").seal(*_aliceKx, Msg{"b0b", 2, "12:00:02", "bob", "alice", "twice"});
        deliver(first, kBob);
        deliver(second, kBob);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !_sink.sent.empty(); }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        // A captured datagram sent again, also in another order, opens no more
        // (a repeated msg that opened would be acked at the end of its turn).
        deliver(second, kBob);
        deliver(first, kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
    }

    void testDuplicateMsgAckedNotDeliveredTwice()
    {
        goOnline({entry("bob", kBob)});
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "bob", "alice", "one"});
        deliverFrom("bob", Msg{"b0b", 2, "12:00:02", "bob", "alice", "two"});
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !_sink.sent.empty(); }, 5s));
        // A repeat says the sender missed the ack: each gets one at the end of its turn.
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "bob", "alice", "one"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
        deliverFrom("bob", Msg{"b0b", 2, "12:00:02", "bob", "alice", "two"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _store->lines.history(ConversationId::direct("bob")).size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink.sent.size());
        for (const auto& ack : _sink.sent) CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,2"), ack.text);
    }

    void testOutOfOrderMsgHeldThenDelivered()
    {
        goOnline({entry("bob", kBob)});
        deliverFrom("bob", Msg{"b0b", 3, "12:00:03", "bob", "alice", "three"});
        deliverFrom("bob", Msg{"b0b", 2, "12:00:02", "bob", "alice", "two"});
        CPPUNIT_ASSERT(_listener.lines.empty());
        // Nothing of the stream is delivered yet: the ack says position 0 and what is held, so bob sends 1 again at once.
        CPPUNIT_ASSERT(!_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,0,2-3"), _sink.sent.back().text);
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "bob", "alice", "one"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("one"), _listener.lines[0].first.text);
        CPPUNIT_ASSERT_EQUAL(std::string("two"), _listener.lines[1].first.text);
        CPPUNIT_ASSERT_EQUAL(std::string("three"), _listener.lines[2].first.text);
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(3), _listener.lines[2].second);
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,b0b,3"), _sink.sent.back().text);
    }

    void testSealFromWrongSourceDropped()
    {
        goOnline({entry("bob", kBob), entry("carol", kCarol)});
        const Msg fromBob{"b0b", 1, "12:00:01", "bob", "alice", "spoofed"};
        // bob's own seal, arriving from elsewhere.
        deliver(party("bob").seal(*_aliceKx, fromBob), endpoint("127.0.0.1:6666"));
        deliver(party("bob").seal(*_aliceKx, fromBob), endpoint("127.0.0.2:5002"));
        deliver(party("bob").seal(*_aliceKx, fromBob), kCarol);
        // carol sealing a msg in bob's name; alice's own name; indexd sealing chat.
        deliverFrom("carol", fromBob);
        deliverFrom("bob", Msg{"b0b", 1, "12:00:01", "alice", "alice", "myself"});
        deliver(_index->seal(*_aliceKx, fromBob), kIndex);
        // A stranger with its own keys.
        Party mallory = newParty("mallory");
        deliver(mallory.seal(*_aliceKx, Msg{"b0b", 1, "12:00:01", "mallory", "alice", "stranger"}), endpoint("127.0.0.1:6666"));
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT(_store->lines.history(ConversationId::direct("bob")).empty());
    }

    void testPlainChatDropped()
    {
        goOnline({entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "sealed").ok());
        deliver("msg,b0b,1,12:00:01,bob,plain", kBob);
        deliver("ack,bob," + streamTo("bob") + ",1", kBob);
        deliver("mail,carol," + Base64::encode(party("carol").identity.publicKey()) + ",c0c,1,AAAA", kIndex);
        deliver("seen,99", kIndex);
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_listener.statuses.empty());
        // The plain seen says nothing of presence: nothing is asked again.
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return !sentStartingWith("contacts,").empty(); }, 50ms));
    }

    void testMsgResentWithBackoffUntilAcked()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {20ms, 80ms, 60000ms};
        goOnline(quick, {entry("bob", kBob)});
        const auto begin = std::chrono::steady_clock::now();
        CPPUNIT_ASSERT(_link->sendTalk("bob", "again and again").ok());
        std::vector<std::chrono::steady_clock::duration> at;
        CPPUNIT_ASSERT(runUntil(*_loop, [&] {
            while (at.size() < sentStartingWith("msg,").size()) at.push_back(std::chrono::steady_clock::now() - begin);
            return at.size() >= 5;
        }, 5s));
        const auto tries = sentStartingWith("msg,");
        for (const auto& datagram : tries) {
            CPPUNIT_ASSERT_EQUAL(tries[0].text, datagram.text);
            CPPUNIT_ASSERT(datagram.to == kBob);
        }
        // Each try is a datagram of its own: a new counter, new ciphertext.
        CPPUNIT_ASSERT(tries[0].bytes != tries[1].bytes);
        // 0, 20, 60, 140, 220 ms: each wait twice the last, at most 80 ms.
        CPPUNIT_ASSERT(at[1] >= 20ms && at[2] >= 60ms && at[3] >= 140ms && at[4] >= 220ms);
        CPPUNIT_ASSERT(at[4] - at[3] < at[3] - at[2] + 40ms);

        deliverFrom("bob", Ack{"bob", streamTo("bob"), 1, {}});
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Delivered);
        const std::size_t sentBefore = _sink.sent.size();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > sentBefore; }, 200ms));
        CPPUNIT_ASSERT(_store->outbox.outbox().empty());
    }

    void testAckMarksDeliveredUpToSeq()
    {
        goOnline({entry("bob", kBob)});
        for (int i = 1; i <= 3; ++i) CPPUNIT_ASSERT(_link->sendTalk("bob", "line " + std::to_string(i)).ok());
        const std::string stream = streamTo("bob");
        deliverFrom("bob", Ack{"bob", stream, 2, {}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.statuses.size());
        CPPUNIT_ASSERT(hasStatus("bob", 1, local::LineState::Delivered));
        CPPUNIT_ASSERT(hasStatus("bob", 2, local::LineState::Delivered));
        CPPUNIT_ASSERT(stateOf("bob", 3) == local::LineState::Pending);
        deliverFrom("bob", Ack{"bob", stream, 2, {}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.statuses.size());
        deliverFrom("bob", Ack{"bob", stream, 3, {}});
        CPPUNIT_ASSERT(hasStatus("bob", 3, local::LineState::Delivered));
        CPPUNIT_ASSERT(_store->outbox.outbox().empty());
    }

    void testAckFromWrongSourceIgnored()
    {
        goOnline({entry("bob", kBob), entry("carol", kCarol)});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "for bob").ok());
        const Ack ack{"bob", streamTo("bob"), 1, {}};
        deliverFrom("carol", ack);
        deliver(_index->seal(*_aliceKx, ack), kIndex);
        deliver(party("bob").seal(*_aliceKx, ack), endpoint("127.0.0.2:5002"));
        deliverFrom("carol", Ack{"carol", ack.stream, 1, {}});
        deliverFrom("bob", Ack{"mallory", ack.stream, 1, {}});
        CPPUNIT_ASSERT(_listener.statuses.empty());
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->outbox.outbox().size());
    }

    void testGiveUpMarksFailedAndKeepsTrying()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {10ms, 20ms, 100ms};
        goOnline(quick, {entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "anyone?").ok());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return hasStatus("bob", 1, local::LineState::Failed); }, 5s));
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Failed);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->outbox.outbox().size());
        const std::size_t sentBefore = _sink.sent.size();
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _sink.sent.size() > sentBefore; }, 5s));
        CPPUNIT_ASSERT_EQUAL(sentStartingWith("msg,").front().text, _sink.sent.back().text);

        deliverFrom("bob", Ack{"bob", streamTo("bob"), 1, {}});
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Delivered);
    }

    // ---- seed and .NET peers (legacy mode) ---------------------------------

    void testTalkRefusedWithoutLegacy()
    {
        goOnline({seedEntry("seed1", kBob, "seed")});
        deliver("talk,12:00:01,seed1,plain hello", kBob);
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_store->lines.history(ConversationId::direct("seed1")).empty());

        const auto refused = _link->sendTalk("seed1", "hello");
        CPPUNIT_ASSERT(!refused.ok());
        CPPUNIT_ASSERT(refused.error().find("seed1 uses a client without encryption") == 0);
        CPPUNIT_ASSERT(refused.error().find("--legacy") != std::string::npos);
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT(_store->lines.history(ConversationId::direct("seed1")).empty());
    }

    void testLegacyTalkStoredUnverified()
    {
        goOnline(legacySettings(), {seedEntry("seed1", kBob, "seed")});
        deliver("talk,12:00:01,seed1,hi, alice", kBob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        const local::ChatLine& line = _listener.lines[0].first;
        CPPUNIT_ASSERT_EQUAL(std::string("seed1"), line.conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::string("seed1"), line.from);
        CPPUNIT_ASSERT(!line.outgoing);
        CPPUNIT_ASSERT(!line.verified);
        CPPUNIT_ASSERT_EQUAL(std::string("12:00:01"), line.sentTime);
        CPPUNIT_ASSERT_EQUAL(std::string("hi, alice"), line.text);
        CPPUNIT_ASSERT(!_store->lines.history(ConversationId::direct("seed1"))[0].verified);

        // Still only from where seed1 is registered.
        deliver("talk,12:00:01,seed1,spoofed", endpoint("127.0.0.1:6666"));
        deliver("talk,12:00:01,seed1,spoofed", kIndex);
        deliver("talk,12:00:01,mallory,hello", endpoint("127.0.0.1:6666"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
    }

    void testLegacyTalkInPeerchatPeersNameDropped()
    {
        goOnline(legacySettings(), {entry("bob", kBob)});
        deliver("talk,12:00:01,bob,plain, but from bob's endpoint", kBob);
        CPPUNIT_ASSERT(_listener.lines.empty());
    }

    // Issue 10 row 2: bob's key is pinned; bob comes back as a seed login.
    void testPinnedNameBackWithoutKeyGetsNothingUntilTrusted()
    {
        goOnline(legacySettings(), {entry("bob", kBob)});
        deliverHere(seedEntry("bob", kDave, "seed"));
        CPPUNIT_ASSERT(_roster->find("bob")->dialect == Dialect::Seed);
        CPPUNIT_ASSERT(_pins->trustOf("bob") == local::Trust::Changed);
        CPPUNIT_ASSERT(_listener.trusts.back() == std::make_pair(std::string("bob"), local::Trust::Changed));

        const auto refused = _link->sendTalk("bob", "for bob only");
        CPPUNIT_ASSERT(!refused.ok());
        CPPUNIT_ASSERT_MESSAGE(refused.error(), refused.error().find("/verify bob") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(refused.error(), refused.error().find("/trust bob") != std::string::npos);
        deliver("talk,12:00:01,bob,it is me", kDave);
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT(_store->lines.history(ConversationId::direct("bob")).empty());

        // Accepted without a key: a seed user now.
        CPPUNIT_ASSERT(_pins->trust("bob"));
        _link->keyTrusted("bob");
        CPPUNIT_ASSERT(_link->sendTalk("bob", "in the clear").ok());
        CPPUNIT_ASSERT(_sink.sent.back().to == kDave);
        deliver("talk,12:00:02,bob,it is me", kDave);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
    }

    void testLegacyDotNetTalkAcceptedFromAnyPortOfItsAddress()
    {
        goOnline(legacySettings(), {seedEntry("dn", kDotNet, "dotnet")});
        _link->handleDatagram(Utf8::toUtf16le("talk,3:04:05 PM,dn,你好, alice"), endpoint("127.0.0.1:40000"));
        _link->handleDatagram(Utf8::toUtf16le("talk,3:04:06 PM,dn,spoofed"), endpoint("127.0.0.2:40000"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("你好, alice"), _listener.lines[0].first.text);
        CPPUNIT_ASSERT_EQUAL(std::string("3:04:05 PM"), _listener.lines[0].first.sentTime);
        CPPUNIT_ASSERT(!_listener.lines[0].first.verified);
    }

    void testLegacySendUsesUtf16ForDotNetPeer()
    {
        goOnline(legacySettings(), {seedEntry("dn", kDotNet, "dotnet")});
        const auto line = _link->sendTalk("dn", "你好, world");
        CPPUNIT_ASSERT(line.ok());
        const std::string& bytes = _sink.sent.back().bytes;
        CPPUNIT_ASSERT(_sink.sent.back().to == kDotNet);
        CPPUNIT_ASSERT(bytes.size() > 2 && bytes[0] == 't' && bytes[1] == '\0');
        const auto text = Utf8::fromUtf16le(bytes);
        CPPUNIT_ASSERT(text.has_value());
        CPPUNIT_ASSERT_EQUAL("talk," + line->line.sentTime + ",alice,你好, world", *text);
        CPPUNIT_ASSERT(line->line.state == local::LineState::Sent);
        CPPUNIT_ASSERT(_store->outbox.outbox().empty());
    }

    void testLegacySendToSeedPeerIsOneTalkMarkedSent()
    {
        WireLink::Settings quick = legacySettings();
        quick.retransmit = {5ms, 10ms, 50ms};
        goOnline(quick, {seedEntry("seed1", kBob, "seed")});
        const auto line = _link->sendTalk("seed1", "hello, seed");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT(line->line.state == local::LineState::Sent);
        CPPUNIT_ASSERT(stateOf("seed1", 1) == local::LineState::Sent);
        CPPUNIT_ASSERT(_store->outbox.outbox().empty());
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > 1; }, 100ms));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL("talk," + line->line.sentTime + ",alice,hello, seed", _sink.sent[0].bytes);
        CPPUNIT_ASSERT(_sink.sent[0].to == kBob);
    }

    void testLegacyQueuedLinesTalkedOnceWhenPeerIsSeed()
    {
        WireLink::Settings quick = legacySettings();
        quick.retransmit = {10ms, 20ms, 60000ms};
        goOnline(quick, {});
        CPPUNIT_ASSERT(_link->sendTalk("seed1", "first").ok());
        CPPUNIT_ASSERT(_link->sendTalk("seed1", "second").ok());
        _sink.sent.clear();

        deliverHere(seedEntry("seed1", kBob, "seed"));
        const auto talks = sentStartingWith("talk,");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), talks.size());
        CPPUNIT_ASSERT(talks[0].to == kBob);
        CPPUNIT_ASSERT(std::regex_match(talks[0].bytes, std::regex("talk,[0-9:]+,alice,first")));
        CPPUNIT_ASSERT(std::regex_match(talks[1].bytes, std::regex("talk,[0-9:]+,alice,second")));
        CPPUNIT_ASSERT(hasStatus("seed1", 1, local::LineState::Sent));
        CPPUNIT_ASSERT(hasStatus("seed1", 2, local::LineState::Sent));
        CPPUNIT_ASSERT(_store->outbox.outbox().empty());
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > 2; }, 100ms));
    }

    // ---- offline lines through indexd -------------------------------------

    void testSendToOfflinePeerPostsSealedBox()
    {
        goOnline({entry("bob", kBob)});
        deliverGone("bob");
        const auto line = _link->sendTalk("bob", "while you were out, 你好");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT(line->line.state == local::LineState::Pending);
        endTurn();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT(_sink.sent[0].to == kIndex);
        CPPUNIT_ASSERT(_sink.sent[0].sealed());
        const std::string stream = streamTo("bob");
        const Post post = std::get<Post>(Protocol::decode(_sink.sent[0].text).value());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), post.to);
        CPPUNIT_ASSERT_EQUAL(stream, post.stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), post.seq);
        // indexd sees ciphertext only; bob opens it with his key and alice's.
        CPPUNIT_ASSERT(_sink.sent[0].text.find("while you were out") == std::string::npos);
        const Parsed<std::string> opened = OfflineBox::open(party("bob").identity, _alice.publicKey(), post.box);
        CPPUNIT_ASSERT(opened.ok());
        CPPUNIT_ASSERT_EQUAL("msg," + stream + ",1," + line->line.sentTime + ",alice,bob,while you were out, 你好", *opened);

        deliverFromIndex(Stored{"bob", stream, 1});
        CPPUNIT_ASSERT(hasStatus("bob", 1, local::LineState::Stored));
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Stored);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _store->outbox.outbox().size());
    }

    void testSendToNeverSeenPeerAsksIndexdForItsKey()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {5ms, 10ms, 60000ms};
        goOnline(quick, {});
        const auto line = _link->sendTalk("bob", "whoever you are");
        CPPUNIT_ASSERT(line.ok());
        CPPUNIT_ASSERT(line->line.state == local::LineState::Pending);
        // Without bob's key there is nothing to seal to: indexd is asked whose bob is, once.
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("whois,bob").empty(); }, 2s));
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return sentStartingWith("whois,bob").size() > 1; }, 100ms));
        CPPUNIT_ASSERT(sentStartingWith("post,").empty());

        deliverFromIndex(NameKey{"bob", party("bob").identity.publicKey()});
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("post,bob,").empty(); }, 5s));
        CPPUNIT_ASSERT(_pins->pinned("bob") == party("bob").identity.publicKey());
    }

    void testSendToUnknownNameWaitsUnsent()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {5ms, 10ms, 60000ms};
        goOnline(quick, {});
        CPPUNIT_ASSERT(_link->sendTalk("nobody", "hello?").ok());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("whois,nobody").empty(); }, 2s));
        deliverFromIndex(NameKey{"nobody", std::nullopt});
        // An answer nobody asked for pins nothing.
        deliverFromIndex(NameKey{"carol", party("carol").identity.publicKey()});
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return !sentStartingWith("post,").empty(); }, 100ms));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentStartingWith("whois,nobody").size());
        CPPUNIT_ASSERT(!_pins->pinned("carol"));
    }

    void testPostResentUntilStored()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {10ms, 20ms, 60000ms};
        _pins->see("bob", party("bob").identity.publicKey());
        goOnline(quick, {});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "keep it").ok());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _sink.sent.size() >= 3; }, 5s));
        for (const auto& datagram : _sink.sent) {
            CPPUNIT_ASSERT(datagram.text.rfind("post,bob," + streamTo("bob") + ",1,", 0) == 0);
            CPPUNIT_ASSERT(datagram.to == kIndex);
        }
        // Only indexd says what it keeps.
        deliverFrom("carol", Stored{"bob", streamTo("bob"), 1});
        deliver("stored,bob," + streamTo("bob") + ",1", kIndex);
        CPPUNIT_ASSERT(_listener.statuses.empty());
        deliverFromIndex(Stored{"bob", streamTo("bob"), 1});
        const std::size_t sentBefore = _sink.sent.size();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > sentBefore; }, 150ms));
        CPPUNIT_ASSERT(!hasStatus("bob", 1, local::LineState::Failed));
    }

    void testFullLeavesLineQueuedAndReportsOnce()
    {
        WireLink::Settings quick = settings();
        quick.retransmit = {10ms, 20ms, 60000ms};
        _pins->see("bob", party("bob").identity.publicKey());
        goOnline(quick, {});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "one").ok());
        CPPUNIT_ASSERT(_link->sendTalk("bob", "two").ok());
        const std::string stream = streamTo("bob");
        deliverFromIndex(Full{"bob", stream, 1});
        deliverFromIndex(Full{"bob", stream, 2});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.problems.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), _listener.problems[0].first);
        CPPUNIT_ASSERT_EQUAL(std::string("bob's mailbox at indexd is full: your lines to bob wait in the outbox and "
                                         "go out when bob is online"),
                             _listener.problems[0].second);
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _store->outbox.outbox().size());
        const std::size_t sentBefore = _sink.sent.size();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > sentBefore; }, 100ms));

        deliverHere(entry("bob", kBob));
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("msg,").size() >= 2; }, 5s));
    }

    void testFullReasonToldInWordsOncePerReason()
    {
        _pins->see("bob", party("bob").identity.publicKey());
        goOnline({});
        for (int line = 0; line < 3; ++line) CPPUNIT_ASSERT(_link->sendTalk("bob", "line").ok());
        const std::string stream = streamTo("bob");
        const std::string waits = ": your lines to bob wait in the outbox and go out when bob is online";
        const std::vector<std::pair<FullReason, std::string>> cases{
            {FullReason::Pair, "indexd holds as many of your lines for bob as it keeps from one sender for one person"},
            {FullReason::Sender,
             "indexd holds as many of your offline lines, to everyone, as it keeps from one sender"},
            {FullReason::Recipient,
             "bob's mailbox at indexd is full (it holds as many offline lines for one person as indexd keeps)"},
            {FullReason::Disk, "indexd has no room for offline lines now (its disk or its mailbox budget is full)"},
            {FullReason::Unknown, "indexd knows no user named bob and keeps no lines for bob"},
        };
        for (const auto& [reason, words] : cases) {
            _listener.problems.clear();
            // The same refusal again, for this line or the next, is not news.
            for (std::uint64_t seq = 1; seq <= 3; ++seq) deliverFromIndex(Full{"bob", stream, seq, reason});
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.problems.size());
            CPPUNIT_ASSERT_EQUAL(words + waits, _listener.problems[0].second);
        }
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Pending);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _store->outbox.outbox().size());

        // Once bob has come and gone, the same refusal is news again.
        deliverHere(entry("bob", kBob));
        deliverGone("bob");
        _listener.problems.clear();
        deliverFromIndex(Full{"bob", stream, 1, FullReason::Unknown});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.problems.size());
    }

    void testQueuedLinesGoDirectWhenPeerLogsIn()
    {
        _pins->see("bob", party("bob").identity.publicKey());
        goOnline({});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "first").ok());
        CPPUNIT_ASSERT(_link->sendTalk("bob", "second").ok());
        const std::string stream = streamTo("bob");
        deliverFromIndex(Stored{"bob", stream, 1});
        deliverFromIndex(Stored{"bob", stream, 2});
        _sink.sent.clear();

        deliverHere(entry("bob", kBob));
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("msg,").size() >= 2; }, 5s));
        const auto msgs = sentStartingWith("msg,");
        CPPUNIT_ASSERT(msgs[0].to == kBob);
        CPPUNIT_ASSERT_EQUAL("msg," + stream + ",1,", msgs[0].text.substr(0, stream.size() + 7));
        CPPUNIT_ASSERT_EQUAL("msg," + stream + ",2,", msgs[1].text.substr(0, stream.size() + 7));
        deliverFrom("bob", Ack{"bob", stream, 2, {}});
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Delivered);
        CPPUNIT_ASSERT(stateOf("bob", 2) == local::LineState::Delivered);
    }

    void testLinesToPeerThatLeftGoToIndex()
    {
        goOnline({entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "are you still there?").ok());
        CPPUNIT_ASSERT(sentStartingWith("post,").empty());
        deliverGone("bob");
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("post,").empty(); }, 5s));
        CPPUNIT_ASSERT(sentStartingWith("post,")[0].to == kIndex);
    }

    void testOutboxLeftInStoreGoesOutAfterStart()
    {
        _store->outbox.enqueue("bob", "alice", "11:00:00", 1, "from before");
        const OutboxEntry kept = _store->outbox.enqueue("carol", "alice", "11:00:01", 2, "kept by indexd");
        _store->lines.setState(ConversationId::direct("carol"), kept.lineId, local::LineState::Stored);
        _pins->see("carol", party("carol").identity.publicKey());
        goOnline({entry("bob", kBob)});
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("msg,").empty(); }, 5s));
        CPPUNIT_ASSERT_EQUAL("msg," + streamTo("bob") + ",1,11:00:00,alice,bob,from before",
                             sentStartingWith("msg,")[0].text);
        // carol's line is at indexd already: it waits for carol.
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return !sentStartingWith("post,").empty(); }, 100ms));
    }

    void testMailDeliveredOnceAndAckedToIndex()
    {
        goOnline({});
        const Msg msg{"c0c", 1, "09:00:00", "carol", "alice", "left while you were out"};
        deliverFromIndex(mailFrom(party("carol"), msg));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("carol"), _listener.lines[0].first.conversation.name());
        CPPUNIT_ASSERT_EQUAL(std::string("left while you were out"), _listener.lines[0].first.text);
        const auto acks = sentStartingWith("ack,");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), acks.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,c0c,1"), acks[0].text);
        CPPUNIT_ASSERT(acks[0].sealed());
        CPPUNIT_ASSERT(acks[0].to == kIndex);
        // First sight of carol's key: pinned.
        CPPUNIT_ASSERT(_pins->pinned("carol") == party("carol").identity.publicKey());

        // indexd delivers it again, then carol comes online and sends it directly: acked, not shown again.
        deliverFromIndex(mailFrom(party("carol"), msg));
        deliverHere(entry("carol", kCarol));
        deliverFrom("carol", msg);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,c0c,1"), _sink.sent.back().text);
        CPPUNIT_ASSERT(_sink.sent.back().to == kCarol);
    }

    void testReceiptOfMailTellsAnUnseenSenderItsLinesAreDelivered()
    {
        goOnline({});
        // carol is not seen (no contact): her line came in mail, and she
        // cannot hear the ack alice gives indexd. A receipt goes to her in
        // mail of her own: an ack sealed to her key, filed under her stream.
        deliverFromIndex(mailFrom(party("carol"), Msg{"c0c", 1, "09:00:00", "carol", "alice", "hello, stranger"}));
        const auto posts = sentStartingWith("post,carol,c0c,1,");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), posts.size());
        CPPUNIT_ASSERT(posts[0].to == kIndex && posts[0].sealed());
        const Post receipt = std::get<Post>(Protocol::decode(posts[0].text).value());
        const Parsed<std::string> opened = OfflineBox::open(party("carol").identity, _alice.publicKey(), receipt.box);
        CPPUNIT_ASSERT(opened.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("ack,alice,c0c,1"), *opened);

        // A second line on the stream: a receipt again, cumulative.
        deliverFromIndex(mailFrom(party("carol"), Msg{"c0c", 2, "09:00:01", "carol", "alice", "still there?"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentStartingWith("post,carol,c0c,2,").size());
        // Receipts count against alice's own mailbox budget: a writer on ever
        // new streams gets them for a few only.
        for (const char* stream : {"c1c", "c2c", "c3c", "c4c"})
            deliverFromIndex(mailFrom(party("carol"), Msg{stream, 1, "09:00:02", "carol", "alice", "new stream"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentStartingWith("post,carol,c3c,1,").size());
        CPPUNIT_ASSERT(sentStartingWith("post,carol,c4c,1,").empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentStartingWith("ack,alice,c4c,1").size());

        // A contact online hears the ack directly: no receipt.
        deliverHere(entry("carol", kCarol));
        deliverFromIndex(mailFrom(party("carol"), Msg{"c0c", 3, "09:00:03", "carol", "alice", "again"}));
        CPPUNIT_ASSERT(sentStartingWith("post,carol,c0c,3,").empty());
    }

    void testReceiptInMailMarksLinesDelivered()
    {
        _pins->see("bob", party("bob").identity.publicKey());
        goOnline({});
        CPPUNIT_ASSERT(_link->sendTalk("bob", "do we know each other?").ok());
        endTurn();
        const std::string stream = streamTo("bob");
        deliverFromIndex(Stored{"bob", stream, 1});
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Stored);

        // A receipt filed under another position than its ack says is not bob's word for it.
        const auto receiptFrom = [&](std::uint64_t filedAs, std::uint64_t acked) {
            const Ack ack{"bob", stream, acked, {}};
            return Mail{"bob", party("bob").identity.publicKey(), stream, filedAs,
                        OfflineBox::seal(party("bob").identity, _alice.publicKey(), Protocol::encode(ack))};
        };
        deliverFromIndex(receiptFrom(2, 1));
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Stored);
        CPPUNIT_ASSERT(sentStartingWith("ack,").empty());

        deliverFromIndex(receiptFrom(1, 1));
        CPPUNIT_ASSERT(hasStatus("bob", 1, local::LineState::Delivered));
        CPPUNIT_ASSERT(_store->outbox.outbox().empty());
        // indexd may forget the receipt.
        const auto acks = sentStartingWith("ack,alice," + stream + ",1");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), acks.size());
        CPPUNIT_ASSERT(acks[0].to == kIndex);
    }

    void testMailFromPinnedSenderWithOtherKeyDropped()
    {
        goOnline({entry("bob", kBob)});
        Party impostor = newParty("bob");
        deliverFromIndex(mailFrom(impostor, Msg{"b0b", 1, "09:00:00", "bob", "alice", "it's me, really"}));
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT(_pins->trustOf("bob") == local::Trust::Changed);
        CPPUNIT_ASSERT(_pins->pinned("bob") == party("bob").identity.publicKey());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.trusts.size());
        CPPUNIT_ASSERT(_listener.trusts[0].second == local::Trust::Changed);
    }

    void testMailNotMatchingItsMsgDropped()
    {
        goOnline({});
        Party& carol = party("carol");
        const Msg msg{"c0c", 1, "09:00:00", "carol", "alice", "hello"};
        // Another stream or seq in the header than in the box; a box from another sender; a box for someone else.
        Mail mail = mailFrom(carol, msg);
        mail.seq = 2;
        deliverFromIndex(mail);
        mail = mailFrom(carol, msg);
        mail.stream = "d0d";
        deliverFromIndex(mail);
        mail = mailFrom(carol, Msg{"c0c", 1, "09:00:00", "dave", "alice", "hello"});
        deliverFromIndex(mail);
        mail = mailFrom(carol, msg);
        mail.box = OfflineBox::seal(party("dave").identity, _alice.publicKey(), Protocol::encode(msg));
        deliverFromIndex(mail);
        mail = mailFrom(carol, msg);
        mail.box = OfflineBox::seal(carol.identity, party("bob").identity.publicKey(), Protocol::encode(msg));
        deliverFromIndex(mail);
        CPPUNIT_ASSERT(_listener.lines.empty());
        CPPUNIT_ASSERT(_sink.sent.empty());
    }

    // ---- heartbeats, relogin, presence numbers ----------------------------

    void testHeartbeatSealedCarriesPresenceSeq()
    {
        WireLink::Settings quick = settings();
        quick.heartbeat = 20ms;
        goOnline(quick, {entry("bob", kBob)});
        // The snapshot (1) and bob's entry (2).
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), _link->presenceSeq());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("alive,").empty(); }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,2"), sentStartingWith("alive,")[0].text);
        CPPUNIT_ASSERT(sentStartingWith("alive,")[0].to == kIndex);
        CPPUNIT_ASSERT(sentStartingWith("alive,")[0].sealed());
        deliverFromIndex(Seen{2});
        deliverHere(entry("carol", kCarol));
        const std::size_t before = sentStartingWith("alive,").size();
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("alive,").size() > before; }, 5s));
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,3"), sentStartingWith("alive,").back().text);
    }

    void testUnansweredAliveSentAgain()
    {
        WireLink::Settings slow = settings();
        slow.heartbeat = 1000ms;
        goOnline(slow, {entry("bob", kBob)});
        // Answered at once: not sent again (it would be a quarter heartbeat later).
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("alive,").empty(); }, 5s));
        deliverFromIndex(Seen{0});
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return sentStartingWith("alive,").size() > 1; }, 400ms));
        // Not answered: sent again, twice.
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("alive,").size() > 1; }, 5s));
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("alive,").size() >= 4; }, 5s));
        for (const auto& alive : sentStartingWith("alive,")) {
            CPPUNIT_ASSERT(alive.sealed());
            CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,2"), alive.text);
        }
        const auto alives = sentStartingWith("alive,");
        CPPUNIT_ASSERT(alives[2].at - alives[1].at >= 240ms);
        CPPUNIT_ASSERT(alives[3].at - alives[2].at >= 240ms);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
    }

    void testHeartbeatsJittered()
    {
        WireLink::Settings quick = settings();
        quick.heartbeat = 100ms;
        goOnline(quick, {entry("bob", kBob)});
        // indexd answers every alive at once, so each one is a heartbeat's.
        _sink.read = [this](std::string_view bytes, const Endpoint& to) {
            const std::string text = read(bytes, to);
            // Inside the running loop: its own turn runs what falls due.
            if (text.rfind("alive,", 0) == 0)
                _loop->runAfter(0ms, [this] { _link->handleDatagram(_index->seal(*_aliceKx, Seen{0}), kIndex); });
            return text;
        };
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("alive,").size() > 10; }, 10s));
        const auto alives = sentStartingWith("alive,");
        std::vector<std::chrono::steady_clock::duration> gaps;
        for (std::size_t i = 1; i < alives.size(); ++i) gaps.push_back(alives[i].at - alives[i - 1].at);
        const auto [shortest, longest] = std::minmax_element(gaps.begin(), gaps.end());
        // 90 to 110 ms; timers never fire early, a loaded machine may make them late.
        CPPUNIT_ASSERT(*shortest >= 85ms);
        CPPUNIT_ASSERT(*longest - *shortest >= 5ms);
    }

    void testSilentIndexMeansRelogin()
    {
        WireLink::Settings quick = settings();
        quick.heartbeat = 10ms;
        quick.loginRetry = 10000ms;
        goOnline(quick, {entry("bob", kBob)});
        // A plain seen from indexd's address proves nothing.
        deliver("seen,0", kIndex);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _link->state() == local::LinkState::Connecting; }, 5s));
        CPPUNIT_ASSERT(_listener.states.back().second.find("no answer from indexd at 127.0.0.1:9400 to 3 heartbeats")
                       == 0);
        CPPUNIT_ASSERT(_sink.sent.back().bytes.rfind("hello,alice,", 0) == 0);
        // Silence is counted in heartbeats, so a loop that wakes late still asks three times first.
        CPPUNIT_ASSERT(sentStartingWith("alive,").size() >= 3);

        // The new login declares the contact list again, and its snapshot brings it online.
        const std::size_t lists = sentStartingWith("contacts,alice,").size();
        login();
        CPPUNIT_ASSERT(sentStartingWith("contacts,alice,").size() > lists);
        deliverSnapshot({});
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
    }

    void testReloginHintLogsInAgainWithNewKeys()
    {
        WireLink::Settings quick = settings();
        quick.loginRetry = 50ms;
        goOnline(quick, {entry("bob", kBob)});
        const PublicKey firstKx = *_aliceKx;
        deliver("relogin,bob", kIndex);
        deliver("relogin", kBob);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(_sink.sent.empty());

        // First a sealed alive; with no seen in answer within loginRetry, a new login.
        deliver("relogin", kIndex);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT(_sink.sent[0].sealed());
        CPPUNIT_ASSERT_EQUAL(std::string("alive,alice,2"), _sink.sent[0].text);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return _link->state() == local::LinkState::Connecting; }, 5s));
        CPPUNIT_ASSERT(_listener.states.back().second.find("no seen answered the alive within 50 ms") !=
                       std::string::npos);
        CPPUNIT_ASSERT(_sink.sent.back().bytes.rfind("hello,alice,", 0) == 0);
        // indexd restarted: new keys, a new epoch; carol is online now, not bob, and presence counts from 1 again.
        _index->renewKx();
        _epoch[0] ^= 0xff;
        login();
        CPPUNIT_ASSERT(*_aliceKx != firstKx);
        deliverSnapshot({entry("carol", kCarol)});
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), _link->presenceSeq());
        deliverHere(entry("dave", kDave));
        CPPUNIT_ASSERT(_roster->find("dave") != nullptr);
    }

    void testLetterRefusedForAnUnknownNameEndsTheRequest()
    {
        // bob's key is pinned from the roster, so the request goes without a
        // whois; indexd, which lost bob, refuses the letter as for nobody.
        goOnline({entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->changeContact(ContactMail::Change::Add, "bob", "hi").empty());
        const auto posts = sentStartingWith("post,bob,");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), posts.size());
        const auto post = Protocol::decode(posts[0].text);
        CPPUNIT_ASSERT(post.ok() && std::holds_alternative<Post>(*post));
        const Post& sent = std::get<Post>(*post);
        deliverFromIndex(Full{"bob", sent.stream, sent.seq, FullReason::Unknown});
        CPPUNIT_ASSERT(_link->contacts().find("bob")->relation == Relation::None);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.contactProblems.size());
        CPPUNIT_ASSERT(_listener.contactProblems[0].second.find("indexd knows no user named bob") == 0);
    }

    void testContactListGoesAfterWelcomeUntilIndexdHoldsIt()
    {
        WireLink::Settings quick = settings();
        quick.loginRetry = 100ms;
        goOnline(quick, {entry("bob", kBob)});
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("contacts,alice,").size() >= 2; }, 2s));
        const auto list = Protocol::decode(sentStartingWith("contacts,alice,").back().text);
        CPPUNIT_ASSERT(list.ok() && std::holds_alternative<ContactsDeclaration>(*list));
        const ContactsDeclaration& declared = std::get<ContactsDeclaration>(*list);
        CPPUNIT_ASSERT(declared.names.empty() && declared.part == 1 && declared.parts == 1);
        CPPUNIT_ASSERT(declared.state == PresenceState::Online && declared.status.empty());
        CPPUNIT_ASSERT(SigningKey::verify(_alice.publicKey(), SignedStatement::contacts(declared), declared.sig));
        deliverFromIndex(Declared{declared.version});
        const std::size_t sent = sentStartingWith("contacts,").size();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return sentStartingWith("contacts,").size() > sent; }, 4 * quick.loginRetry));
    }

    void testReloginHintAnsweredBySeenKeepsLogin()
    {
        WireLink::Settings quick = settings();
        quick.loginRetry = 100ms;
        goOnline(quick, {entry("bob", kBob)});
        const PublicKey firstKx = *_aliceKx;
        deliver("relogin", kIndex);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentStartingWith("alive,alice,2").size());
        CPPUNIT_ASSERT(sentStartingWith("alive,")[0].sealed());
        // indexd still holds the session: the relogin was forged.
        deliverFromIndex(Seen{2});
        // Another hint at once is not taken: at most one per loginRetry.
        deliver("relogin", kIndex);
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return !sentStartingWith("hello,").empty(); }, 4 * quick.loginRetry));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentBesidesContactLists());
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(_listener.states.empty());
        CPPUNIT_ASSERT(*_aliceKx == firstKx);
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
    }

    void testPresenceGapAsksForSnapshotAgain()
    {
        goOnline({entry("bob", kBob)});
        const ContactsDeclaration first = lastDeclaration();
        deliverHere(entry("carol", kCarol));
        // 4 was lost: dave waits for it, and the contact list goes again.
        deliverFromIndex(numbered(entry("dave", kDave), 5));
        CPPUNIT_ASSERT(_roster->find("dave") == nullptr);
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("contacts,alice,").empty(); }, 5s));
        CPPUNIT_ASSERT_EQUAL(first.version, lastDeclaration().version);
        // indexd answers with a fresh snapshot, which knows of erin too.
        deliverSnapshot({entry("bob", kBob), entry("carol", kCarol), entry("dave", kDave), entry("erin", kErin)}, 6);
        CPPUNIT_ASSERT(_roster->find("dave") != nullptr && _roster->find("erin") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(10), _link->presenceSeq());
        // In order again: nothing more is asked.
        const std::size_t lists = sentStartingWith("contacts,").size();
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return sentStartingWith("contacts,").size() > lists; }, 100ms));
        CPPUNIT_ASSERT(_listener.states.empty());
    }

    void testOldPresenceIgnored()
    {
        goOnline({entry("bob", kBob)});
        deliverGone("bob");
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        // A here numbered before the gone, sealed anew, and the gone's own datagram again: nothing changes.
        deliverFromIndex(numbered(entry("bob", kBob), 2));
        const std::string gone = _index->seal(*_aliceKx, Gone{4, "bob"});
        deliver(gone, kIndex);
        deliverFromIndex(numbered(entry("bob", kBob), 5));
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        deliver(gone, kIndex);
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("seal refused", Poco::Message::PRIO_DEBUG));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), _link->presenceSeq());
    }

    void testSeenAheadAsksForSnapshotAgain()
    {
        goOnline({entry("bob", kBob)});
        deliverFromIndex(Seen{2});
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return !sentStartingWith("contacts,").empty(); }, 50ms));
        // indexd sent bob's gone as 3, which never came.
        deliverFromIndex(Seen{3});
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("contacts,alice,").empty(); }, 5s));
        deliverSnapshot({}, 4);
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), _link->presenceSeq());
        const std::size_t lists = sentStartingWith("contacts,").size();
        deliverFromIndex(Seen{4});
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return sentStartingWith("contacts,").size() > lists; }, 50ms));
    }

    void testFreshSnapshotReportsWhoLeftAndCame()
    {
        goOnline({entry("bob", kBob), entry("carol", kCarol)});
        deliverSnapshot({entry("carol", kCarol), entry("dave", kDave)});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _listener.presence.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), _listener.presence[0].name);
        CPPUNIT_ASSERT(!_listener.presence[0].online);
        CPPUNIT_ASSERT_EQUAL(std::string("dave"), _listener.presence[1].name);
        CPPUNIT_ASSERT(_listener.presence[1].online);
        // Still online: a snapshot is no new login.
        CPPUNIT_ASSERT(_listener.states.empty());
    }

    void testNoSnapshotAfterWelcomeDeclaresAgain()
    {
        _link->start();
        login();
        const std::size_t lists = sentStartingWith("contacts,alice,").size();
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("contacts,alice,").size() >= lists + 2; }, 5s));
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Connecting);
        CPPUNIT_ASSERT_MESSAGE(_listener.states.back().second,
                               _listener.states.back().second.find("indexd has not said who is online yet") == 0);
        deliverSnapshot({entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        // Asked again without a new login.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentStartingWith("hello,").size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentStartingWith("auth,").size());
    }

    void testNoSnapshotWhileConnectingLogsInAgain()
    {
        WireLink::Settings quick = settings();
        quick.loginRetry = 300ms;
        makeLink(quick);
        _link->start();
        login();
        // Asked after 5, 5, 10, 20, 40 and 80 ms; then the next hello logs in again.
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return sentStartingWith("hello,").size() > 1; }, 5s));
        CPPUNIT_ASSERT(_listener.states.back().second.find("; logging in again") != std::string::npos);
        login();
        deliverSnapshot({entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
    }

    // ---- the own state ----------------------------------------------------

    void testStatusChangeDeclaresANewVersion()
    {
        goOnline({entry("bob", kBob)});
        const ContactsDeclaration first = lastDeclaration();
        deliverFromIndex(Declared{first.version});
        _sink.sent.clear();
        CPPUNIT_ASSERT(_link->setStatus(PresenceState::Busy, "in a meeting").empty());
        CPPUNIT_ASSERT_EQUAL(1, _listener.ownStatusChanges);
        const ContactsDeclaration busy = lastDeclaration();
        CPPUNIT_ASSERT(busy.version > first.version);
        CPPUNIT_ASSERT(busy.state == PresenceState::Busy);
        CPPUNIT_ASSERT_EQUAL(std::string("in a meeting"), busy.status);
        CPPUNIT_ASSERT(SigningKey::verify(_alice.publicKey(), SignedStatement::contacts(busy), busy.sig));
        // A refused message changes nothing and declares nothing.
        _sink.sent.clear();
        CPPUNIT_ASSERT(!_link->setStatus(PresenceState::Away, std::string(200, 'x')).empty());
        CPPUNIT_ASSERT(sentStartingWith("contacts,").empty());
        // indexd answers the new list with a snapshot, numbered after what it sent.
        deliverFromIndex(Declared{busy.version});
        deliverSnapshot({entry("bob", kBob)});
        CPPUNIT_ASSERT(_listener.presence.empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), _link->presenceSeq());
    }

    // An invisible user's peers do not see it, and take nothing directly
    // from it: its lines go through indexd's mailbox, which hands them over at once.
    void testInvisibleUserPostsLinesThroughIndex()
    {
        goOnline({entry("bob", kBob)});
        CPPUNIT_ASSERT(_link->setStatus(PresenceState::Invisible, "").empty());
        CPPUNIT_ASSERT(lastDeclaration().state == PresenceState::Invisible);
        _sink.sent.clear();
        CPPUNIT_ASSERT(_link->sendTalk("bob", "from nowhere").ok());
        _link->sendTyping("bob");
        endTurn();
        CPPUNIT_ASSERT(sentStartingWith("msg,").empty());
        CPPUNIT_ASSERT(sentStartingWith("typing,").empty());
        const auto posts = sentStartingWith("post,bob,");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), posts.size());
        CPPUNIT_ASSERT(posts[0].to == kIndex);
        // indexd keeps it: it waits there, not sent again to bob.
        deliverFromIndex(Stored{"bob", streamTo("bob"), 1});
        CPPUNIT_ASSERT(stateOf("bob", 1) == local::LineState::Stored);
        // Lines from bob, through the mailbox too, are taken.
        deliverFromIndex(mailFrom(party("bob"), Msg{"b0b", 1, "12:00:01", "bob", "alice", "who's there?"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _listener.lines.size());
        // Visible again: what waits goes to bob directly.
        _sink.sent.clear();
        CPPUNIT_ASSERT(_link->setStatus(PresenceState::Online, "").empty());
        CPPUNIT_ASSERT(runUntil(*_loop, [&] { return !sentStartingWith("msg,").empty(); }, 5s));
        CPPUNIT_ASSERT(sentStartingWith("msg,")[0].to == kBob);
    }

private:
    static WireLink::Settings settings()
    {
        WireLink::Settings settings;
        settings.self = "alice";
        settings.index = kIndex;
        settings.loginRetry = 2000ms;
        settings.heartbeat = 10000ms;
        settings.presenceRetry = 5ms;
        settings.dropReport = 10000ms;
        settings.retransmit = {300ms, 8000ms, 60000ms};
        settings.receiveWindow = 16;
        return settings;
    }

    static WireLink::Settings legacySettings()
    {
        WireLink::Settings legacy = settings();
        legacy.legacy = true;
        return legacy;
    }

    /// Starts a link that sends a hello every 10 ms.
    void startRetryingQuickly()
    {
        WireLink::Settings quick = settings();
        quick.loginRetry = 10ms;
        makeLink(quick);
        _link->start();
    }

    void makeLink(const WireLink::Settings& settings)
    {
        _link.reset();
        _link = std::make_unique<WireLink>(*_loop, _sink, *_roster, *_store, *_pins, _alice, _listener, settings,
                                           [this](const std::string& why) { _refusal = why; });
    }

    Party& party(const std::string& name) { return _parties.at(name); }

    /// What the recipient of a datagram from alice reads in it.
    std::string read(std::string_view bytes, const Endpoint& to)
    {
        const Parsed<Inbound> inbound = Protocol::decodeDatagram(bytes);
        if (!inbound || !std::holds_alternative<Seal>(inbound->message)) return std::string(bytes);
        Party* recipient = to == kIndex ? _index.get() : nullptr;
        for (auto& [name, candidate] : _parties) {
            if (endpointOf(name) == to) recipient = &candidate;
        }
        if (recipient == nullptr || !_aliceKx) return "unreadable seal";
        const Parsed<std::string> opened = recipient->sessionWith(*_aliceKx).open(std::get<Seal>(inbound->message));
        if (!opened) return "unreadable seal: " + opened.error();
        const Parsed<Message> message = Protocol::decode(*opened);
        if (recipient == _index.get() && message && std::holds_alternative<ContactsDeclaration>(*message))
            _declarations.push_back(std::get<ContactsDeclaration>(*message));
        return *opened;
    }

    static Endpoint endpointOf(const std::string& name)
    {
        static const std::map<std::string, Endpoint> endpoints{
            {"bob", kBob}, {"carol", kCarol}, {"dave", kDave}, {"erin", kErin}};
        return endpoints.at(name);
    }

    Nonce nextNonce()
    {
        Nonce nonce{};
        nonce[0] = static_cast<std::uint8_t>(++_nonces);
        nonce[1] = static_cast<std::uint8_t>(_nonces >> 8);
        return nonce;
    }

    /// The HNONCE of the hello alice sent last.
    Nonce lastHelloNonce() const
    {
        for (auto it = _sink.sent.rbegin(); it != _sink.sent.rend(); ++it) {
            const Parsed<Message> message = Protocol::decode(it->bytes);
            if (message && std::holds_alternative<Hello>(*message)) return std::get<Hello>(*message).nonce.value();
        }
        CPPUNIT_FAIL("alice sent no hello");
        return {};
    }

    /// indexd's challenge to the hello alice sent last, echoing its nonce.
    Challenge challengeToLastHello() { return signedChallenge(*_index, lastHelloNonce(), kSelf); }

    /// A challenge for alice at observed echoing echo, signed by index for this run.
    Challenge signedChallenge(const Party& index, const Nonce& echo, const Endpoint& observed)
    {
        Challenge challenge{"alice", observed, nextNonce(), echo, _epoch, index.identity.publicKey(), {}};
        challenge.sig = index.identity.sign(SignedStatement::challenge(challenge));
        return challenge;
    }

    /// kx, someone else's key-exchange key, under claimant's identity with
    /// claimant's own KXSIG for this run: what a user who borrows a key announces.
    PeerKeys keysClaiming(const Party& claimant, const PublicKey& kx) const
    {
        return PeerKeys{claimant.identity.publicKey(), kx,
                        claimant.identity.sign(SignedStatement::kx(claimant.identity.publicKey(), claimant.name, kx,
                                                                   _index->identity.publicKey(), _epoch))};
    }

    /// name, a peer of this test's indexd run.
    Party newParty(const std::string& name) const
    {
        return Party(name, _alice.publicKey(), _index->identity.publicKey(), _epoch);
    }

    /// indexd's refusal, for reason, of the hello alice sent last.
    std::string refusalOfLastHello(const std::string& reason) const
    {
        return Protocol::encode(Refuse{"alice", reason, lastHelloNonce()});
    }

    /// The auth alice sent last.
    Auth lastAuth() const
    {
        for (auto it = _sink.sent.rbegin(); it != _sink.sent.rend(); ++it) {
            const Parsed<Message> message = Protocol::decode(it->bytes);
            if (message && std::holds_alternative<Auth>(*message)) return std::get<Auth>(*message);
        }
        CPPUNIT_FAIL("alice sent no auth");
        return {};
    }

    Welcome welcomeFor(const Party& index) const
    {
        return Welcome{"alice", _epoch, index.identity.publicKey(), index.kx.publicKey(), {}};
    }

    /// indexd's side of a login: a challenge, then a welcome for the auth it brings.
    void login()
    {
        const Challenge challenge = challengeToLastHello();
        const Nonce nonce = challenge.nonce;
        deliver(Protocol::encode(challenge), kIndex);
        const Auth auth = lastAuth();
        CPPUNIT_ASSERT(auth.nonce == nonce);
        _aliceKx = auth.keys.kx;
        _presenceSeq = 0;
        Welcome welcome = welcomeFor(*_index);
        welcome.sig = _index->identity.sign(SignedStatement::welcome(welcome, nonce));
        deliver(Protocol::encode(welcome), kIndex);
    }

    /// name, a peerchat/3 peer of this test's indexd run, online at at (its here, not numbered yet).
    Here entry(const std::string& name, const Endpoint& at) { return Here{0, name, at, kPeerchat, party(name).keys()}; }

    /// A seed or .NET user (dialect), which has no keys, online at at.
    static Here seedEntry(const std::string& name, const Endpoint& at, const std::string& dialect)
    {
        return Here{0, name, at, dialect, std::nullopt};
    }

    static Here numbered(Here here, std::uint64_t seq)
    {
        here.seq = seq;
        return here;
    }

    /// indexd's snapshot of users, as it sends one: the snapshot and its
    /// entries in one bundle, numbered from seq (the next number when 0).
    void deliverSnapshot(const std::vector<Here>& users, std::uint64_t seq = 0)
    {
        if (seq != 0) _presenceSeq = seq - 1;
        std::vector<Message> bundle{Snapshot{++_presenceSeq, users.size()}};
        for (const Here& user : users) bundle.emplace_back(numbered(user, ++_presenceSeq));
        deliver(_index->sealBundle(*_aliceKx, bundle), kIndex);
    }

    /// indexd's here of user, numbered next.
    void deliverHere(const Here& user) { deliverFromIndex(numbered(user, ++_presenceSeq)); }

    /// indexd's gone of name, numbered next.
    void deliverGone(const std::string& name) { deliverFromIndex(Gone{++_presenceSeq, name}); }

    /// The last contact list part alice sent indexd.
    ContactsDeclaration lastDeclaration() const
    {
        CPPUNIT_ASSERT_MESSAGE("alice declared no contact list", !_declarations.empty());
        return _declarations.back();
    }

    /// indexd's mail of msg, posted by sender.
    Mail mailFrom(const Party& sender, const Msg& msg) const
    {
        return Mail{sender.name, sender.identity.publicKey(), msg.stream, msg.seq,
                    OfflineBox::seal(sender.identity, _alice.publicKey(), Protocol::encode(msg))};
    }

    /// Logs in with settings, indexd's snapshot holding users; returns once
    /// the link is online, the sink emptied.
    void goOnline(const WireLink::Settings& settings, const std::vector<Here>& users)
    {
        makeLink(settings);
        _link->start();
        login();
        deliverSnapshot(users);
        CPPUNIT_ASSERT(_link->state() == local::LinkState::Online);
        _sink.sent.clear();
        _listener.presence.clear();
        _listener.states.clear();
    }

    void goOnline(const std::vector<Here>& users) { goOnline(settings(), users); }

    /// After a refusal nothing more goes to indexd, retries included.
    void assertSilentTowardsIndex()
    {
        const std::size_t sent = _sink.sent.size();
        _link->logout();
        deliver(Protocol::encode(challengeToLastHello()), kIndex);
        CPPUNIT_ASSERT(!runUntil(*_loop, [&] { return _sink.sent.size() > sent; }, 50ms));
    }

    /// The datagrams sent so far whose recipient reads text starting with prefix.
    /// What was sent but the contact lists peerd declares after each welcome (until indexd holds one).
    std::size_t sentBesidesContactLists() const { return _sink.sent.size() - sentStartingWith("contacts,").size(); }

    std::vector<RecordingSink::Datagram> sentStartingWith(const std::string& prefix) const
    {
        std::vector<RecordingSink::Datagram> found;
        for (const auto& datagram : _sink.sent) {
            if (datagram.text.rfind(prefix, 0) == 0) found.push_back(datagram);
        }
        return found;
    }

    /// The outgoing stream to peer, as the store's outbox names it.
    std::string streamTo(const std::string& peer) const
    {
        for (const OutboxEntry& entry : _store->outbox.outbox()) {
            if (entry.peer == peer) return entry.stream;
        }
        CPPUNIT_FAIL("no line to " + peer + " in the outbox");
        return {};
    }

    bool hasStatus(const std::string& peer, std::uint64_t id, local::LineState state) const
    {
        for (const local::StatusEvent& status : _listener.statuses) {
            if (status.conversation.name() == peer && status.id == id && status.state == state) return true;
        }
        return false;
    }

    local::LineState stateOf(const std::string& peer, std::uint64_t id) const
    {
        for (const local::ChatLine& line : _store->lines.history(ConversationId::direct(peer))) {
            if (line.id == id) return line.state;
        }
        CPPUNIT_FAIL("no line " + std::to_string(id) + " with " + peer);
        return local::LineState::Received;
    }

    // One datagram read, then the rest of the loop's turn.
    void deliver(const std::string& text, const Endpoint& from)
    {
        _link->handleDatagram(text, from);
        endTurn();
    }

    // The rest of the loop's turn: timers due at once (the acks, the lines made due in it) run.
    void endTurn() { runUntil(*_loop, [] { return true; }, 0ms); }

    void deliverFrom(const std::string& name, const Message& message)
    {
        deliver(party(name).seal(*_aliceKx, message), endpointOf(name));
    }

    void deliverFromIndex(const Message& message) { deliver(_index->seal(*_aliceKx, message), kIndex); }

    const SigningKey _alice = SigningKey::generate();
    std::unique_ptr<EventLoop> _loop;
    RecordingSink _sink;
    std::unique_ptr<Roster> _roster;
    std::unique_ptr<PeerStore> _store;
    std::unique_ptr<KeyPins> _pins;
    RecordingListener _listener;
    std::optional<std::string> _refusal;
    std::unique_ptr<Party> _index;
    std::map<std::string, Party> _parties;
    std::optional<PublicKey> _aliceKx;
    Epoch _epoch{1, 2, 3, 4, 5, 6, 7, 8};
    int _nonces = 0;
    Poco::AutoPtr<LogRecorder> _log;
    std::uint64_t _presenceSeq = 0;  ///< the last presence number indexd sent in this login
    std::vector<ContactsDeclaration> _declarations;  ///< every contact list part alice sent indexd
    std::unique_ptr<WireLink> _link;
};

CPPUNIT_TEST_SUITE_REGISTRATION(WireLinkTest);
