#include "PresenceTracker.h"

#include "PeerStore.h"
#include "KeyPins.h"
#include "KxKeyPair.h"
#include "ManualTimers.h"
#include "PeerSessions.h"
#include "PeerTestData.h"
#include "SignedStatement.h"
#include "SilentListener.h"
#include "StoreFaults.h"

#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace peerchat;
using namespace std::chrono_literals;
using test::SilentListener;
using test::endpoint;
using test::ManualTimers;

namespace {

const Endpoint kIndex = endpoint("127.0.0.1:9400");
const Epoch kEpoch{1, 2, 3, 4, 5, 6, 7, 8};
constexpr std::chrono::milliseconds kRetry{100};

/// A user indexd presents: its identity, and the key-exchange key of its login.
struct User
{
    std::string name;
    SigningKey identity = SigningKey::generate();
    KxKeyPair kx = KxKeyPair::generate();
};

} // namespace

/// Presence as indexd numbers it for alice, on a hand-turned clock.
class PresenceTrackerTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(PresenceTrackerTest);
    CPPUNIT_TEST(testSnapshotAssembledOutOfOrder);
    CPPUNIT_TEST(testNothingAppliesBeforeTheFirstSnapshot);
    CPPUNIT_TEST(testDeltasAfterSnapshotApplyInOrder);
    CPPUNIT_TEST(testOldAndRepeatedPresenceIgnored);
    CPPUNIT_TEST(testGapTriggersResyncWithBackoff);
    CPPUNIT_TEST(testGapThatFillsInTimeNeedsNoResync);
    CPPUNIT_TEST(testLaterSnapshotMakesGapMoot);
    CPPUNIT_TEST(testSeenAheadTriggersResync);
    CPPUNIT_TEST(testFullReorderBufferResyncs);
    CPPUNIT_TEST(testNoSnapshotAfterWelcomeResyncsThenGivesUp);
    CPPUNIT_TEST(testNoSnapshotWhileOnlineKeepsAsking);
    CPPUNIT_TEST(testNewLoginCountsAfresh);
    CPPUNIT_TEST(testBadKeysDropped);
    CPPUNIT_TEST(testOneKxForTwoNamesDropped);
    CPPUNIT_TEST(testKeysShownToTrust);
    CPPUNIT_TEST(testStateAndStatusChangeReported);
    CPPUNIT_TEST(testUnpinnedKeyAskedAgainAtHeartbeat);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _timers = std::make_unique<ManualTimers>();
        _roster = std::make_unique<Roster>("alice");
        _store = std::make_unique<PeerStore>(10);
        _pins = std::make_unique<KeyPins>(_store->keys, _store->outbox);
        _sessions = std::make_unique<PeerSessions>(_alice);
        CPPUNIT_ASSERT(_sessions->renew(KxKeyPair::generate(), _index.publicKey(), _indexKx.publicKey()));
        _trust = std::make_unique<KeyTrust>(*_pins, *_sessions, _listener, true, [](const std::string&) {});
        _verifier.reset(_index.publicKey(), kEpoch);
        _drops = std::make_unique<DropLog>(*_timers, 10s);
        _online = false;
        _changes.clear();
        _loaded.clear();
        _failed.clear();
        _resyncs = 0;
        _tracker = std::make_unique<PresenceTracker>(
            *_timers, *_roster, _verifier, *_trust, *_drops, kIndex, kRetry,
            PresenceTracker::Hooks{
                [this] { return _online; },
                [this](const Roster::Change& change) { _changes.push_back(change); },
                [this](std::size_t peers) {
                    _loaded.push_back(peers);
                    _online = true;
                },
                [this](const std::string& detail) { _failed.push_back(detail); },
                [this] { ++_resyncs; },
            });
        for (const char* name : {"bob", "carol", "dave", "mallory"}) _users[name].name = name;
        _tracker->start();
    }

    void tearDown() override
    {
        _tracker.reset();
        _drops.reset();
    }

    void testSnapshotAssembledOutOfOrder()
    {
        _tracker->receive(here(3, "carol"));
        _tracker->receive(here(2, "bob"));
        CPPUNIT_ASSERT(_roster->peers().empty());
        CPPUNIT_ASSERT(_tracker->pending());
        _tracker->receive(Snapshot{1, 3});
        // One entry still missing: nothing yet.
        CPPUNIT_ASSERT(_roster->peers().empty());
        CPPUNIT_ASSERT(_loaded.empty());
        _tracker->receive(here(4, "dave", endpoint("127.0.0.1:5004"), "seed"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _roster->peers().size());
        CPPUNIT_ASSERT(_roster->find("dave")->dialect == Dialect::Seed);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), _tracker->applied());
        CPPUNIT_ASSERT(!_tracker->pending() && _tracker->loaded());
        CPPUNIT_ASSERT(_loaded == std::vector<std::size_t>{3});
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _changes.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _tracker->held());
        // In order: nothing is asked again.
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(0, _resyncs);
    }

    void testNothingAppliesBeforeTheFirstSnapshot()
    {
        // Presence of this login that came before its first snapshot: 1 is
        // older than the snapshot and moot, 4 follows it.
        _tracker->receive(here(1, "carol"));
        _tracker->receive(Gone{4, "bob"});
        _tracker->receive(here(5, "dave"));
        CPPUNIT_ASSERT(_roster->peers().empty() && _changes.empty());
        CPPUNIT_ASSERT(!_tracker->loaded());
        _tracker->receive(Snapshot{2, 1});
        _tracker->receive(here(3, "bob"));
        CPPUNIT_ASSERT(_roster->find("carol") == nullptr);
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT(_roster->find("dave") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), _tracker->applied());
        CPPUNIT_ASSERT_EQUAL(std::string("bob came bob went dave came "), changes());
        CPPUNIT_ASSERT(_loaded == std::vector<std::size_t>{1});
    }

    void testDeltasAfterSnapshotApplyInOrder()
    {
        snapshot({"bob"});
        _changes.clear();
        // 4 before 3: held until 3 comes, then both in order.
        _tracker->receive(Gone{4, "carol"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _tracker->held());
        CPPUNIT_ASSERT(_changes.empty());
        _tracker->receive(here(3, "carol"));
        CPPUNIT_ASSERT_EQUAL(std::string("carol came carol went "), changes());
        CPPUNIT_ASSERT(_roster->find("carol") == nullptr);
        _tracker->receive(Gone{5, "bob"});
        CPPUNIT_ASSERT(_roster->peers().empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), _tracker->applied());
        // The first snapshot of the login made it loaded; deltas do not again.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _loaded.size());
    }

    void testOldAndRepeatedPresenceIgnored()
    {
        snapshot({"bob"});
        _tracker->receive(Gone{3, "bob"});
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        _changes.clear();
        // A captured here of an earlier number, and the snapshot again: nothing changes.
        _tracker->receive(here(2, "bob"));
        _tracker->receive(Snapshot{1, 1});
        _tracker->receive(Gone{3, "bob"});
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT(_changes.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _tracker->held());
        // A number held once is held once.
        _tracker->receive(here(5, "carol"));
        _tracker->receive(here(5, "dave"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _tracker->held());
        _tracker->receive(Gone{4, "erin"});
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr && _roster->find("dave") == nullptr);
    }

    void testGapTriggersResyncWithBackoff()
    {
        snapshot({"bob"});
        _tracker->receive(here(4, "carol"));
        CPPUNIT_ASSERT(_roster->find("carol") == nullptr);
        _timers->advance(kRetry - 1ms);
        CPPUNIT_ASSERT_EQUAL(0, _resyncs);
        _timers->advance(1ms);
        CPPUNIT_ASSERT_EQUAL(1, _resyncs);
        // The answer is lost too: asked again after the same wait, then after twice that.
        _timers->advance(kRetry);
        CPPUNIT_ASSERT_EQUAL(2, _resyncs);
        _timers->advance(2 * kRetry - 1ms);
        CPPUNIT_ASSERT_EQUAL(2, _resyncs);
        _timers->advance(1ms);
        CPPUNIT_ASSERT_EQUAL(3, _resyncs);
        // Never longer than kRetryGrowth times the retry, and never given up while online.
        _timers->advance(60s);
        const int resyncs = _resyncs;
        _timers->advance(kRetry * PresenceTracker::kRetryGrowth);
        CPPUNIT_ASSERT_EQUAL(resyncs + 1, _resyncs);
        CPPUNIT_ASSERT(_failed.empty());
        // The fresh snapshot puts it in order: no more asking.
        _tracker->receive(Snapshot{10, 2});
        _tracker->receive(here(11, "bob"));
        _tracker->receive(here(12, "carol"));
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
        _timers->advance(60s);
        CPPUNIT_ASSERT_EQUAL(resyncs + 1, _resyncs);
        // And the next gap waits the first retry again.
        _tracker->receive(Gone{14, "bob"});
        _timers->advance(kRetry);
        CPPUNIT_ASSERT_EQUAL(resyncs + 2, _resyncs);
    }

    void testGapThatFillsInTimeNeedsNoResync()
    {
        snapshot({"bob"});
        _tracker->receive(here(4, "carol"));
        _timers->advance(kRetry / 2);
        _tracker->receive(here(3, "dave"));
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr && _roster->find("dave") != nullptr);
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(0, _resyncs);
    }

    void testLaterSnapshotMakesGapMoot()
    {
        snapshot({"bob"});
        // 3 and 4 are lost; a snapshot at 5 says all there is.
        _tracker->receive(Snapshot{5, 1});
        _tracker->receive(here(7, "dave"));
        _tracker->receive(here(6, "carol"));
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr);
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr && _roster->find("dave") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), _tracker->applied());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _tracker->held());
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(0, _resyncs);
    }

    void testSeenAheadTriggersResync()
    {
        snapshot({"bob"});
        _tracker->seen(2);
        _tracker->seen(1);
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(0, _resyncs);
        // indexd sent 3, which never came.
        _tracker->seen(3);
        _timers->advance(kRetry - 1ms);
        CPPUNIT_ASSERT_EQUAL(0, _resyncs);
        _timers->advance(1ms);
        CPPUNIT_ASSERT_EQUAL(1, _resyncs);
        // The snapshot that answers puts peerd past what indexd said.
        _tracker->receive(Snapshot{4, 0});
        CPPUNIT_ASSERT(_roster->peers().empty());
        _timers->advance(10s);
        CPPUNIT_ASSERT_EQUAL(1, _resyncs);
    }

    void testFullReorderBufferResyncs()
    {
        snapshot({});
        // 2 is lost, and everything after it waits.
        for (std::uint64_t seq = 3; seq < 3 + PresenceTracker::kMaxHeld; ++seq)
            _tracker->receive(here(seq, "seed" + std::to_string(seq), endpoint("127.0.0.1:5005"), "seed"));
        CPPUNIT_ASSERT_EQUAL(PresenceTracker::kMaxHeld, _tracker->held());
        CPPUNIT_ASSERT_EQUAL(0, _resyncs);
        _tracker->receive(Gone{3 + PresenceTracker::kMaxHeld, "bob"});
        CPPUNIT_ASSERT_EQUAL(1, _resyncs);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _tracker->held());
        CPPUNIT_ASSERT(_roster->peers().empty());
    }

    void testNoSnapshotAfterWelcomeResyncsThenGivesUp()
    {
        // Asked again after 100, 100, 200, 400 and 800 ms; then the next hello logs in again.
        for (const auto wait : {100ms, 100ms, 200ms, 400ms, 800ms}) {
            const int before = _resyncs;
            _timers->advance(wait - 1ms);
            CPPUNIT_ASSERT_EQUAL(before, _resyncs);
            _timers->advance(1ms);
            CPPUNIT_ASSERT_EQUAL(before + 1, _resyncs);
            CPPUNIT_ASSERT(_tracker->pending());
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), _failed.size());
        CPPUNIT_ASSERT_MESSAGE(_failed[0], _failed[0].find("asking again in 100 ms") != std::string::npos);
        _timers->advance(1600ms);
        CPPUNIT_ASSERT_EQUAL(5, _resyncs);
        CPPUNIT_ASSERT(!_tracker->pending());
        CPPUNIT_ASSERT_EQUAL(std::string("indexd sent no presence since its welcome; logging in again"), _failed.back());
        // A snapshot now belongs to no login: the next welcome starts one.
        _tracker->receive(Snapshot{1, 0});
        CPPUNIT_ASSERT(_loaded.empty());
        _timers->advance(60s);
        CPPUNIT_ASSERT_EQUAL(5, _resyncs);
    }

    void testNoSnapshotWhileOnlineKeepsAsking()
    {
        snapshot({"bob"});
        // A relogin: the session is online, the new login's snapshot does not come.
        _tracker->start();
        _timers->advance(60s);
        CPPUNIT_ASSERT(_resyncs > 10);
        CPPUNIT_ASSERT(_failed.empty());
        CPPUNIT_ASSERT(_tracker->pending());
        // What was online stays until a snapshot says otherwise.
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
    }

    void testNewLoginCountsAfresh()
    {
        snapshot({"bob", "carol"});
        _tracker->receive(here(5, "dave"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _tracker->held());
        _tracker->start();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _tracker->held());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), _tracker->applied());
        _tracker->receive(Snapshot{1, 1});
        _tracker->receive(here(2, "carol"));
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr && _roster->find("dave") == nullptr);
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _loaded.size());
    }

    void testBadKeysDropped()
    {
        snapshot({});
        // indexd (or whoever holds its key) cannot swap bob's key-exchange key: bob signs it himself.
        Here swapped = here(2, "bob");
        swapped.keys->kx = _users["carol"].kx.publicKey();
        _tracker->receive(swapped);
        // A peerchat/3 user without keys, a seed user with keys, a KXSIG for another indexd run.
        Here keyless = here(3, "carol");
        keyless.keys.reset();
        _tracker->receive(keyless);
        _tracker->receive(here(4, "dave", endpoint("127.0.0.1:5004"), "seed", keysOf(_users["dave"])));
        Epoch earlier = kEpoch;
        earlier[0] ^= 1;
        _tracker->receive(here(5, "mallory", endpoint("127.0.0.1:5005"), "peerchat/3", keysOf(_users["mallory"], earlier)));
        CPPUNIT_ASSERT(_roster->peers().empty());
        CPPUNIT_ASSERT(_changes.empty());
        CPPUNIT_ASSERT(!_pins->pinned("bob") && !_pins->pinned("mallory"));
        // Dropped entries are applied all the same: the numbers go on.
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), _tracker->applied());
        _tracker->receive(here(6, "bob"));
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
    }

    // Row 1 of issue 10, with a malicious indexd: mallory presents bob's
    // key-exchange key with a KXSIG of her own.
    void testOneKxForTwoNamesDropped()
    {
        const PeerKeys borrowed = keysOf(_users["mallory"], kEpoch, _users["bob"].kx.publicKey());
        // In one snapshot nobody can tell which holds it: neither is taken.
        _tracker->receive(Snapshot{1, 3});
        _tracker->receive(here(2, "bob"));
        _tracker->receive(here(3, "mallory", endpoint("127.0.0.1:5005"), "peerchat/3", borrowed));
        _tracker->receive(here(4, "carol"));
        CPPUNIT_ASSERT(_roster->find("bob") == nullptr && _roster->find("mallory") == nullptr);
        CPPUNIT_ASSERT(_roster->find("carol") != nullptr);
        // After it, the holder online first keeps it.
        _tracker->receive(here(5, "bob"));
        _tracker->receive(here(6, "mallory", endpoint("127.0.0.1:5005"), "peerchat/3", borrowed));
        CPPUNIT_ASSERT(_roster->find("bob") != nullptr);
        CPPUNIT_ASSERT(_roster->find("mallory") == nullptr);
        CPPUNIT_ASSERT(!_pins->pinned("mallory"));
    }

    void testKeysShownToTrust()
    {
        snapshot({"bob"});
        CPPUNIT_ASSERT(_pins->pinned("bob") == _users["bob"].identity.publicKey());
        _tracker->receive(here(3, "carol"));
        CPPUNIT_ASSERT(_pins->pinned("carol") == _users["carol"].identity.publicKey());
        // carol's name under another key: the pin holds, the trust says changed.
        User impostor{"carol"};
        _tracker->receive(here(4, "carol", endpoint("127.0.0.1:5003"), "peerchat/3", keysOf(impostor)));
        CPPUNIT_ASSERT(_pins->pinned("carol") == _users["carol"].identity.publicKey());
        CPPUNIT_ASSERT(_pins->trustOf("carol") == local::Trust::Changed);
    }

    void testStateAndStatusChangeReported()
    {
        snapshot({"bob"});
        _changes.clear();
        Here away = here(3, "bob");
        away.state = PresenceState::Away;
        away.status = "back at 3";
        _tracker->receive(away);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _changes.size());
        CPPUNIT_ASSERT(_changes[0].online && _changes[0].statusOnly);
        CPPUNIT_ASSERT(_changes[0].peer.state == PresenceState::Away);
        CPPUNIT_ASSERT_EQUAL(std::string("back at 3"), _changes[0].peer.status);
        // The same again says nothing; a snapshot showing bob busy says so.
        away.seq = 4;
        _tracker->receive(away);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _changes.size());
        Here busy = here(6, "bob");
        busy.state = PresenceState::Busy;
        _tracker->receive(Snapshot{5, 1});
        _tracker->receive(busy);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _changes.size());
        CPPUNIT_ASSERT(_changes[1].statusOnly && _changes[1].peer.state == PresenceState::Busy);
        CPPUNIT_ASSERT(_changes[1].peer.status.empty());
    }

    void testUnpinnedKeyAskedAgainAtHeartbeat()
    {
        snapshot({"bob"});
        _tracker->heartbeat();
        CPPUNIT_ASSERT_EQUAL(0, _resyncs);
        // The store fails as carol's key is seen: it is asked for again at the heartbeat.
        test::failWrites(*_store);
        _tracker->receive(here(3, "carol"));
        CPPUNIT_ASSERT(_trust->keysUnseen());
        _tracker->heartbeat();
        CPPUNIT_ASSERT_EQUAL(1, _resyncs);
    }

