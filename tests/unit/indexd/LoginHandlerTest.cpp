#include "Base64.h"
#include "Broadcaster.h"
#include "Directory.h"
#include "IndexDatabase.h"
#include "IndexIdentity.h"
#include "KeyRegistry.h"
#include "LoginHandler.h"
#include "MailCarrier.h"
#include "Mailbox.h"
#include "OfflineBox.h"
#include "PresenceRouter.h"
#include "RateLimiter.h"
#include "SealedSender.h"
#include "SignedStatement.h"
#include "TurnCredentials.h"
#include "TurnRelay.h"

#include "BadDatagrams.h"
#include "RecordingSink.h"
#include "RoomyMailLimits.h"
#include "SeedClient.h"
#include "TestPeer.h"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>

#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <memory>
#include <set>

using peerchat::Ack;
using peerchat::Alive;
using peerchat::Auth;
using peerchat::Broadcaster;
using peerchat::ContactsDeclaration;
using peerchat::CandidateList;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::DropReason;
using peerchat::Endpoint;
using peerchat::Hello;
using peerchat::IndexDatabase;
using peerchat::IndexIdentity;
using peerchat::KeyRegistry;
using peerchat::Gone;
using peerchat::Here;
using peerchat::Login;
using peerchat::LoginHandler;
using peerchat::Logout;
using peerchat::Mail;
using peerchat::MailCarrier;
using peerchat::Meet;
using peerchat::Mailbox;
using peerchat::NameKey;
using peerchat::Message;
using peerchat::Nonce;
using peerchat::OfflineBox;
using peerchat::Post;
using peerchat::PresenceRouter;
using peerchat::PresenceState;
using peerchat::Punch;
using peerchat::Protocol;
using peerchat::RateLimiter;
using peerchat::Refuse;
using peerchat::RosterPorts;
using peerchat::Seal;
using peerchat::SealedSender;
using peerchat::Seen;
using peerchat::SignedStatement;
using peerchat::SigningKey;
using peerchat::Snapshot;
using peerchat::Stored;
using peerchat::Turn;
using peerchat::TurnCredentials;
using peerchat::TurnRelay;
using peerchat::Welcome;
using peerchat::Whois;
using peerchat::test::endpoint;
using peerchat::test::RecordingSink;
using peerchat::test::TestPeer;
using peerchat::test::toUtf16le;
using std::chrono::milliseconds;

namespace {

const RosterPorts kPorts{4001, 4002};
constexpr milliseconds kExpireAfter{700};
constexpr milliseconds kRedeliverEvery{1000};
constexpr std::uint64_t kWallStart = 1700000000000;
constexpr std::uint64_t kTtlSeconds = 12 * 3600;
const std::string kTurnSecret = "s3cret-of-coturn";
const std::string kTurnServer = "192.0.2.7:3478";

std::vector<std::string> strings(std::initializer_list<std::string> items)
{
    return std::vector<std::string>(items);
}

Poco::Net::IPAddress address(const std::string& text)
{
    return Poco::Net::IPAddress(text);
}

// A hello nonce whose bytes are all seed.
Nonce nonce(unsigned char seed)
{
    Nonce n{};
    n.fill(seed);
    return n;
}

// The refusal in datagram, which must be one.
Refuse refusal(const std::string& datagram)
{
    const auto message = Protocol::decode(datagram);
    CPPUNIT_ASSERT_MESSAGE(datagram, message && std::holds_alternative<Refuse>(*message));
    return std::get<Refuse>(*message);
}

// Keeps the text of every log message.
class RecordingChannel : public Poco::Channel
{
public:
    void log(const Poco::Message& message) override { lines.push_back(message.getText()); }

    std::size_t count(const std::string& needle) const
    {
        std::size_t n = 0;
        for (const auto& line : lines) n += line.find(needle) != std::string::npos;
        return n;
    }

    std::vector<std::string> lines;
};

} // namespace

class LoginHandlerTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LoginHandlerTest);
    CPPUNIT_TEST(testHelloAnsweredWithChallengeToSource);
    CPPUNIT_TEST(testChallengeAndRefusalEchoHelloNonce);
    CPPUNIT_TEST(testRefusalsOfAuthEchoItsNonce);
    CPPUNIT_TEST(testShortHelloGetsNoChallenge);
    CPPUNIT_TEST(testHelloOfOtherVersionRefused);
    CPPUNIT_TEST(testAuthWelcomedWithSignedWelcome);
    CPPUNIT_TEST(testAuthBindsNameToKeyOnFirstLogin);
    CPPUNIT_TEST(testDatabaseFailureCountedNotLoggedPerDatagram);
    CPPUNIT_TEST(testLoginSeenByMutualContactsOnly);
    CPPUNIT_TEST(testPunchOfUserNotSeenDropped);
    CPPUNIT_TEST(testSameAuthTwiceDroppedAsReplay);
    CPPUNIT_TEST(testAuthWithOlderStampDroppedAsReplay);
    CPPUNIT_TEST(testAuthForNameOfAnotherKeyRefusedKey);
    CPPUNIT_TEST(testAuthWithBadSignatureRefusedAuth);
    CPPUNIT_TEST(testAuthWithBadKxSignatureRefusedAuth);
    CPPUNIT_TEST(testAuthToExpiredChallengeRefusedAuth);
    CPPUNIT_TEST(testAuthToChallengeOfAnotherRunRefusedAuth);
    CPPUNIT_TEST(testAuthFromOtherSourceThanObservedDropped);
    CPPUNIT_TEST(testAuthOfNameOnlineElsewhereRefusedTaken);
    CPPUNIT_TEST(testReloginWithNewKxAnnouncedAgain);
    CPPUNIT_TEST(testReloginWithSameKeysKeepsSession);
    CPPUNIT_TEST(testLoginWithKxOfEndedSessionRefusedAuth);
    CPPUNIT_TEST(testAuthWithKxOfAnotherLiveUserRefusedAuth);
    CPPUNIT_TEST(testAuthWithKxSigOfAnotherRunRefusedAuth);
    CPPUNIT_TEST(testLoginsOfOneIdentityLimitedRefusedBusy);
    CPPUNIT_TEST(testOversizeDatagramDropped);
    CPPUNIT_TEST(testFloodFromOneAddressRateLimited);
    CPPUNIT_TEST(testDropsCountedAndSummedUpNotLoggedEach);
    CPPUNIT_TEST(testSealsOfLoggedInUserNotRateLimited);
    CPPUNIT_TEST(testRepliesNeverLargerThanRequests);
    CPPUNIT_TEST(testSealedAliveAnsweredSealedSeen);
    CPPUNIT_TEST(testSealedAliveForAnotherNameDropped);
    CPPUNIT_TEST(testReplayedSealDropped);
    CPPUNIT_TEST(testSealFromUnknownSourceAnsweredBareRelogin);
    CPPUNIT_TEST(testSealOfSessionFromNewEndpointMovesUser);
    CPPUNIT_TEST(testSealFromEndpointOfAnotherUserMovesNothing);
    CPPUNIT_TEST(testMovesOfOneIdentityLimitedWithItsLogins);
    CPPUNIT_TEST(testAliveCandidatesHandedOutInMeet);
    CPPUNIT_TEST(testPunchOfOfflineSeedOrSelfSendsNothing);
    CPPUNIT_TEST(testPunchFloodYieldsAtMostLimitOfMeets);
    CPPUNIT_TEST(testWhoisAnswersTheKeyANameIsBoundTo);
    CPPUNIT_TEST(testWhoisFloodYieldsAtMostItsLimit);
    CPPUNIT_TEST(testSignedContactListIsHeldAndAnswered);
    CPPUNIT_TEST(testContactListNotSignedByItsUserIsDropped);
    CPPUNIT_TEST(testWelcomeFollowedBySealedTurn);
    CPPUNIT_TEST(testRepeatedWelcomeFollowedByTurnAgain);
    CPPUNIT_TEST(testTurnRenewedByAliveOnceHalfSpent);
    CPPUNIT_TEST(testNoTurnWithoutRelay);
    CPPUNIT_TEST(testIntroductionGrantsRequesterTurnAgain);
    CPPUNIT_TEST(testSealBetweenOldKeysAnsweredBareRelogin);
    CPPUNIT_TEST(testSealedLogoutTellsContactsGone);
    CPPUNIT_TEST(testPlainLogoutAliveAndAckDropped);
    CPPUNIT_TEST(testPostStoredAndDeliveredAsMailWithSenderKey);
    CPPUNIT_TEST(testSilentPeerchatUserExpiredAndAnnounced);
    CPPUNIT_TEST(testHeartbeatsKeepPeerchatUserOnline);
    CPPUNIT_TEST(testBadDatagramsAnsweredByNothing);
    CPPUNIT_TEST(testPeerchatVerbsInUtf16Dropped);
    CPPUNIT_TEST(testPlainLoginRefusedLegacyWithoutLegacy);
    CPPUNIT_TEST(testDotNetLoginNamingAnotherAddressAnsweredOnlyAtSource);
    CPPUNIT_TEST(testPlainPeerchatLoginRefusedVersion);
    CPPUNIT_TEST(testLegacyLoginAcceptedAtSourceAndAnnounced);
    CPPUNIT_TEST(testLegacyLoginOnlineOnlyOnceRosterConnectionProvesIt);
    CPPUNIT_TEST(testUnprovenLegacyLoginForgottenAfterProofTime);
    CPPUNIT_TEST(testLegacyLoginReplacesUnprovenLoginOfSameName);
    CPPUNIT_TEST(testLegacyLogoutBeforeProofForgetsLogin);
    CPPUNIT_TEST(testLegacyLoginsOfOneAddressLimitedRefusedBusy);
    CPPUNIT_TEST(testLegacyDotNetLoginAtWrittenEndpointInUtf16);
    CPPUNIT_TEST(testLegacyLoginOfBoundNameRefusedKey);
    CPPUNIT_TEST(testLegacyLoginCannotDisplacePeerchatUser);
    CPPUNIT_TEST(testLegacyLogoutOnlyFromRegisteredEndpoint);
    CPPUNIT_TEST(testLegacyUsersNeverExpire);
    CPPUNIT_TEST(testPresenceNumberedPerRecipient);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _directory = std::make_unique<Directory>();
        _sink = std::make_unique<RecordingSink>();
        _identity = std::make_unique<IndexIdentity>(SigningKey::generate());
        _broadcaster = std::make_unique<Broadcaster>(*_directory, *_sink);
        _database = std::make_unique<IndexDatabase>(":memory:");
        _mailbox = std::make_unique<Mailbox>(*_database, peerchat::test::roomyMailLimits(10));
        _keys = std::make_unique<KeyRegistry>(*_database);
        _limiter = std::make_unique<RateLimiter>(1000000, 2000000, 1000);
        _loginLimiter = std::make_unique<RateLimiter>(1000000, 1000000, 1000);
        _sealed = std::make_unique<SealedSender>(*_directory, *_sink);
        _carrier = std::make_unique<MailCarrier>(*_mailbox, *_keys, *_directory, *_sealed, kRedeliverEvery,
                                                 &LoginHandler::systemMilliseconds);
        _handler = makeHandler(false);
        _log = new RecordingChannel;
        Poco::Logger::get("LoginHandler").setChannel(_log);
        Poco::Logger::get("LoginHandler").setLevel(Poco::Message::PRIO_DEBUG);
    }

    void tearDown() override
    {
        Poco::Logger::get("LoginHandler").setChannel(nullptr);
    }

    void testHelloAnsweredWithChallengeToSource()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        receive(alice.hello(), "127.0.0.1:5001");
        const auto sent = sentTo("127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
        const auto challenge = std::get<peerchat::Challenge>(Protocol::decode(sent.front()).value());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), challenge.name);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), challenge.observed.toString());
        // Nothing is kept for a hello.
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _directory->size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _keys->stampsHeld());
    }

    void testChallengeAndRefusalEchoHelloNonce()
    {
        Hello hello{"alice", "peerchat/3", 300, nonce(7)};
        receive(Protocol::encode(hello), "127.0.0.1:5001");
        const auto challenge = std::get<peerchat::Challenge>(Protocol::decode(lastTo("127.0.0.1:5001")).value());
        CPPUNIT_ASSERT(challenge.echo == nonce(7));
        // Signed by indexd for this run: peerd signs only an OBSERVED indexd vouches for.
        CPPUNIT_ASSERT(challenge.indexIdentity == _identity->publicKey());
        CPPUNIT_ASSERT(challenge.epoch == _identity->epoch());
        CPPUNIT_ASSERT(
            SigningKey::verify(_identity->publicKey(), SignedStatement::challenge(challenge), challenge.sig));
        hello.dialect = "peerchat/2";
        hello.nonce = nonce(8);
        receive(Protocol::encode(hello), "127.0.0.1:5001");
        const Refuse refused = refusal(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT_EQUAL(std::string("version"), refused.reason);
        CPPUNIT_ASSERT(refused.echo == nonce(8));
        // A peerchat/2 hello without one gets its refusal without an echo;
        // a peerchat/3 hello without one is malformed and gets nothing.
        hello.nonce.reset();
        receive(Protocol::encode(hello), "127.0.0.2:5001");
        CPPUNIT_ASSERT(!refusal(lastTo("127.0.0.2:5001")).echo);
        _sink->sent.clear();
        hello.dialect = "peerchat/3";
        receive(Protocol::encode(hello), "127.0.0.3:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
    }

    void testRefusalsOfAuthEchoItsNonce()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        Auth auth = alice.authFor(challengeFor(alice));
        auth.sig[3] ^= 1;
        receive(Protocol::encode(auth), "127.0.0.1:5001");
        const Refuse refused = refusal(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT_EQUAL(std::string("auth"), refused.reason);
        CPPUNIT_ASSERT(refused.echo == auth.nonce);

        login(alice);
        TestPeer again("alice", "127.0.0.1:5003", alice.key());
        const Auth taken = again.authFor(challengeFor(again));
        receive(Protocol::encode(taken), "127.0.0.1:5003");
        CPPUNIT_ASSERT_EQUAL(std::string("refuse,alice,taken,") + peerchat::Base64::encode(taken.nonce),
                             lastTo("127.0.0.1:5003"));
    }

    void testShortHelloGetsNoChallenge()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        receive(alice.hello(0), "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("did not send challenge to 127.0.0.1:5001"));
    }

    void testHelloOfOtherVersionRefused()
    {
        receive("hello,alice,peerchat/2," + std::string(170, '0'), "127.0.0.1:5001");
        receive("hello,bob,peerchat/1," + std::string(170, '0'), "127.0.0.1:5002");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"refuse,alice,version"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002") == strings({"refuse,bob,version"}));
    }

    void testAuthWelcomedWithSignedWelcome()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        const std::string challenge = challengeFor(alice);
        const Auth auth = alice.authFor(challenge);
        receive(Protocol::encode(auth), "127.0.0.1:5001");

        const auto message = Protocol::decode(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT(message && std::holds_alternative<Welcome>(*message));
        const Welcome& welcome = std::get<Welcome>(*message);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), welcome.name);
        CPPUNIT_ASSERT(welcome.epoch == _identity->epoch());
        CPPUNIT_ASSERT(welcome.indexIdentity == _identity->publicKey());
        CPPUNIT_ASSERT(welcome.indexKx == _identity->kx().publicKey());
        // Signed over the auth's nonce: it answers this login and no other.
        CPPUNIT_ASSERT(SigningKey::verify(_identity->publicKey(), SignedStatement::welcome(welcome, auth.nonce),
                                          welcome.sig));
        peerchat::Nonce other = auth.nonce;
        other[0] ^= 1;
        CPPUNIT_ASSERT(!SigningKey::verify(_identity->publicKey(), SignedStatement::welcome(welcome, other),
                                           welcome.sig));

        const auto* user = _directory->find("alice");
        CPPUNIT_ASSERT(user && user->dialect == Dialect::Peerchat);
        CPPUNIT_ASSERT(user->keys && user->keys->identity == alice.key().publicKey());
        CPPUNIT_ASSERT(user->keys->kx == alice.kx().publicKey());
        CPPUNIT_ASSERT(_directory->session("alice"));
    }

    void testAuthBindsNameToKeyOnFirstLogin()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        CPPUNIT_ASSERT(!_keys->identityOf("alice"));
        login(alice);
        CPPUNIT_ASSERT(_keys->identityOf("alice") == alice.key().publicKey());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("which now owns the name"));
    }

    void testDatabaseFailureCountedNotLoggedPerDatagram()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        _database->session() << "PRAGMA query_only = ON", Poco::Data::Keywords::now;
        for (int i = 0; i < 3; ++i) receive(alice.auth(challengeFor(alice)), "127.0.0.1:5001");
        // Nothing changed (the name was to be bound first), nothing welcomed, one error logged.
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT(!_keys->identityOf("alice"));
        CPPUNIT_ASSERT(lastTo("127.0.0.1:5001").rfind("challenge,", 0) == 0);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("cannot handle auth from 127.0.0.1:5001"));
        _handler->reportDrops(std::chrono::milliseconds(1000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("3 failed here (first from 127.0.0.1:5001: auth: "));

        _database->session() << "PRAGMA query_only = OFF", Poco::Data::Keywords::now;
        login(alice);
        CPPUNIT_ASSERT(_keys->identityOf("alice") == alice.key().publicKey());
    }

    void testLoginSeenByMutualContactsOnly()
    {
        TestPeer bob("bob", "127.0.0.1:5002");
        TestPeer mallory("mallory", "127.0.0.1:5009");
        TestPeer alice("alice", "[::1]:5001");
        login(bob);
        login(mallory);
        declare(bob, {"alice"});
        declare(mallory, {"alice"});
        skipPresence(bob);
        skipPresence(mallory);
        login(alice);
        // Nobody sees alice before she declares whom she lets see her.
        CPPUNIT_ASSERT(presenceTo(bob).empty());
        declare(alice, {"bob"});

        const auto toBob = presenceTo(bob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), toBob.size());
        const Here& announced = std::get<Here>(toBob.front());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), announced.name);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5001"), announced.endpoint.toString());
        CPPUNIT_ASSERT_EQUAL(std::string("peerchat/3"), announced.dialect);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), announced.seq);  // after bob's own snapshot
        CPPUNIT_ASSERT(announced.keys && announced.keys->identity == alice.key().publicKey());
        CPPUNIT_ASSERT(announced.keys->kx == alice.kx().publicKey());
        CPPUNIT_ASSERT(SigningKey::verify(alice.key().publicKey(),
                                          SignedStatement::kx(alice.key().publicKey(), "alice", alice.kx().publicKey(),
                                                              _identity->publicKey(), _identity->epoch()),
                                          announced.keys->kxSig));
        // mallory listed alice, alice did not list mallory: nothing, not even a gone.
        CPPUNIT_ASSERT(presenceTo(mallory).empty());
        // alice's snapshot has bob; then she is declared.
        const auto toAlice = presenceTo(alice);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), toAlice.size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), std::get<Snapshot>(toAlice[0]).count);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::get<Here>(toAlice[1]).name);
        // No plain announcement reaches a peerchat/3 user.
        for (const auto& datagram : sentTo("127.0.0.1:5009"))
            CPPUNIT_ASSERT(datagram.rfind("login,", 0) != 0 && datagram.find("alice") == std::string::npos);
    }

    void testPunchOfUserNotSeenDropped()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer mallory("mallory", "127.0.0.1:5009");
        login(alice);
        login(mallory);
        declare(alice, {});
        declare(mallory, {"alice"});
        _sink->sent.clear();
        receive(mallory.seal(Punch{"alice"}), "127.0.0.1:5009");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("mallory does not see alice"));
        // Mutual contacts are introduced.
        declare(alice, {"mallory"}, 2);
        _sink->sent.clear();
        _now += milliseconds(2000);
        receive(mallory.seal(Punch{"alice"}), "127.0.0.1:5009");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentTo("127.0.0.1:5001").size());
        // An invisible one is not: she looks offline, to punches too.
        declare(alice, {"mallory"}, 3, PresenceState::Invisible);
        _sink->sent.clear();
        _now += milliseconds(2000);
        receive(mallory.seal(Punch{"alice"}), "127.0.0.1:5009");
        CPPUNIT_ASSERT(_sink->sent.empty());
    }

    void testSameAuthTwiceDroppedAsReplay()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        const std::string auth = alice.auth(challengeFor(alice));
        receive(auth, "127.0.0.1:5001");
        CPPUNIT_ASSERT(alice.welcome(lastTo("127.0.0.1:5001")));
        _sink->sent.clear();
        _log->lines.clear();

        receive(auth, "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("auth alice replayed"));
        // Also once alice has gone: the capture is worth nothing.
        _directory->logout("alice", alice.endpoint(), alice.endpoint());
        receive(auth, "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT(!_directory->find("alice"));
    }

    void testAuthWithOlderStampDroppedAsReplay()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        const std::string older = alice.auth(challengeFor(alice));
        _wallMs += 5;
        const std::string newer = alice.auth(challengeFor(alice));
        receive(newer, "127.0.0.1:5001");
        CPPUNIT_ASSERT(alice.welcome(lastTo("127.0.0.1:5001")));
        _sink->sent.clear();

        receive(older, "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("auth alice replayed"));
    }

    void testAuthForNameOfAnotherKeyRefusedKey()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        _directory->logout("alice", alice.endpoint(), alice.endpoint());
        _sink->sent.clear();

        TestPeer mallory("alice", "127.0.0.1:5009");
        receive(mallory.auth(challengeFor(mallory)), "127.0.0.1:5009");
        CPPUNIT_ASSERT_EQUAL(std::string("key"), refusal(lastTo("127.0.0.1:5009")).reason);
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT(_keys->identityOf("alice") == alice.key().publicKey());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("refused auth alice from 127.0.0.1:5009: alice belongs to"));

        // The owner still gets in.
        alice.rekey();
        login(alice);
        CPPUNIT_ASSERT(_directory->find("alice"));
    }

    void testAuthWithBadSignatureRefusedAuth()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        Auth auth = alice.authFor(challengeFor(alice));
        auth.sig[10] ^= 0x40;
        receive(Protocol::encode(auth), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("auth"), refusal(lastTo("127.0.0.1:5001")).reason);
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT(!_keys->identityOf("alice"));

        // Signed by another key than the one it presents.
        auth = alice.authFor(challengeFor(alice));
        auth.sig = SigningKey::generate().sign(SignedStatement::auth(auth));
        receive(Protocol::encode(auth), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("auth"), refusal(lastTo("127.0.0.1:5001")).reason);
        CPPUNIT_ASSERT(!_directory->find("alice"));

        // A refused auth burns no stamp: the next good one gets in.
        login(alice);
        CPPUNIT_ASSERT(_directory->find("alice"));
    }

    void testAuthWithBadKxSignatureRefusedAuth()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        Auth auth = alice.authFor(challengeFor(alice));
        // A kx key alice never vouched for, in an auth otherwise properly signed.
        auth.keys.kx = peerchat::KxKeyPair::generate().publicKey();
        auth.sig = alice.key().sign(SignedStatement::auth(auth));
        receive(Protocol::encode(auth), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("auth"), refusal(lastTo("127.0.0.1:5001")).reason);
        CPPUNIT_ASSERT(!_directory->find("alice"));
    }

    // Row 1 of issue 10: mallory announces alice's key-exchange key, with a
    // KXSIG of her own, while alice is online. Before, indexd welcomed her.
    void testAuthWithKxOfAnotherLiveUserRefusedAuth()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer mallory("mallory", "127.0.0.1:5009");
        login(alice);
        Auth auth = mallory.authFor(challengeFor(mallory));
        auth.keys.kx = alice.kx().publicKey();
        auth.keys.kxSig = mallory.key().sign(SignedStatement::kx(mallory.key().publicKey(), "mallory", auth.keys.kx,
                                                                 _identity->publicKey(), _identity->epoch()));
        auth.sig = mallory.key().sign(SignedStatement::auth(auth));
        receive(Protocol::encode(auth), "127.0.0.1:5009");
        CPPUNIT_ASSERT_EQUAL(std::string("auth"), refusal(lastTo("127.0.0.1:5009")).reason);
        CPPUNIT_ASSERT(!_directory->find("mallory"));
        CPPUNIT_ASSERT(_directory->find("alice")->keys->kx == alice.kx().publicKey());
    }

    // Row 3: a KXSIG made for another indexd run (an earlier epoch, or another
    // indexd) does not pass for this one.
    void testAuthWithKxSigOfAnotherRunRefusedAuth()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        const IndexIdentity other(SigningKey::generate());
        for (const auto& [index, epoch] : {std::pair{_identity->publicKey(), other.epoch()},
                                           std::pair{other.publicKey(), _identity->epoch()}}) {
            Auth auth = alice.authFor(challengeFor(alice));
            auth.keys = alice.keys(index, epoch);
            auth.sig = alice.key().sign(SignedStatement::auth(auth));
            receive(Protocol::encode(auth), "127.0.0.1:5001");
            CPPUNIT_ASSERT_EQUAL(std::string("auth"), refusal(lastTo("127.0.0.1:5001")).reason);
            CPPUNIT_ASSERT(!_directory->find("alice"));
        }
        login(alice);
        CPPUNIT_ASSERT(_directory->find("alice"));
    }

    void testAuthToExpiredChallengeRefusedAuth()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        const std::string auth = alice.auth(challengeFor(alice));
        _wallMs += LoginHandler::kChallengeMaxAgeMs + 1;
        receive(auth, "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("auth"), refusal(lastTo("127.0.0.1:5001")).reason);
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("expired"));
    }

    void testAuthToChallengeOfAnotherRunRefusedAuth()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        const std::string auth = alice.auth(challengeFor(alice));
        // indexd restarted: a new run, a new cookie secret.
        _handler = makeHandler(false);
        receive(auth, "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("auth"), refusal(lastTo("127.0.0.1:5001")).reason);
        CPPUNIT_ASSERT(!_directory->find("alice"));
    }

    void testAuthFromOtherSourceThanObservedDropped()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        const std::string auth = alice.auth(challengeFor(alice));
        _sink->sent.clear();
        receive(auth, "127.0.0.1:5009");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("answers a challenge sent to 127.0.0.1:5001"));
        // A challenge is only good where it was sent: mallory's own, with alice's endpoint written in, fails too.
        TestPeer mallory("alice", "127.0.0.1:5009");
        Auth forged = mallory.authFor(challengeFor(mallory));
        forged.observed = alice.endpoint();
        forged.sig = mallory.key().sign(SignedStatement::auth(forged));
        receive(Protocol::encode(forged), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("auth"), refusal(lastTo("127.0.0.1:5001")).reason);
        CPPUNIT_ASSERT(!_directory->find("alice"));
    }

    void testAuthOfNameOnlineElsewhereRefusedTaken()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        const auto version = _directory->version();
        // The same key from another endpoint (a second peerd for alice).
        TestPeer again("alice", "127.0.0.1:5003", alice.key());
        receive(again.auth(challengeFor(again)), "127.0.0.1:5003");
        CPPUNIT_ASSERT_EQUAL(std::string("taken"), refusal(lastTo("127.0.0.1:5003")).reason);
        CPPUNIT_ASSERT_EQUAL(version, _directory->version());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), _directory->find("alice")->endpoint.toString());
    }

    void testReloginWithNewKxAnnouncedAgain()
    {
        TestPeer bob("bob", "127.0.0.1:5002");
        TestPeer alice("alice", "127.0.0.1:5001");
        login(bob);
        login(alice);
        befriend(alice, bob);
        skipPresence(bob);

        alice.rekey();
        login(alice);
        const auto toBob = presenceTo(bob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), toBob.size());
        const Here& announced = std::get<Here>(toBob.front());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), announced.seq);
        CPPUNIT_ASSERT(announced.keys->kx == alice.kx().publicKey());
        CPPUNIT_ASSERT(_directory->find("alice")->keys->kx == alice.kx().publicKey());
        // The new session is the one in use.
        receive(alice.seal(Alive{"alice", 3}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(openLast(alice, "127.0.0.1:5001"));
    }

    void testReloginWithSameKeysKeepsSession()
    {
        TestPeer bob("bob", "127.0.0.1:5002");
        TestPeer alice("alice", "127.0.0.1:5001");
        login(bob);
        login(alice);
        receive(alice.seal(Alive{"alice", 2}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(openLast(alice, "127.0.0.1:5001"));
        _sink->sent.clear();

        // peerd answered a second challenge of the same login: welcomed, nothing announced.
        receive(alice.auth(challengeFor(alice)), "127.0.0.1:5001");
        const auto welcome = Protocol::decode(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT(welcome && std::holds_alternative<Welcome>(*welcome));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002").empty());
        // indexd's side counts on: alice's cipher, never restarted, still opens what comes.
        receive(alice.seal(Alive{"alice", 2}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(openLast(alice, "127.0.0.1:5001"));
    }

    void testLoginWithKxOfEndedSessionRefusedAuth()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        const std::string logout = alice.seal(Logout{"alice", alice.endpoint()});
        receive(logout, "127.0.0.1:5001");
        CPPUNIT_ASSERT(!_directory->find("alice"));
        // The same kx key again would make a session that takes the old one's datagrams.
        receive(alice.auth(challengeFor(alice)), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("auth"), refusal(lastTo("127.0.0.1:5001")).reason);
        CPPUNIT_ASSERT(!_directory->find("alice"));
        alice.rekey();
        login(alice);
        receive(logout, "127.0.0.1:5001");
        CPPUNIT_ASSERT(_directory->find("alice"));
    }

    void testLoginsOfOneIdentityLimitedRefusedBusy()
    {
        // Three a minute, three at once.
        _loginLimiter = std::make_unique<RateLimiter>(3.0 / 60, 3, 100);
        _handler = makeHandler(false);
        TestPeer bob("bob", "127.0.0.1:5002");
        TestPeer alice("alice", "127.0.0.1:5001");
        login(bob);
        declare(bob, {"alice"});
        skipPresence(bob);
        for (int i = 0; i < 3; ++i) {
            alice.rekey();
            login(alice);
            // A second auth of the login alice is in costs nothing.
            receive(alice.auth(challengeFor(alice)), "127.0.0.1:5001");
            CPPUNIT_ASSERT(alice.welcome(lastTo("127.0.0.1:5001")));
            declare(alice, {"bob"});
            receive(alice.seal(Logout{"alice", alice.endpoint()}), "127.0.0.1:5001");
            _presence->flush();
        }
        // Three logins and three logouts, as her contact bob sees them.
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), presenceTo(bob).size());

        // The fourth login in the minute is refused, echoing its auth, and nobody hears of it.
        _sink->sent.clear();
        alice.rekey();
        const Auth auth = alice.authFor(challengeFor(alice));
        receive(Protocol::encode(auth), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL("refuse,alice,busy," + peerchat::Base64::encode(auth.nonce), lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002").empty());
        // Another identity is not held back; alice is, twenty seconds later, once.
        TestPeer carol("carol", "127.0.0.1:5003");
        login(carol);
        _now += milliseconds(20000);
        login(alice);
        receive(alice.seal(Logout{"alice", alice.endpoint()}), "127.0.0.1:5001");
        alice.rekey();
        receive(alice.auth(challengeFor(alice)), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("busy"), refusal(lastTo("127.0.0.1:5001")).reason);
    }

    void testOversizeDatagramDropped()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        receive(alice.hello(Protocol::kMaxDatagramBytes), "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("more than the 8704 bytes a datagram may have"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _handler->drops().total(DropReason::Oversize));
    }

    void testFloodFromOneAddressRateLimited()
    {
        _limiter = std::make_unique<RateLimiter>(2, 4, 100);
        _handler = makeHandler(false);
        TestPeer alice("alice", "127.0.0.1:5001");
        for (int i = 0; i < 20; ++i) receive(alice.hello(), "127.0.0.1:5001");
        // The burst, then nothing; each drop counted.
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), sentTo("127.0.0.1:5001").size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(16), _handler->drops().total(DropReason::RateLimited));
        // Another port of the same address is the same address.
        receive(alice.hello(), "127.0.0.1:5002");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002").empty());

        // Others are served.
        TestPeer bob("bob", "127.0.0.2:5002");
        login(bob);
        CPPUNIT_ASSERT(_directory->find("bob"));

        // Half a second later, one more.
        _now += milliseconds(500);
        receive(alice.hello(), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), sentTo("127.0.0.1:5001").size());
    }

    void testDropsCountedAndSummedUpNotLoggedEach()
    {
        _limiter = std::make_unique<RateLimiter>(2, 4, 100);
        _handler = makeHandler(false);
        Poco::Logger::get("LoginHandler").setLevel(Poco::Message::PRIO_INFORMATION);
        for (int i = 0; i < 100; ++i) receive("garbage " + std::to_string(i), "127.0.0.1:5001");
        receive(std::string(Protocol::kMaxDatagramBytes + 1, 'x'), "127.0.0.2:5002");
        receive("hello,bob,peerchat/2," + std::string(170, '0'), "127.0.0.3:5003");
        CPPUNIT_ASSERT(_log->lines.empty());

        _handler->reportDrops(milliseconds(10000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->lines.size());
        CPPUNIT_ASSERT_EQUAL(std::string("dropped 102 datagrams in the last 10000 ms: 1 oversize (first from "
                                         "127.0.0.2:5002: more than the 8704 bytes a datagram may have), 4 malformed "
                                         "(first from 127.0.0.1:5001: no fields after verb), 96 rate-limited (first "
                                         "from 127.0.0.1:5001: its address sent more than 2 a second (4 at once) that "
                                         "do not come sealed from a logged-in user), 1 refused "
                                         "(first from 127.0.0.3:5003: hello bob: version, dialect peerchat/2 is not "
                                         "supported)"),
                             _log->lines.front());
        // Nothing new, nothing logged.
        _handler->reportDrops(milliseconds(10000));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->lines.size());
    }

    void testSealsOfLoggedInUserNotRateLimited()
    {
        _limiter = std::make_unique<RateLimiter>(1, 2, 100);
        _handler = makeHandler(false);
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);  // hello and auth: the whole burst
        _sink->sent.clear();
        for (std::uint64_t i = 0; i < 50; ++i) receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(50), sentTo("127.0.0.1:5001").size());
        // Unauthenticated datagrams from her endpoint still pay.
        receive(alice.hello(), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(50), sentTo("127.0.0.1:5001").size());
    }

    void testRepliesNeverLargerThanRequests()
    {
        // The shortest requests that get each kind of unauthenticated reply.
        _handler = makeHandler(true, RosterPorts{65535, 65535});
        TestPeer bound("k", "127.0.0.1:6000");
        login(bound);
        _directory->logout("k", bound.endpoint(), bound.endpoint());
        legacyLogin("login,t,1.2.3.4:1", "127.0.0.1:6001");
        legacyLogin(toUtf16le("login,d,1.2.3.4:1"), "1.2.3.4:9");
        const std::vector<std::pair<std::string, std::string>> requests{
            {"hello,a,peerchat/2,", "127.0.0.1:65535"},          // refuse version
            {"login,a,1.2.3.4:1", "127.0.0.1:65534"},            // Accept
            {"login,b,[::1]:1", "127.0.0.1:65533"},              // Accept
            {"login,k,1.2.3.4:1", "127.0.0.1:65532"},            // refuse key
            {"login,t,1.2.3.4:1", "127.0.0.1:65531"},            // refuse taken
            {"login,c,1.2.3.4:1,peerchat/2", "127.0.0.1:65530"}, // refuse version
            {toUtf16le("login,e,1.2.3.4:1"), "1.2.3.4:9"},       // Accept in UTF-16LE
            {toUtf16le("login,d,1.2.3.5:1"), "1.2.3.5:9"},       // refuse taken in UTF-16LE
            {sealFromNowhere(), "127.0.0.1:65529"},              // relogin
        };
        for (const auto& [request, source] : requests) {
            _sink->sent.clear();
            receive(request, source);
            CPPUNIT_ASSERT_MESSAGE(request, !_sink->sent.empty());
            const auto& replyBytes = _sink->sent.front().bytes;
            CPPUNIT_ASSERT_MESSAGE(replyBytes + " answers " + request, replyBytes.size() <= request.size());
        }
        // Without legacy, the refusal too.
        _handler = makeHandler(false);
        _sink->sent.clear();
        receive("login,a,1.2.3.4:1", "127.0.0.1:65528");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:65528") == strings({"refuse,a,legacy"}));
        // And the full login: challenge and welcome, each shorter than what it answers.
        TestPeer longest(std::string(32, 'n'), "[1234:5678:9abc:def0:1234:5678:9abc:def0]:65535");
        const std::string challenge = challengeFor(longest);
        CPPUNIT_ASSERT(challenge.size() <= longest.hello().size());
        const std::string auth = longest.auth(challenge);
        receive(auth, longest.endpoint().toString());
        CPPUNIT_ASSERT(longest.welcome(lastTo(longest.endpoint().toString())));
        CPPUNIT_ASSERT(lastTo(longest.endpoint().toString()).size() <= auth.size());
    }

    void testSealedAliveAnsweredSealedSeen()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        befriend(alice, bob);
        presenceTo(alice);
        _sink->sent.clear();
        // alice was sent her snapshot (1, 2: bob in it? no: bob declared after) and bob's here.
        receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
        const auto seen = alice.open(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT(seen && std::holds_alternative<Seen>(*seen));
        CPPUNIT_ASSERT_EQUAL(_directory->find("alice")->presenceSeq, std::get<Seen>(*seen).seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), std::get<Seen>(*seen).seq);
        // Only alice can read it.
        CPPUNIT_ASSERT(!bob.open(lastTo("127.0.0.1:5001")));
    }

    void testSealedAliveForAnotherNameDropped()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        _sink->sent.clear();
        _now += kExpireAfter - milliseconds(1);
        receive(alice.seal(Alive{"bob", 1}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("alive for bob sealed by alice"));
        _now += milliseconds(1);
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(!_directory->find("bob"));
    }

    void testReplayedSealDropped()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        const std::string alive = alice.seal(Alive{"alice", 1});
        receive(alive, "127.0.0.1:5001");
        _sink->sent.clear();
        _log->lines.clear();
        receive(alive, "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("sealed datagram of alice refused"));
        // A captured logout played again changes nothing either.
        TestPeer bob("bob", "127.0.0.1:5002");
        login(bob);
        const std::string logout = bob.seal(Logout{"bob", bob.endpoint()});
        receive(logout, "127.0.0.1:5002");
        bob.rekey();
        login(bob);
        receive(logout, "127.0.0.1:5002");
        CPPUNIT_ASSERT(_directory->find("bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("relogin"), lastTo("127.0.0.1:5002"));
    }

    void testSealFromUnknownSourceAnsweredBareRelogin()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        _sink->sent.clear();
        // alice's SKID on a box that does not open under her session (forged),
        // and a replay of her real datagram, sent from elsewhere: nothing moves.
        const std::string alive = alice.seal(Alive{"alice", 1});
        Seal forged = std::get<Seal>(Protocol::decode(alice.seal(Alive{"alice", 1})).value());
        forged.box[forged.box.size() / 2] ^= 1;
        receive(Protocol::encode(forged), "127.0.0.1:5009");
        receive(alive, "127.0.0.1:5001");
        receive(alive, "127.0.0.1:5009");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5009") == strings({"relogin", "relogin"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002").empty());
        CPPUNIT_ASSERT(_directory->find("alice")->endpoint == alice.endpoint());
        CPPUNIT_ASSERT(!_directory->findAt(endpoint("127.0.0.1:5009")));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _log->count("moved"));
        // alice's datagram after indexd forgot her.
        _directory->logout("alice", alice.endpoint(), alice.endpoint());
        _sink->sent.clear();
        receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"relogin"}));
    }

    void testSealOfSessionFromNewEndpointMovesUser()
    {
        // alice's NAT rebound: her session's datagrams come from a new mapping.
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        befriend(alice, bob);
        presenceTo(alice);
        skipPresence(bob);
        _sink->sent.clear();
        receive(alice.seal(Alive{"alice", 2}), "127.0.0.1:5009");
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), _directory->findAt(endpoint("127.0.0.1:5009"))->name);
        CPPUNIT_ASSERT(!_directory->findAt(alice.endpoint()));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("alice moved from 127.0.0.1:5001 to 127.0.0.1:5009"));
        // The alive is answered, at the new endpoint.
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001").empty());
        const auto seen = alice.open(lastTo("127.0.0.1:5009"));
        CPPUNIT_ASSERT(seen && std::holds_alternative<Seen>(*seen));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), std::get<Seen>(*seen).seq);
        // bob hears, a tick later, that alice is here at the new endpoint with the same keys.
        const auto toBob = presenceTo(bob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), toBob.size());
        const Here& moved = std::get<Here>(toBob.front());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), moved.name);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5009"), moved.endpoint.toString());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), moved.seq);
        CPPUNIT_ASSERT(moved.keys && moved.keys->kx == alice.kx().publicKey());
        // Her heartbeats from there count; from the old endpoint she would move back.
        _now += kExpireAfter - milliseconds(1);
        receive(alice.seal(Alive{"alice", 3}), "127.0.0.1:5009");
        _now += milliseconds(2);
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(_directory->find("alice"));
    }

    void testSealFromEndpointOfAnotherUserMovesNothing()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        _sink->sent.clear();
        receive(alice.seal(Alive{"alice", 2}), "127.0.0.1:5002");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT(_directory->find("alice")->endpoint == alice.endpoint());
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), _directory->findAt(bob.endpoint())->name);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("alice cannot move to 127.0.0.1:5002"));
    }

    void testMovesOfOneIdentityLimitedWithItsLogins()
    {
        // Three a minute, three at once: alice's login takes one.
        _loginLimiter = std::make_unique<RateLimiter>(3.0 / 60, 3, 100);
        _handler = makeHandler(false);
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        befriend(alice, bob);
        skipPresence(bob);
        // A forged seal from elsewhere spends none of alice's.
        Seal forged = std::get<Seal>(Protocol::decode(alice.seal(Alive{"alice", 1})).value());
        forged.box[0] ^= 1;
        receive(Protocol::encode(forged), "127.0.0.1:6000");
        _sink->sent.clear();
        for (int port = 6001; port <= 6003; ++port)
            receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:" + std::to_string(port));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), _directory->findAt(endpoint("127.0.0.1:6002"))->name);
        // Two moves within a tick: bob hears once, of where she is now.
        const auto toBob = presenceTo(bob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), toBob.size());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:6002"), std::get<Here>(toBob.front()).endpoint.toString());
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6003").empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _handler->drops().total(DropReason::RateLimited));
        // A token later, she moves.
        _now += std::chrono::seconds(20);
        receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:6003");
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), _directory->findAt(endpoint("127.0.0.1:6003"))->name);
    }

    void testAliveCandidatesHandedOutInMeet()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        Alive withCandidates{"alice", 2, CandidateList::parse("relay=198.18.0.1:49152;srflx=203.0.113.7:9;"
                                                             "host=10.0.1.2:5001;host=0.0.0.0:5001")
                                             .value()};
        receive(alice.seal(withCandidates), "127.0.0.1:5001");
        // An alive without CANDS keeps them; bob has none.
        receive(alice.seal(Alive{"alice", 2}), "127.0.0.1:5001");
        befriend(alice, bob);
        _sink->sent.clear();
        receive(alice.seal(Punch{"bob"}), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink->sent.size());
        const auto toAlice = alice.open(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT(toAlice && std::holds_alternative<Meet>(*toAlice));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::get<Meet>(*toAlice).peer);
        CPPUNIT_ASSERT_EQUAL(std::string("srflx=127.0.0.1:5002"),
                             CandidateList::format(std::get<Meet>(*toAlice).candidates));
        const auto toBob = bob.open(lastTo("127.0.0.1:5002"));
        CPPUNIT_ASSERT(toBob && std::holds_alternative<Meet>(*toBob));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), std::get<Meet>(*toBob).peer);
        CPPUNIT_ASSERT_EQUAL(std::string("host=10.0.1.2:5001;srflx=127.0.0.1:5001;relay=198.18.0.1:49152"),
                             CandidateList::format(std::get<Meet>(*toBob).candidates));
        // `-` says there are none now.
        receive(alice.seal(Alive{"alice", 2, std::vector<peerchat::Candidate>{}}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(_directory->find("alice")->candidates.empty());
    }

    void testWhoisAnswersTheKeyANameIsBoundTo()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        receive(bob.seal(Logout{"bob", endpoint("127.0.0.1:5002")}), "127.0.0.1:5002");
        _sink->sent.clear();
        // bob is offline, but his name is bound to his key.
        receive(alice.seal(Whois{"bob"}), "127.0.0.1:5001");
        const auto answer = alice.open(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT(answer && std::holds_alternative<NameKey>(*answer));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::get<NameKey>(*answer).name);
        CPPUNIT_ASSERT(std::get<NameKey>(*answer).identity == bob.key().publicKey());
        receive(alice.seal(Whois{"nobody"}), "127.0.0.1:5001");
        const auto unknown = alice.open(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT(unknown && std::holds_alternative<NameKey>(*unknown));
        CPPUNIT_ASSERT(!std::get<NameKey>(*unknown).identity);
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002").empty());
    }

    void testSignedContactListIsHeldAndAnswered()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        _sink->sent.clear();
        receive(alice.seal(signedList(alice, 7, 1, 2, {"bob"})), "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        receive(alice.seal(signedList(alice, 7, 2, 2, {"carol"})), "127.0.0.1:5001");
        const auto answer = alice.open(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT(answer && std::holds_alternative<peerchat::Declared>(*answer));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), std::get<peerchat::Declared>(*answer).version);
        CPPUNIT_ASSERT(_routes.declares("alice", "bob") && _routes.declares("alice", "carol"));
        // A logout forgets it.
        receive(alice.seal(Logout{"alice", endpoint("127.0.0.1:5001")}), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), _routes.versionOf("alice"));
    }

    void testContactListNotSignedByItsUserIsDropped()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        _sink->sent.clear();
        // Signed by another key, or naming another user than its sender.
        ContactsDeclaration forged = signedList(bob, 1, 1, 1, {"mallory"});
        forged.name = "alice";
        receive(alice.seal(forged), "127.0.0.1:5001");
        receive(alice.seal(signedList(bob, 1, 1, 1, {"mallory"})), "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _routes.lists());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _handler->drops().total(DropReason::Unauthentic));
    }

    void testWhoisFloodYieldsAtMostItsLimit()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        _sink->sent.clear();
        for (int i = 0; i < 100; ++i) receive(alice.seal(Whois{"user" + std::to_string(i)}), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(LoginHandler::kWhoisBurst), sentTo("127.0.0.1:5001").size());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(100 - LoginHandler::kWhoisBurst),
                             _handler->drops().total(DropReason::RateLimited));
        _now += milliseconds(1000);
        receive(alice.seal(Whois{"bob"}), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(LoginHandler::kWhoisBurst + 1), sentTo("127.0.0.1:5001").size());
    }

    void testPunchOfOfflineSeedOrSelfSendsNothing()
    {
        _handler = makeHandler(true);
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        legacyLogin("login,seedy,127.0.0.1:5003", "127.0.0.1:5003");
        _sink->sent.clear();
        for (const char* peer : {"nobody", "seedy", "alice"}) receive(alice.seal(Punch{peer}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), _handler->drops().total(DropReason::Unexpected));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _log->count("punch of nobody by alice: nobody is not online"));
    }

    void testPunchFloodYieldsAtMostLimitOfMeets()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        TestPeer carol("carol", "127.0.0.1:5003");
        login(alice);
        login(bob);
        login(carol);
        declare(alice, {"bob", "carol"});
        declare(bob, {"alice"});
        declare(carol, {"alice"});
        _sink->sent.clear();
        for (int i = 0; i < 100; ++i) receive(alice.seal(Punch{"bob"}), "127.0.0.1:5001");
        // One introduction: a meet each to alice and bob, nothing to carol.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentTo("127.0.0.1:5001").size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), sentTo("127.0.0.1:5002").size());
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5003").empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(99), _handler->drops().total(DropReason::RateLimited));
        // Over ten seconds alice gets her burst and her rate, whoever she punches.
        _sink->sent.clear();
        for (int tick = 0; tick < 100; ++tick) {
            _now += milliseconds(100);
            receive(alice.seal(Punch{tick % 2 ? "bob" : "carol"}), "127.0.0.1:5001");
        }
        const std::size_t meets = sentTo("127.0.0.1:5001").size();
        CPPUNIT_ASSERT(meets >= 8);
        CPPUNIT_ASSERT(meets <= 4 + 8);
        CPPUNIT_ASSERT_EQUAL(meets, sentTo("127.0.0.1:5002").size() + sentTo("127.0.0.1:5003").size());
    }

    void testWelcomeFollowedBySealedTurn()
    {
        useRelay();
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        const std::size_t before = _sink->sent.size();
        login(bob);
        // Right after bob's welcome, sealed for bob alone.
        const std::string datagram = _sink->sent.at(before + 2).bytes;
        CPPUNIT_ASSERT(_sink->sent.at(before + 2).to == bob.endpoint());
        const auto message = bob.open(datagram);
        CPPUNIT_ASSERT(message && std::holds_alternative<Turn>(*message));
        CPPUNIT_ASSERT(!alice.open(datagram));
        const Turn& turn = std::get<Turn>(*message);
        CPPUNIT_ASSERT_EQUAL(kTurnServer, turn.server.toString());
        CPPUNIT_ASSERT_EQUAL(kWallStart / 1000 + kTtlSeconds, turn.expiry);
        CPPUNIT_ASSERT(TurnCredentials::key(kTurnSecret, "bob", turn.expiry) == turn.key);
        CPPUNIT_ASSERT_EQUAL(turn.expiry, _directory->find("bob")->turnExpiry);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), turnsTo(alice).size());
    }

    void testRepeatedWelcomeFollowedByTurnAgain()
    {
        useRelay();
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        _wallMs += 1000;
        receive(alice.auth(challengeFor(alice)), "127.0.0.1:5001");
        const auto turns = turnsTo(alice);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), turns.size());
        CPPUNIT_ASSERT_EQUAL(turns[0].expiry + 1, turns[1].expiry);
        CPPUNIT_ASSERT(TurnCredentials::key(kTurnSecret, "alice", turns[1].expiry) == turns[1].key);
    }

    void testTurnRenewedByAliveOnceHalfSpent()
    {
        useRelay();
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), turnsTo(alice).size());
        // Exactly half spent: not yet; the alive gets its seen only.
        _sink->sent.clear();
        _wallMs += kTtlSeconds / 2 * 1000;
        receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
        CPPUNIT_ASSERT(turnsTo(alice).empty());

        _sink->sent.clear();
        _wallMs += 1000;
        receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink->sent.size());
        const auto turns = turnsTo(alice);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), turns.size());
        CPPUNIT_ASSERT_EQUAL(_wallMs / 1000 + kTtlSeconds, turns[0].expiry);
        CPPUNIT_ASSERT(TurnCredentials::key(kTurnSecret, "alice", turns[0].expiry) == turns[0].key);
        CPPUNIT_ASSERT_EQUAL(turns[0].expiry, _directory->find("alice")->turnExpiry);

        // The new one is fresh: the next heartbeats get only seen.
        _sink->sent.clear();
        _wallMs += 1000;
        receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink->sent.size());
        CPPUNIT_ASSERT(turnsTo(alice).empty());
    }

    // A lost turn would leave a peerd without a relay for hours: each
    // introduction it asks for brings a new one (the peer introduced gets none).
    void testIntroductionGrantsRequesterTurnAgain()
    {
        useRelay();
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        befriend(alice, bob);
        _sink->sent.clear();
        receive(alice.seal(Punch{"bob"}), "127.0.0.1:5001");
        const auto turns = turnsTo(alice);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), turns.size());
        CPPUNIT_ASSERT(TurnCredentials::key(kTurnSecret, "alice", turns[0].expiry) == turns[0].key);
        CPPUNIT_ASSERT(turnsTo(bob).empty());
        // A punch over the limit introduces nobody and grants nothing.
        _sink->sent.clear();
        receive(alice.seal(Punch{"bob"}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
    }

    void testNoTurnWithoutRelay()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        CPPUNIT_ASSERT(turnsTo(alice).empty());
        _sink->sent.clear();
        _wallMs += (kTtlSeconds + 1) * 1000;
        receive(alice.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        // The alive was answered (seen), and nothing else came.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
        CPPUNIT_ASSERT(std::holds_alternative<Seen>(*alice.open(lastTo("127.0.0.1:5001"))));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), _directory->find("alice")->turnExpiry);
    }

    void testSealBetweenOldKeysAnsweredBareRelogin()
    {
        // alice's peerd logged in again with a new kx key; a datagram of the
        // old session, still on its way, is between keys indexd let go.
        TestPeer before("alice", "127.0.0.1:5001");
        TestPeer after("alice", "127.0.0.1:5001", before.key());
        login(before);
        login(after);
        _sink->sent.clear();
        receive(before.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"relogin"}));
        receive(after.seal(Alive{"alice", 1}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(after.open(lastTo("127.0.0.1:5001")));
    }

    void testSealedLogoutTellsContactsGone()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        befriend(alice, bob);
        skipPresence(bob);
        receive(alice.seal(Logout{"alice", alice.endpoint()}), "127.0.0.1:5001");
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT(!_directory->session("alice"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _routes.lists() - 1);  // her list is forgotten, bob's kept
        const auto toBob = presenceTo(bob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), toBob.size());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), std::get<Gone>(toBob.front()).name);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), std::get<Gone>(toBob.front()).seq);
    }

    void testPlainLogoutAliveAndAckDropped()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        login(alice);
        login(bob);
        _sink->sent.clear();
        const auto version = _directory->version();
        // Spoofed from alice's own endpoint: still plain, still dropped.
        for (const std::string text : {"logout,alice,127.0.0.1:5001", "alive,alice,2", "ack,alice,ab12,1"}) {
            _log->lines.clear();
            receive(text, "127.0.0.1:5001");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::size_t(1), _log->lines.size());
        }
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(version, _directory->version());
        // A spoofed heartbeat does not keep alice online.
        _now += kExpireAfter;
        receive("alive,alice,2", "127.0.0.1:5001");
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(!_directory->find("alice"));
    }

    void testPostStoredAndDeliveredAsMailWithSenderKey()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        TestPeer bob("bob", "127.0.0.1:5002");
        // bob has logged in before, so alice's peerd knows his key.
        login(bob);
        receive(bob.seal(Logout{"bob", bob.endpoint()}), "127.0.0.1:5002");
        login(alice);
        const std::string text = "msg,ab12,1,12:00:00,alice,hi, bob";
        const std::string box = OfflineBox::seal(alice.key(), bob.key().publicKey(), text);
        receive(alice.seal(Post{"bob", "ab12", 1, box}), "127.0.0.1:5001");
        const auto stored = alice.open(lastTo("127.0.0.1:5001"));
        CPPUNIT_ASSERT(stored && std::holds_alternative<Stored>(*stored));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), std::get<Stored>(*stored).to);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
        _sink->sent.clear();

        bob.rekey();
        login(bob);
        // The challenge, the welcome, the letter.
        const auto toBob = sentTo("127.0.0.1:5002");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), toBob.size());
        const auto mail = bob.open(toBob.back());
        CPPUNIT_ASSERT(mail && std::holds_alternative<Mail>(*mail));
        const Mail& letter = std::get<Mail>(*mail);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), letter.from);
        CPPUNIT_ASSERT(letter.identity == alice.key().publicKey());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), letter.seq);
        const auto opened = OfflineBox::open(bob.key(), letter.identity, letter.box);
        CPPUNIT_ASSERT(opened.ok());
        CPPUNIT_ASSERT_EQUAL(text, *opened);

        receive(bob.seal(Ack{"bob", "ab12", 1, {}}), "127.0.0.1:5002");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->countFor("bob"));
    }

    void testSilentPeerchatUserExpiredAndAnnounced()
    {
        TestPeer dave("dave", "127.0.0.1:5004");
        TestPeer erin("erin", "127.0.0.1:5005");
        login(dave);
        login(erin);
        befriend(dave, erin);
        _sink->sent.clear();

        _now += kExpireAfter - milliseconds(1);
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(presenceTo(erin).empty());
        receive(erin.seal(Alive{"erin", 2}), "127.0.0.1:5005");
        skipPresence(erin);

        _now += milliseconds(1);
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(!_directory->find("dave"));
        const auto toErin = presenceTo(erin);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), toErin.size());
        CPPUNIT_ASSERT_EQUAL(std::string("dave"), std::get<Gone>(toErin.front()).name);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), std::get<Gone>(toErin.front()).seq);

        // An expired user's heartbeat is told to log in again.
        _sink->sent.clear();
        receive(dave.seal(Alive{"dave", 3}), "127.0.0.1:5004");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"relogin"}));
    }

    void testHeartbeatsKeepPeerchatUserOnline()
    {
        TestPeer dave("dave", "127.0.0.1:5004");
        login(dave);
        for (int beat = 0; beat < 20; ++beat) {
            _now += kExpireAfter / 2;
            receive(dave.seal(Alive{"dave", 1}), "127.0.0.1:5004");
            _handler->expireSilentUsers(kExpireAfter);
        }
        CPPUNIT_ASSERT(_directory->find("dave"));
        // The stamps of old challenges are forgotten as time goes by.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _keys->stampsHeld());
        _wallMs += LoginHandler::kChallengeMaxAgeMs + 1;
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _keys->stampsHeld());
    }

    void testBadDatagramsAnsweredByNothing()
    {
        _handler = makeHandler(true);
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        legacyLogin(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        _sink->sent.clear();
        const auto version = _directory->version();

        for (const auto& bytes : peerchat::test::badDatagrams()) {
            // Each is dropped with exactly one line that names where it came from.
            _log->lines.clear();
            receive(bytes, "127.0.0.1:5009");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(bytes, std::size_t(1), _log->lines.size());
            CPPUNIT_ASSERT_MESSAGE(_log->lines.front(), _log->lines.front().find("127.0.0.1:5009") != std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _sink->sent.size());
        CPPUNIT_ASSERT_EQUAL(version, _directory->version());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _directory->size());
        CPPUNIT_ASSERT(!_directory->find("mallory"));
    }

    void testPeerchatVerbsInUtf16Dropped()
    {
        TestPeer alice("alice", "127.0.0.1:5001");
        for (const std::string& text : {alice.hello(), std::string("alive,alice,1"), std::string("ack,alice,ab,1")}) {
            _log->lines.clear();
            receive(toUtf16le(text), "127.0.0.1:5001");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::size_t(1), _log->lines.size());
            CPPUNIT_ASSERT_MESSAGE(_log->lines.front(), _log->lines.front().find("UTF-8 only") != std::string::npos);
        }
        CPPUNIT_ASSERT(_sink->sent.empty());
    }

    void testPlainLoginRefusedLegacyWithoutLegacy()
    {
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"refuse,alice,legacy"}));
        // Refused where it came from, never at the endpoint written in it.
        CPPUNIT_ASSERT(sentTo("127.0.0.1:40000") == strings({toUtf16le("refuse,carol,legacy")}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000").empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _directory->size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _log->count("--legacy"));
    }

    void testDotNetLoginNamingAnotherAddressAnsweredOnlyAtSource()
    {
        // The attack: bob's endpoint written into a .NET login sent from the attacker's own address.
        receive(toUtf16le("login,bob,127.0.0.1:5002"), "127.0.0.9:40000");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002").empty());
        CPPUNIT_ASSERT(sentTo("127.0.0.9:40000") == strings({toUtf16le("refuse,bob,legacy")}));
        // In legacy mode, not even an Accept goes there: the login is dropped.
        _handler = makeHandler(true);
        _sink->sent.clear();
        receive(toUtf16le("login,bob,127.0.0.1:5002"), "127.0.0.9:40000");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _handler->drops().total(DropReason::Unexpected));
        _handler->handleRosterConnection(address("127.0.0.9"));
        _handler->handleRosterConnection(address("127.0.0.1"));
        CPPUNIT_ASSERT(!_directory->find("bob"));
    }

    void testPlainPeerchatLoginRefusedVersion()
    {
        _handler = makeHandler(true);
        receive("login,dave,127.0.0.1:5004,peerchat/1", "127.0.0.1:5004");
        receive("login,erin,127.0.0.1:5005,peerchat/2", "127.0.0.1:5005");
        receive(toUtf16le("login,carol,127.0.0.1:6000,peerchat/1"), "127.0.0.1:40000");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5004") == strings({"refuse,dave,version"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5005") == strings({"refuse,erin,version"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:40000") == strings({toUtf16le("refuse,carol,version")}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _directory->size());
    }

    void testLegacyLoginAcceptedAtSourceAndAnnounced()
    {
        _handler = makeHandler(true);
        TestPeer dave("dave", "127.0.0.1:5004");
        login(dave);
        legacyLogin("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        legacyLogin(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        presenceTo(dave);
        _sink->sent.clear();

        // A client behind NAT writes its private endpoint; it is reachable where it came from.
        legacyLogin("login, alice, 192.168.1.5:6000", "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"Accept,4001"}));
        CPPUNIT_ASSERT(_directory->find("alice")->dialect == Dialect::Seed);
        CPPUNIT_ASSERT(!_directory->find("alice")->keys);
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002") == strings({"login,alice,127.0.0.1:5001"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000") == strings({toUtf16le("login,alice,127.0.0.1:5001")}));
        // A peerchat/3 user sees every seed and .NET user, sealed, without keys.
        const auto toDave = presenceTo(dave);
        const Here& seen = std::get<Here>(toDave.back());
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), seen.name);
        CPPUNIT_ASSERT_EQUAL(std::string("seed"), seen.dialect);
        CPPUNIT_ASSERT(!seen.keys);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), _sink->sent.size());

        // Seed users never hear of a peerchat/3 user, who shows itself to its contacts only.
        _sink->sent.clear();
        TestPeer erin("erin", "127.0.0.1:5005");
        login(erin);
        declare(erin, {"bob", "dave"});
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002").empty());
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000").empty());

        // Again from the same endpoint: accepted quietly.
        _sink->sent.clear();
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"Accept,4001"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink->sent.size());
        // From elsewhere: taken.
        receive("login,alice,127.0.0.1:5003", "127.0.0.1:5003");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5003") == strings({"refuse,alice,taken"}));
    }

    void testLegacyLoginOnlineOnlyOnceRosterConnectionProvesIt()
    {
        _handler = makeHandler(true);
        TestPeer dave("dave", "127.0.0.1:5004");
        login(dave);
        legacyLogin("login,bob,127.0.0.2:5002", "127.0.0.2:5002");
        presenceTo(dave);
        _sink->sent.clear();

        // Answered at once, no longer than the login; nobody hears of it, it is in no roster.
        receive("login,alice,10.0.0.1:5001", "127.0.0.1:5001");
        receive("login,erin,10.0.0.1:5005", "127.0.0.1:5005");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"Accept,4001"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink->sent.size());
        CPPUNIT_ASSERT(!_directory->find("alice"));
        // A roster connection from another address proves nothing.
        _handler->handleRosterConnection(address("127.0.0.3"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink->sent.size());

        // One from its address proves the oldest login from there: alice, announced to everyone.
        _handler->handleRosterConnection(address("127.0.0.1"));
        CPPUNIT_ASSERT(_directory->find("alice") && !_directory->find("erin"));
        CPPUNIT_ASSERT(sentTo("127.0.0.2:5002") == strings({"login,alice,127.0.0.1:5001"}));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), std::get<Here>(presenceTo(dave).back()).name);
        // The next one proves erin; one more proves nothing.
        _handler->handleRosterConnection(address("127.0.0.1"));
        CPPUNIT_ASSERT(_directory->find("erin"));
        _sink->sent.clear();
        _handler->handleRosterConnection(address("127.0.0.1"));
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), _directory->size());
    }

    void testUnprovenLegacyLoginForgottenAfterProofTime()
    {
        _handler = makeHandler(true);
        legacyLogin("login,bob,127.0.0.2:5002", "127.0.0.2:5002");
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        _now += milliseconds(999);
        _handler->expireUnprovenLogins(milliseconds(1000));
        _now += milliseconds(1);
        _handler->expireUnprovenLogins(milliseconds(1000));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _handler->drops().total(DropReason::Unauthentic));
        _sink->sent.clear();
        _handler->handleRosterConnection(address("127.0.0.1"));
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT(_sink->sent.empty());
        // Proven users stay.
        CPPUNIT_ASSERT(_directory->find("bob"));
    }

    void testLegacyLoginReplacesUnprovenLoginOfSameName()
    {
        _handler = makeHandler(true);
        // Forged from 127.0.0.9 before the real alice: it does not keep her out.
        receive("login,alice,127.0.0.9:5009", "127.0.0.9:5009");
        legacyLogin("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), _directory->find("alice")->endpoint.toString());
        _handler->handleRosterConnection(address("127.0.0.9"));
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5001"), _directory->find("alice")->endpoint.toString());
        // Once online, she is taken: a forged login after that is refused, at its source.
        receive("login,alice,127.0.0.9:5009", "127.0.0.9:5009");
        CPPUNIT_ASSERT(sentTo("127.0.0.9:5009") == strings({"Accept,4001", "refuse,alice,taken"}));
    }

    void testLegacyLogoutBeforeProofForgetsLogin()
    {
        _handler = makeHandler(true);
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        // Not from alice's endpoint: nothing forgotten.
        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5002");
        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5001");
        _handler->handleRosterConnection(address("127.0.0.1"));
        CPPUNIT_ASSERT(!_directory->find("alice"));
    }

    void testLegacyLoginsOfOneAddressLimitedRefusedBusy()
    {
        _loginLimiter = std::make_unique<RateLimiter>(2.0 / 60, 2, 100);
        _handler = makeHandler(true);
        receive("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        // Sent again while it waits: free.
        receive("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        receive("login,carol,127.0.0.1:5003", "127.0.0.1:5003");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002") == strings({"Accept,4001", "Accept,4001"}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5003") == strings({"refuse,carol,busy"}));
        // Other addresses have their own.
        receive("login,carol,127.0.0.2:5003", "127.0.0.2:5003");
        CPPUNIT_ASSERT(sentTo("127.0.0.2:5003") == strings({"Accept,4001"}));
    }

    void testLegacyDotNetLoginAtWrittenEndpointInUtf16()
    {
        _handler = makeHandler(true);
        legacyLogin(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6000") == strings({toUtf16le("Accept,4002")}));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:40000").empty());
        CPPUNIT_ASSERT(_directory->find("carol")->dialect == Dialect::DotNet);
        legacyLogin(toUtf16le("login,frank,0.0.0.0:6001"), "127.0.0.2:40000");
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.2:6001"), _directory->find("frank")->endpoint.toString());
        // The .NET program logs out from any port of its address.
        receive(toUtf16le("logout,carol,127.0.0.1:6000"), "127.0.0.1:40123");
        CPPUNIT_ASSERT(!_directory->find("carol"));
    }

    void testLegacyLoginOfBoundNameRefusedKey()
    {
        _handler = makeHandler(true);
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        receive(alice.seal(Logout{"alice", alice.endpoint()}), "127.0.0.1:5001");
        receive("login,alice,127.0.0.1:5009", "127.0.0.1:5009");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5009") == strings({"refuse,alice,key"}));
        CPPUNIT_ASSERT(!_directory->find("alice"));
    }

    void testLegacyLoginCannotDisplacePeerchatUser()
    {
        _handler = makeHandler(true);
        TestPeer alice("alice", "127.0.0.1:5001");
        login(alice);
        _sink->sent.clear();
        // Spoofed from alice's endpoint, under another name.
        receive("login,mallory,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5001") == strings({"refuse,mallory,taken"}));
        CPPUNIT_ASSERT(_directory->find("alice"));
        CPPUNIT_ASSERT(!_directory->find("mallory"));
    }

    void testLegacyLogoutOnlyFromRegisteredEndpoint()
    {
        _handler = makeHandler(true);
        legacyLogin("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        legacyLogin("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        _sink->sent.clear();
        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5002");
        receive("logout,nobody,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT(_directory->find("alice"));
        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5001");
        CPPUNIT_ASSERT(!_directory->find("alice"));
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002") == strings({"logout,alice,127.0.0.1:5001"}));
    }

    void testLegacyUsersNeverExpire()
    {
        _handler = makeHandler(true);
        legacyLogin("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        legacyLogin(toUtf16le("login,carol,127.0.0.1:6000"), "127.0.0.1:40000");
        _sink->sent.clear();
        _now += std::chrono::hours(24 * 365);
        _handler->expireSilentUsers(kExpireAfter);
        CPPUNIT_ASSERT(_sink->sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _directory->size());
    }

    void testPresenceNumberedPerRecipient()
    {
        _handler = makeHandler(true);
        TestPeer dave("dave", "127.0.0.1:5004");
        TestPeer erin("erin", "127.0.0.1:5005");
        login(dave);
        declare(dave, {"erin"});
        legacyLogin("login,alice,127.0.0.1:5001", "127.0.0.1:5001");
        _presence->flush();
        legacyLogin("login,bob,127.0.0.1:5002", "127.0.0.1:5002");
        _presence->flush();
        receive("logout,alice,127.0.0.1:5001", "127.0.0.1:5001");
        legacyLogin("login,carol,127.0.0.1:5003", "127.0.0.1:5003");
        _now += milliseconds(100);
        login(erin);
        declare(erin, {"dave"});
        _now += kExpireAfter - milliseconds(100);
        receive(dave.seal(Alive{"dave", 7}), "127.0.0.1:5004");
        _handler->expireSilentUsers(kExpireAfter);
        _now += milliseconds(100);
        _handler->expireSilentUsers(kExpireAfter);
        _presence->flush();

        std::vector<std::string> toDave;
        for (const auto& datagram : sentTo("127.0.0.1:5004")) {
            const auto messages = dave.openBundle(datagram);
            for (const Message& message : messages) {
                if (const auto* seen = std::get_if<Seen>(&message))
                    toDave.push_back("seen," + std::to_string(seen->seq));
                else if (const auto* snapshot = std::get_if<Snapshot>(&message))
                    toDave.push_back("snapshot," + std::to_string(snapshot->count) + "," + std::to_string(snapshot->seq));
                else if (const auto* here = std::get_if<Here>(&message))
                    toDave.push_back("here," + here->name + "," + std::to_string(here->seq));
                else if (const auto* gone = std::get_if<Gone>(&message))
                    toDave.push_back("gone," + gone->name + "," + std::to_string(gone->seq));
            }
        }
        CPPUNIT_ASSERT(toDave
                       == strings({"snapshot,0,1", "here,alice,2", "here,bob,3", "gone,alice,4", "here,carol,5",
                                   "here,erin,6", "seen,6", "gone,erin,7"}));
        // Seed users see what they always saw, and no peerchat/3 user.
        CPPUNIT_ASSERT(sentTo("127.0.0.1:5002")
                       == strings({"Accept,4001", "logout,alice,127.0.0.1:5001", "login,carol,127.0.0.1:5003"}));
    }

private:
    // Part index of parts of peer's contact list, signed by peer.
    static ContactsDeclaration signedList(const TestPeer& peer, std::uint64_t version, std::uint32_t index,
                                          std::uint32_t parts, std::vector<std::string> names)
    {
        ContactsDeclaration part{peer.name(), version, index, parts, PresenceState::Online, {}, std::move(names), {}};
        part.sig = peer.key().sign(peerchat::SignedStatement::contacts(part));
        return part;
    }

    std::unique_ptr<LoginHandler> makeHandler(bool legacy, RosterPorts ports = kPorts)
    {
        // Flushed by the test (flushPresence), as indexd's tick would.
        _presence = std::make_unique<PresenceRouter>(*_directory, _routes, *_sealed, legacy, [] {});
        return std::make_unique<LoginHandler>(
            LoginHandler::Parts{*_directory, *_keys, *_limiter, *_loginLimiter, *_broadcaster, *_presence, *_carrier,
                                _routes, *_sealed, *_identity, *_sink, _relay.get()},
            ports, legacy, [this] { return _now; }, [this] { return _wallMs; });
    }

    // peer declares names as its contact list (one part, version given), and the tick passes.
    void declare(TestPeer& peer, std::vector<std::string> names, std::uint64_t version = 1,
                 PresenceState state = PresenceState::Online)
    {
        ContactsDeclaration part = signedList(peer, version, 1, 1, std::move(names));
        part.state = state;
        part.sig = peer.key().sign(peerchat::SignedStatement::contacts(part));
        receive(peer.seal(part), peer.endpoint().toString());
        _presence->flush();
    }

    // Each of a and b declares the other, as two contacts' peerds do.
    void befriend(TestPeer& a, TestPeer& b)
    {
        declare(a, {b.name()});
        declare(b, {a.name()});
    }

    // The presence (here, gone, snapshot) sealed for peer in the datagrams
    // sent to it since the last call, once the tick passed. Opens them all.
    std::vector<Message> presenceTo(TestPeer& peer)
    {
        _presence->flush();
        std::vector<Message> presence;
        for (const auto& datagram : sentTo(peer.endpoint().toString())) {
            if (!_presenceRead[peer.name()].insert(datagram).second) continue;
            for (const Message& message : peer.openBundle(datagram)) {
                if (std::holds_alternative<Here>(message) || std::holds_alternative<Gone>(message)
                    || std::holds_alternative<Snapshot>(message))
                    presence.push_back(message);
            }
        }
        return presence;
    }

    // Starts presenceTo(peer) after what was sent to it so far.
    void skipPresence(TestPeer& peer)
    {
        _presence->flush();
        for (const auto& datagram : sentTo(peer.endpoint().toString())) _presenceRead[peer.name()].insert(datagram);
    }

    // From now on, indexd hands out credentials for kTurnServer under kTurnSecret.
    void useRelay()
    {
        peerchat::LockedSecret<TurnRelay::Secret> secret;
        std::copy(kTurnSecret.begin(), kTurnSecret.end(), secret->bytes.begin());
        secret->size = kTurnSecret.size();
        _relay = std::make_unique<TurnRelay>(endpoint(kTurnServer), std::move(secret));
        _handler = makeHandler(false);
    }

    // Every Turn sealed for peer at its endpoint, in the order sent. Opens
    // every datagram sent there, which cannot be opened again.
    std::vector<Turn> turnsTo(TestPeer& peer)
    {
        std::vector<Turn> turns;
        for (const auto& datagram : sentTo(peer.endpoint().toString())) {
            const auto message = peer.open(datagram);
            if (message && std::holds_alternative<Turn>(*message)) turns.push_back(std::get<Turn>(*message));
        }
        return turns;
    }

    void receive(const std::string& bytes, const std::string& source)
    {
        _handler->handleDatagram(bytes, endpoint(source));
    }

    // A plain login from source, then the roster connection from its address that proves it, as the seed does.
    void legacyLogin(const std::string& bytes, const std::string& source)
    {
        receive(bytes, source);
        _handler->handleRosterConnection(endpoint(source).host());
    }

    std::vector<std::string> sentTo(const std::string& destination) const
    {
        return _sink->to(endpoint(destination));
    }

    std::string lastTo(const std::string& destination) const
    {
        const auto sent = sentTo(destination);
        CPPUNIT_ASSERT_MESSAGE("nothing sent to " + destination, !sent.empty());
        return sent.back();
    }

    // Sends peer's hello from its endpoint; what indexd sent back last, the challenge.
    std::string challengeFor(const TestPeer& peer)
    {
        const std::string at = peer.endpoint().toString();
        receive(peer.hello(), at);
        return lastTo(at);
    }

    // Logs peer in as peerd does: hello, challenge, auth, welcome.
    void login(TestPeer& peer)
    {
        const std::string at = peer.endpoint().toString();
        const std::string auth = peer.auth(challengeFor(peer));
        const std::size_t before = _sink->sent.size();
        receive(auth, at);
        // The welcome comes first; waiting letters may follow it.
        CPPUNIT_ASSERT_MESSAGE("nothing sent to " + at, _sink->sent.size() > before);
        CPPUNIT_ASSERT_MESSAGE(_sink->sent[before].bytes, _sink->sent[before].to == peer.endpoint()
                                                              && peer.welcome(_sink->sent[before].bytes));
    }

    // True when the last datagram to where opens for peer.
    bool openLast(TestPeer& peer, const std::string& where) { return peer.open(lastTo(where)).has_value(); }

    // A seal between keys indexd never saw.
    static std::string sealFromNowhere()
    {
        TestPeer stranger("x", "127.0.0.1:1");
        const IndexIdentity other(SigningKey::generate());
        auto cipher = peerchat::SessionCipher::between(stranger.kx(), stranger.key(), other.publicKey(),
                                                       other.kx().publicKey());
        return Protocol::encode(cipher->seal(""));
    }

    std::unique_ptr<Directory> _directory;
    std::unique_ptr<RecordingSink> _sink;
    std::unique_ptr<IndexIdentity> _identity;
    std::unique_ptr<Broadcaster> _broadcaster;
    std::unique_ptr<PresenceRouter> _presence;
    std::map<std::string, std::set<std::string>> _presenceRead;  ///< datagrams presenceTo() took, per peer
    std::unique_ptr<IndexDatabase> _database;
    std::unique_ptr<Mailbox> _mailbox;
    std::unique_ptr<KeyRegistry> _keys;
    std::unique_ptr<RateLimiter> _limiter;
    std::unique_ptr<RateLimiter> _loginLimiter;
    std::unique_ptr<SealedSender> _sealed;
    std::unique_ptr<MailCarrier> _carrier;
    peerchat::ContactRoutes _routes;
    std::unique_ptr<TurnRelay> _relay;
    std::unique_ptr<LoginHandler> _handler;
    Directory::TimePoint _now{};
    std::uint64_t _wallMs = kWallStart;
    Poco::AutoPtr<RecordingChannel> _log;
};

CPPUNIT_TEST_SUITE_REGISTRATION(LoginHandlerTest);
