#include "PeerPaths.h"

#include "KxKeyPair.h"
#include "ManualTimers.h"
#include "PeerTestData.h"
#include "SessionCipher.h"
#include "SignedStatement.h"
#include "SigningKey.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>
#include <vector>

using namespace peerchat;
using namespace std::chrono_literals;
using test::endpoint;
using test::ManualTimers;

namespace {

const Endpoint kBobRegistered = endpoint("198.18.0.12:6000");
const Endpoint kBobHost = endpoint("10.0.2.2:6000");
const Endpoint kBobRelay = endpoint("198.18.0.1:49152");
const Endpoint kElsewhere = endpoint("203.0.113.9:7000");

struct Datagram
{
    std::string bytes;
    Endpoint to;
};

struct RecordingSink : DatagramSink
{
    void sendTo(std::string_view bytes, const Endpoint& to) override { sent.push_back({std::string(bytes), to}); }
    std::vector<Datagram> sent;
};

} // namespace

/// The path state machine on a hand-turned clock: where alice's peerd sends
/// to bob, when it asks indexd to introduce them, what it probes, how a path
/// is chosen, kept alive and lost. Bob's side opens what alice sends.
class PeerPathsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PeerPathsTest);
    CPPUNIT_TEST(testFirstLineGoesToRegisteredEndpoint);
    CPPUNIT_TEST(testAnswerOnRegisteredEndpointMakesPathDirectWithoutPunch);
    CPPUNIT_TEST(testNoAnswerAsksIndexdToIntroduceAndProbes);
    CPPUNIT_TEST(testPunchAtMostEveryPunchInterval);
    CPPUNIT_TEST(testPunchRepeatedWhileNothingAnswers);
    CPPUNIT_TEST(testAnswerStopsPunching);
    CPPUNIT_TEST(testUnansweredLineOnProvenPathPunches);
    CPPUNIT_TEST(testAckExpectsNoAnswer);
    CPPUNIT_TEST(testMeetProbesHostCandidatesFirst);
    CPPUNIT_TEST(testAnswerFromHostCandidateMakesPathLan);
    CPPUNIT_TEST(testWorsePathDoesNotReplaceProvenBetterOne);
    CPPUNIT_TEST(testStalePathReplacedByAnyAnswer);
    CPPUNIT_TEST(testHostCandidateThatIsRegisteredEndpointIsDirect);
    CPPUNIT_TEST(testRelayCandidateIsRelay);
    CPPUNIT_TEST(testKeepaliveOnQuietPathThenLost);
    CPPUNIT_TEST(testNoKeepaliveForIdleConversation);
    CPPUNIT_TEST(testProbeAnsweredWhereItCameFrom);
    CPPUNIT_TEST(testPeerMovedForgetsPath);
    CPPUNIT_TEST(testCandidateEndpointKnownOnlyWithSendersKey);
    CPPUNIT_TEST(testMeetForPeerOfflineIgnored);
    CPPUNIT_TEST(testProbingWithoutAnswerWantsRelay);
    CPPUNIT_TEST(testAnswerInTimeWantsNoRelay);
    CPPUNIT_TEST(testRelayReadyIntroducesSoughtPeersAgain);
    CPPUNIT_TEST(testRelayedAnswerMakesRouteThroughRelay);
    CPPUNIT_TEST(testDirectAnswerReplacesRelayedRoute);
    CPPUNIT_TEST(testRelayRouteSeeksUpgrade);
    CPPUNIT_TEST(testRelayLostDropsRoutesThroughIt);
    CPPUNIT_TEST(testRelayedSealKnownByHostAndKey);
    CPPUNIT_TEST(testLinesAskForCapsAFewTimes);
    CPPUNIT_TEST(testAskForCapsAnsweredAtMostEveryInterval);
    CPPUNIT_TEST(testBundlesOnlyToPeerThatTakesThem);
    CPPUNIT_TEST(testNewLoginOfPeerForgetsItsCaps);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _timers = std::make_unique<ManualTimers>();
        _sink = RecordingSink();
        _relay = RecordingSink();
        _relayWanted = 0;
        _introduced.clear();
        _moved.clear();
        _changes.clear();
        _roster = std::make_unique<Roster>("alice");
        _sessions = std::make_unique<PeerSessions>(_alice);
        KxKeyPair aliceKx = KxKeyPair::generate();
        _aliceKx = aliceKx.publicKey();
        const KxKeyPair indexKx = KxKeyPair::generate();
        CPPUNIT_ASSERT(_sessions->renew(std::move(aliceKx), _index.publicKey(), indexKx.publicKey()));
        _roster->here("bob", Roster::Peer{kBobRegistered, Dialect::Peerchat, bobKeys()});
        _bobCipher = SessionCipher::between(_bobKx, _bob, _alice.publicKey(), _aliceKx);
        CPPUNIT_ASSERT(_bobCipher.has_value());
        _paths = std::make_unique<PeerPaths>(
            *_timers, _sink, _relay, *_roster, *_sessions, "alice",
            PeerPaths::Hooks{[this](const std::string& peer) { _introduced.push_back(peer); },
                             [this](const std::string& peer) { _moved.push_back(peer); },
                             [this](const std::string& peer, PathKind kind) { _changes.emplace_back(peer, kind); },
                             [this] { ++_relayWanted; }});
        // Bob's peerd has said what it takes: the path tests see lines only (the caps tests below begin without).
        _paths->caps("bob", Caps{"bob", "alice", "bundle", true});
    }

    void tearDown() override { _paths.reset(); }

    void testFirstLineGoesToRegisteredEndpoint()
    {
        _paths->send("bob", line());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT(_sink.sent[0].to == kBobRegistered);
        CPPUNIT_ASSERT(std::holds_alternative<Msg>(open(0)));
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::None);
    }

    void testAnswerOnRegisteredEndpointMakesPathDirectWithoutPunch()
    {
        _paths->send("bob", line());
        _timers->advance(50ms);
        _paths->heard("bob", kBobRegistered);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Direct);
        CPPUNIT_ASSERT(_changes == (Changes{{"bob", PathKind::Direct}}));
        _timers->advance(5s);
        CPPUNIT_ASSERT(_introduced.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
    }

    void testNoAnswerAsksIndexdToIntroduceAndProbes()
    {
        _paths->send("bob", line());
        _timers->advance(PeerPaths::kPunchAfter - 1ms);
        CPPUNIT_ASSERT(_introduced.empty());
        _timers->advance(1ms);
        CPPUNIT_ASSERT(_introduced == std::vector<std::string>{"bob"});
        // Probes to what is known (the registered endpoint), every kProbeEvery, for kSeekFor.
        _timers->advance(PeerPaths::kSeekFor + 1s);
        const std::size_t rounds = PeerPaths::kSeekFor / PeerPaths::kProbeEvery;
        CPPUNIT_ASSERT_EQUAL(1 + rounds, _sink.sent.size());
        for (std::size_t i = 1; i < _sink.sent.size(); ++i) {
            CPPUNIT_ASSERT(_sink.sent[i].to == kBobRegistered);
            const Probe probe = std::get<Probe>(open(i));
            CPPUNIT_ASSERT(probe.from == "alice" && probe.to == "bob");
        }
        _timers->advance(30s);
        CPPUNIT_ASSERT_EQUAL(1 + rounds, _sink.sent.size());
    }

    void testPunchAtMostEveryPunchInterval()
    {
        // Lines every kPunchAfter, never answered: indexd is asked again every
        // kPunchEvery while the probes go on, and no more often.
        const auto start = _timers->now();
        for (int i = 0; i < 10; ++i) {
            _paths->send("bob", line());
            _timers->advance(PeerPaths::kPunchAfter);
        }
        const auto asked = (_timers->now() - start - PeerPaths::kPunchAfter) / PeerPaths::kPunchEvery + 1;
        CPPUNIT_ASSERT_EQUAL(static_cast<std::size_t>(asked), _introduced.size());
    }

    void testPunchRepeatedWhileNothingAnswers()
    {
        _paths->send("bob", line());
        _timers->advance(PeerPaths::kPunchAfter + PeerPaths::kSeekFor);
        const std::size_t repeats = (PeerPaths::kSeekFor - 1ms) / PeerPaths::kPunchEvery;
        CPPUNIT_ASSERT_EQUAL(1 + repeats, _introduced.size());
        _timers->advance(30s);
        CPPUNIT_ASSERT_EQUAL(1 + repeats, _introduced.size());
    }

    void testAnswerStopsPunching()
    {
        _paths->send("bob", line());
        _timers->advance(PeerPaths::kPunchAfter);
        _paths->heard("bob", kBobRegistered);
        _timers->advance(PeerPaths::kSeekFor);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _introduced.size());
    }

    void testUnansweredLineOnProvenPathPunches()
    {
        _paths->send("bob", line());
        _paths->heard("bob", kBobRegistered);
        _timers->advance(1s);
        // The mapping expired on the way: the path was heard from a second ago, yet nothing answers this line.
        _paths->send("bob", line());
        _timers->advance(PeerPaths::kPunchAfter);
        CPPUNIT_ASSERT(_introduced == std::vector<std::string>{"bob"});
    }

    void testAckExpectsNoAnswer()
    {
        _paths->send("bob", Ack{"alice", "ff", 1, {}});
        _timers->advance(5s);
        CPPUNIT_ASSERT(_introduced.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
    }

    void testMeetProbesHostCandidatesFirst()
    {
        _paths->meet(Meet{"bob", {{CandidateKind::Relay, kBobRelay},
                                  {CandidateKind::Reflexive, kBobRegistered},
                                  {CandidateKind::Host, kBobHost}}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink.sent.size());
        CPPUNIT_ASSERT(_sink.sent[0].to == kBobHost);
        CPPUNIT_ASSERT(_sink.sent[1].to == kBobRegistered);
        CPPUNIT_ASSERT(_sink.sent[2].to == kBobRelay);
        for (std::size_t i = 0; i < 3; ++i) CPPUNIT_ASSERT(std::holds_alternative<Probe>(open(i)));
        CPPUNIT_ASSERT(_introduced.empty());
    }

    void testAnswerFromHostCandidateMakesPathLan()
    {
        meetWithHost();
        _paths->heard("bob", kBobHost);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Lan);
        CPPUNIT_ASSERT(_moved == std::vector<std::string>{"bob"});
        _paths->send("bob", line());
        CPPUNIT_ASSERT(_sink.sent.back().to == kBobHost);
    }

    void testWorsePathDoesNotReplaceProvenBetterOne()
    {
        meetWithHost();
        _paths->heard("bob", kBobHost);
        _paths->heard("bob", kBobRegistered);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Lan);
        CPPUNIT_ASSERT(_changes == (Changes{{"bob", PathKind::Lan}}));
    }

    void testStalePathReplacedByAnyAnswer()
    {
        meetWithHost();
        _paths->heard("bob", kBobHost);
        _timers->advance(PeerPaths::kStale);
        _paths->heard("bob", kElsewhere);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Direct);
        _paths->send("bob", line());
        CPPUNIT_ASSERT(_sink.sent.back().to == kElsewhere);
    }

    void testHostCandidateThatIsRegisteredEndpointIsDirect()
    {
        _paths->meet(Meet{"bob", {{CandidateKind::Host, kBobRegistered}}});
        _paths->heard("bob", kBobRegistered);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Direct);
    }

    void testRelayCandidateIsRelay()
    {
        _paths->meet(Meet{"bob", {{CandidateKind::Relay, kBobRelay}}});
        _paths->heard("bob", kBobRelay);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Relay);
    }

    void testKeepaliveOnQuietPathThenLost()
    {
        _paths->send("bob", line());
        _paths->heard("bob", kBobRegistered);
        const std::size_t before = _sink.sent.size();
        _timers->advance(PeerPaths::kKeepalive - 1ms);
        CPPUNIT_ASSERT_EQUAL(before, _sink.sent.size());
        _timers->advance(1ms);
        CPPUNIT_ASSERT_EQUAL(before + 1, _sink.sent.size());
        CPPUNIT_ASSERT(std::holds_alternative<Probe>(open(before)));
        CPPUNIT_ASSERT(_sink.sent.back().to == kBobRegistered);
        _timers->advance(PeerPaths::kKeepalive);
        CPPUNIT_ASSERT_EQUAL(before + 2, _sink.sent.size());
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Direct);
        _timers->advance(PeerPaths::kKeepalive);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::None);
        CPPUNIT_ASSERT(_changes.back() == std::make_pair(std::string("bob"), PathKind::None));
    }

    void testNoKeepaliveForIdleConversation()
    {
        _paths->send("bob", line());
        _paths->heard("bob", kBobRegistered);
        const std::size_t before = _sink.sent.size();
        // An answer keeps it alive for kActiveFor after the last line; then nothing more is sent.
        for (int i = 0; i < 40; ++i) {
            _timers->advance(PeerPaths::kKeepalive);
            _paths->heard("bob", kBobRegistered);
        }
        const std::size_t afterActive = _sink.sent.size();
        CPPUNIT_ASSERT(afterActive > before);
        _timers->advance(std::chrono::minutes(30));
        CPPUNIT_ASSERT_EQUAL(afterActive, _sink.sent.size());
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Direct);
    }

    void testProbeAnsweredWhereItCameFrom()
    {
        ProbeToken token{};
        token.fill(7);
        _paths->probe("bob", Probe{"bob", "alice", token}, kElsewhere);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT(_sink.sent[0].to == kElsewhere);
        const Probed probed = std::get<Probed>(open(0));
        CPPUNIT_ASSERT(probed.from == "alice" && probed.to == "bob" && probed.token == token);
    }

    void testPeerMovedForgetsPath()
    {
        meetWithHost();
        _paths->heard("bob", kBobHost);
        CPPUNIT_ASSERT(_paths->knows(kBobHost));
        const Roster::Peer moved{kElsewhere, Dialect::Peerchat, bobKeys()};
        _roster->here("bob", moved);
        _paths->peerChanged(Roster::Change{"bob", moved, true});
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::None);
        CPPUNIT_ASSERT(!_paths->knows(kBobHost));
        CPPUNIT_ASSERT(_changes.back() == std::make_pair(std::string("bob"), PathKind::None));
        _paths->send("bob", line());
        CPPUNIT_ASSERT(_sink.sent.back().to == kElsewhere);
    }

    void testCandidateEndpointKnownOnlyWithSendersKey()
    {
        CPPUNIT_ASSERT(!_paths->knows(kBobHost));
        meetWithHost();
        CPPUNIT_ASSERT(_paths->knows(kBobHost));
        const std::string* bob = _paths->peerAt(kBobHost, KxKeyPair::idOf(_bobKx.publicKey()));
        CPPUNIT_ASSERT(bob != nullptr && *bob == "bob");
        CPPUNIT_ASSERT(_paths->peerAt(kBobHost, KxKeyPair::idOf(_aliceKx)) == nullptr);
        CPPUNIT_ASSERT(_paths->peerAt(kElsewhere, KxKeyPair::idOf(_bobKx.publicKey())) == nullptr);
    }

    void testMeetForPeerOfflineIgnored()
    {
        _paths->meet(Meet{"carol", {{CandidateKind::Host, kBobHost}}});
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT(!_paths->knows(kBobHost));
    }

    void testProbingWithoutAnswerWantsRelay()
    {
        _paths->send("bob", line());
        _timers->advance(PeerPaths::kPunchAfter + PeerPaths::kRelayAfter - PeerPaths::kProbeEvery);
        CPPUNIT_ASSERT_EQUAL(0, _relayWanted);
        _timers->advance(PeerPaths::kProbeEvery);
        CPPUNIT_ASSERT(_relayWanted > 0);
    }

    void testAnswerInTimeWantsNoRelay()
    {
        _paths->send("bob", line());
        _timers->advance(PeerPaths::kPunchAfter + PeerPaths::kRelayAfter / 2);
        _paths->heard("bob", kBobRegistered);
        _timers->advance(PeerPaths::kSeekFor);
        CPPUNIT_ASSERT_EQUAL(0, _relayWanted);
        CPPUNIT_ASSERT(_relay.sent.empty());
    }

    void testRelayReadyIntroducesSoughtPeersAgain()
    {
        _paths->send("bob", line());
        _timers->advance(PeerPaths::kPunchAfter + PeerPaths::kRelayAfter);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _introduced.size());
        const std::size_t before = _sink.sent.size();
        _paths->relayReady();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _introduced.size());
        CPPUNIT_ASSERT(_sink.sent.size() > before);
        CPPUNIT_ASSERT(std::holds_alternative<Probe>(open(before)));
        // The seek starts again from there, and the punch interval counts from that introduction.
        _timers->advance(PeerPaths::kPunchEvery - 1ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _introduced.size());
    }

    void testRelayedAnswerMakesRouteThroughRelay()
    {
        const Endpoint bobElsewhere = endpoint("198.18.0.12:40001");
        _paths->meet(Meet{"bob", {{CandidateKind::Reflexive, kBobRegistered}}});
        _paths->heard("bob", bobElsewhere, true);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Relay);
        CPPUNIT_ASSERT(_changes.back() == std::make_pair(std::string("bob"), PathKind::Relay));
        const std::size_t direct = _sink.sent.size();
        _paths->send("bob", line());
        CPPUNIT_ASSERT_EQUAL(direct, _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _relay.sent.size());
        CPPUNIT_ASSERT(_relay.sent[0].to == bobElsewhere);
        // A probe that came through the relay is answered through it.
        _paths->probe("bob", Probe{"bob", "alice", {}}, bobElsewhere, true);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _relay.sent.size());
        CPPUNIT_ASSERT_EQUAL(direct, _sink.sent.size());
    }

    void testDirectAnswerReplacesRelayedRoute()
    {
        _paths->heard("bob", kBobRegistered, true);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Relay);
        // The same endpoint without the relay is a better path, not the same one.
        _paths->heard("bob", kBobRegistered);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Direct);
        _paths->send("bob", line());
        CPPUNIT_ASSERT(_relay.sent.empty());
        CPPUNIT_ASSERT(_sink.sent.back().to == kBobRegistered);
    }

    void testRelayRouteSeeksUpgrade()
    {
        _paths->meet(Meet{"bob", {{CandidateKind::Relay, kBobRelay}}});
        _paths->heard("bob", kBobRelay);
        _timers->advance(PeerPaths::kSeekFor);
        const auto introduced = _introduced.size();
        // Lines keep the route in use, answered on the relay all along.
        for (auto waited = 0ms; waited < PeerPaths::kUpgradeEvery; waited += 1s) {
            _paths->send("bob", line());
            _paths->heard("bob", kBobRelay);
            _timers->advance(1s);
        }
        CPPUNIT_ASSERT_EQUAL(introduced + 1, _introduced.size());
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Relay);
        _paths->heard("bob", kBobRegistered);
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Direct);
    }

    void testRelayLostDropsRoutesThroughIt()
    {
        _paths->heard("bob", kBobRegistered, true);
        _paths->relayLost();
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::None);
        CPPUNIT_ASSERT(_changes.back() == std::make_pair(std::string("bob"), PathKind::None));
        // A route to bob's own relay goes straight from the socket: losing ours leaves it.
        _paths->meet(Meet{"bob", {{CandidateKind::Relay, kBobRelay}}});
        _paths->heard("bob", kBobRelay);
        _paths->relayLost();
        CPPUNIT_ASSERT(_paths->kindOf("bob") == PathKind::Relay);
    }

    void testRelayedSealKnownByHostAndKey()
    {
        const KeyId bobKey = KxKeyPair::idOf(_bobKx.publicKey());
        _paths->send("bob", line());
        const std::string* bob = _paths->peerRelayedFrom(endpoint("198.18.0.12:41234"), bobKey);
        CPPUNIT_ASSERT(bob != nullptr && *bob == "bob");
        CPPUNIT_ASSERT(_paths->peerRelayedFrom(endpoint("198.18.0.12:41234"), KxKeyPair::idOf(_aliceKx)) == nullptr);
        CPPUNIT_ASSERT(_paths->peerRelayedFrom(kElsewhere, bobKey) == nullptr);
        meetWithHost();
        bob = _paths->peerRelayedFrom(endpoint("10.0.2.2:9"), bobKey);
        CPPUNIT_ASSERT(bob != nullptr && *bob == "bob");
    }

    void testLinesAskForCapsAFewTimes()
    {
        forgetBobsCaps();
        _paths->send("bob", Ack{"alice", "ff", 1, {}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());  // an ack asks nothing
        _paths->send("bob", line());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink.sent.size());
        const Caps ask = std::get<Caps>(open(1));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), ask.from);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), ask.to);
        CPPUNIT_ASSERT(ask.offers(kBundleFeature));
        CPPUNIT_ASSERT(!ask.answer);
        CPPUNIT_ASSERT(std::holds_alternative<Msg>(open(2)));
        _paths->send("bob", line());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), _sink.sent.size());  // not again within kCapsEvery
        // A peerd from before caps never answers: asked kCapsTries times in all, then never again.
        for (int second = 0; second < 5; ++second) {
            _timers->advance(PeerPaths::kCapsEvery);
            _paths->heard("bob", kBobRegistered);
            _paths->send("bob", line());
        }
        std::size_t asks = 1;
        for (std::size_t i = 4; i < _sink.sent.size(); ++i) asks += std::holds_alternative<Caps>(open(i)) ? 1 : 0;
        CPPUNIT_ASSERT_EQUAL(std::size_t(PeerPaths::kCapsTries), asks);
    }

    void testAskForCapsAnsweredAtMostEveryInterval()
    {
        forgetBobsCaps();
        _paths->caps("bob", Caps{"bob", "alice", "", false});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        const Caps answer = std::get<Caps>(open(0));
        CPPUNIT_ASSERT(answer.answer);
        CPPUNIT_ASSERT(answer.offers(kBundleFeature));
        _paths->caps("bob", Caps{"bob", "alice", "", false});
        _paths->caps("bob", Caps{"bob", "alice", "", true});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        _timers->advance(PeerPaths::kCapsEvery);
        _paths->caps("bob", Caps{"bob", "alice", "", true});  // an answer is never answered
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        _paths->caps("bob", Caps{"bob", "alice", "", false});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
        // Bob said he takes no bundles: two lines go in two seals, and his answer made asking needless.
        _paths->send("bob", std::vector<Message>{line(), line()});
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), _sink.sent.size());
    }

    void testBundlesOnlyToPeerThatTakesThem()
    {
        forgetBobsCaps();
        std::vector<Message> lines;
        for (std::uint64_t seq = 1; seq <= 30; ++seq) lines.push_back(Msg{"ff", seq, "12:00:00", "alice", "bob", "line"});
        _paths->send("bob", lines);
        CPPUNIT_ASSERT_EQUAL(std::size_t(31), _sink.sent.size());  // the ask, then one seal per line
        _paths->caps("bob", Caps{"bob", "alice", "bundle", true});
        _sink.sent.clear();
        _paths->send("bob", lines);
        const std::size_t bytes = Protocol::encode(lines[0]).size() + 1;
        const std::size_t perBundle = (Protocol::kMaxBundleBytes + 1) / bytes;
        CPPUNIT_ASSERT_EQUAL((lines.size() + perBundle - 1) / perBundle, _sink.sent.size());
        std::uint64_t next = 1;
        for (std::size_t i = 0; i < _sink.sent.size(); ++i) {
            CPPUNIT_ASSERT(_sink.sent[i].bytes.size() <= 1200);
            for (const Message& message : openAll(i)) CPPUNIT_ASSERT_EQUAL(next++, std::get<Msg>(message).seq);
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(31), next);
        // A line too long for a bundle goes in a seal of its own, between the others.
        _sink.sent.clear();
        _paths->send("bob", std::vector<Message>{line(), Msg{"ff", 2, "12:00:00", "alice", "bob", std::string(4096, 'x')},
                                                 line()});
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4096), std::get<Msg>(open(1)).text.size());
    }

    void testNewLoginOfPeerForgetsItsCaps()
    {
        _paths->send("bob", std::vector<Message>{line(), line()});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        // Bob logs in again at the same endpoint, perhaps with an older peerd: alice asks again, and bundles nothing.
        _bobKx = KxKeyPair::generate();
        _roster->here("bob", Roster::Peer{kBobRegistered, Dialect::Peerchat, bobKeys()});
        _bobCipher = SessionCipher::between(_bobKx, _bob, _alice.publicKey(), _aliceKx);
        _sink.sent.clear();
        _paths->send("bob", std::vector<Message>{line(), line()});
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _sink.sent.size());
        CPPUNIT_ASSERT(std::holds_alternative<Caps>(open(0)));
    }