private:
    PeerKeys keysOf(const User& user, const Epoch& epoch = kEpoch, std::optional<PublicKey> kx = std::nullopt) const
    {
        const PublicKey presented = kx.value_or(user.kx.publicKey());
        return PeerKeys{user.identity.publicKey(), presented,
                        user.identity.sign(SignedStatement::kx(user.identity.publicKey(), user.name, presented,
                                                               _index.publicKey(), epoch))};
    }

    /// The here of name numbered seq: a peerchat/3 user with its own keys, unless told otherwise.
    Here here(std::uint64_t seq, const std::string& name, const Endpoint& at = endpoint("127.0.0.1:5002"),
              const std::string& dialect = "peerchat/3", std::optional<PeerKeys> keys = std::nullopt)
    {
        if (!keys && dialect == "peerchat/3") keys = keysOf(_users[name]);
        return Here{seq, name, at, dialect, keys};
    }

    /// The login's first snapshot, numbered 1, of names; its entries follow it.
    void snapshot(const std::vector<std::string>& names)
    {
        _tracker->receive(Snapshot{1, names.size()});
        std::uint64_t seq = 1;
        for (const std::string& name : names) _tracker->receive(here(++seq, name));
        CPPUNIT_ASSERT(_tracker->loaded());
        CPPUNIT_ASSERT_EQUAL(seq, _tracker->applied());
    }

    /// The changes reported, in words: "bob came carol went ".
    std::string changes() const
    {
        std::string out;
        for (const Roster::Change& change : _changes) out += change.name + (change.online ? " came " : " went ");
        return out;
    }

    const SigningKey _alice = SigningKey::generate();
    const SigningKey _index = SigningKey::generate();
    const KxKeyPair _indexKx = KxKeyPair::generate();
    std::unique_ptr<ManualTimers> _timers;
    std::unique_ptr<Roster> _roster;
    std::unique_ptr<PeerStore> _store;
    std::unique_ptr<KeyPins> _pins;
    std::unique_ptr<PeerSessions> _sessions;
    SilentListener _listener;
    std::unique_ptr<KeyTrust> _trust;
    IndexVerifier _verifier;
    std::unique_ptr<DropLog> _drops;
    std::unique_ptr<PresenceTracker> _tracker;
    std::map<std::string, User> _users;
    bool _online = false;
    std::vector<Roster::Change> _changes;
    std::vector<std::size_t> _loaded;
    std::vector<std::string> _failed;
    int _resyncs = 0;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PresenceTrackerTest);