private:
    using Changes = std::vector<std::pair<std::string, PathKind>>;

    static Msg line() { return Msg{"ff", 1, "12:00:00", "alice", "bob", "hi"}; }

    PeerKeys bobKeys() const
    {
        return PeerKeys{_bob.publicKey(), _bobKx.publicKey(),
                        _bob.sign(SignedStatement::kx(_bob.publicKey(), "bob", _bobKx.publicKey(), _index.publicKey(),
                                                      Epoch{}))};
    }

    void meetWithHost()
    {
        _paths->meet(Meet{"bob", {{CandidateKind::Host, kBobHost}, {CandidateKind::Reflexive, kBobRegistered}}});
    }

    /// A new PeerPaths, which has heard nothing from bob.
    void forgetBobsCaps()
    {
        _paths = std::make_unique<PeerPaths>(*_timers, _sink, _relay, *_roster, *_sessions, "alice",
                                             PeerPaths::Hooks{[](const std::string&) {}, [](const std::string&) {},
                                                              [](const std::string&, PathKind) {}, [] {}});
    }

    // What bob reads in the datagram sent i-th: one message, or a bundle.
    std::vector<Message> openAll(std::size_t i)
    {
        const Parsed<Inbound> inbound = Protocol::decodeDatagram(_sink.sent.at(i).bytes);
        CPPUNIT_ASSERT(inbound.ok());
        const Parsed<std::string> text = _bobCipher->open(std::get<Seal>(inbound->message));
        CPPUNIT_ASSERT_MESSAGE(text.error(), text.ok());
        std::vector<Message> messages;
        for (const Parsed<Message>& message : Protocol::decodeBundle(*text)) {
            CPPUNIT_ASSERT_MESSAGE(message.error(), message.ok());
            messages.push_back(*message);
        }
        return messages;
    }

    Message open(std::size_t i)
    {
        const std::vector<Message> messages = openAll(i);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), messages.size());
        return messages[0];
    }

    SigningKey _alice = SigningKey::generate();
    SigningKey _bob = SigningKey::generate();
    SigningKey _index = SigningKey::generate();
    KxKeyPair _bobKx = KxKeyPair::generate();
    PublicKey _aliceKx{};
    std::optional<SessionCipher> _bobCipher;
    std::unique_ptr<ManualTimers> _timers;
    RecordingSink _sink;
    RecordingSink _relay;
    int _relayWanted = 0;
    std::vector<std::string> _introduced;
    std::vector<std::string> _moved;
    Changes _changes;
    std::unique_ptr<Roster> _roster;
    std::unique_ptr<PeerSessions> _sessions;
    std::unique_ptr<PeerPaths> _paths;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PeerPathsTest);
