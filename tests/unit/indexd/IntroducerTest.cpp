#include "Directory.h"
#include "IndexIdentity.h"
#include "Introducer.h"

#include "RecordingSink.h"
#include "TestPeer.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::CandidateList;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::IndexIdentity;
using peerchat::Introducer;
using peerchat::Introduction;
using peerchat::Meet;
using peerchat::SigningKey;
using peerchat::test::endpoint;
using peerchat::test::TestPeer;
using std::chrono::milliseconds;

namespace {

const Introducer::TimePoint kT0{};

} // namespace

class IntroducerTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IntroducerTest);
    CPPUNIT_TEST(testIntroductionGivesEachTheOthersCandidates);
    CPPUNIT_TEST(testMeetListsHostThenReflexiveThenRelay);
    CPPUNIT_TEST(testOfflineLegacyAndSelfNotIntroduced);
    CPPUNIT_TEST(testPairIntroducedOnceASecondWhoeverAsks);
    CPPUNIT_TEST(testRequesterLimitedToBurstThenRate);
    CPPUNIT_TEST(testRefusedPunchesCostNoToken);
    CPPUNIT_TEST_SUITE_END();

public:
    void testIntroductionGivesEachTheOthersCandidates()
    {
        Directory d;
        online(d, "alice", "127.0.0.1:5001");
        online(d, "bob", "127.0.0.1:5002");
        d.setCandidates("alice", CandidateList::parse("host=10.0.1.2:5001").value());
        Introducer introducer(d, 100);
        const Introduction outcome = introducer.introduce("alice", "bob", kT0);
        CPPUNIT_ASSERT(outcome.kind == Introduction::Kind::Introduced);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), outcome.toRequester.peer);
        CPPUNIT_ASSERT_EQUAL(std::string("srflx=127.0.0.1:5002"), CandidateList::format(outcome.toRequester.candidates));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), outcome.toPeer.peer);
        CPPUNIT_ASSERT_EQUAL(std::string("host=10.0.1.2:5001;srflx=127.0.0.1:5001"),
                             CandidateList::format(outcome.toPeer.candidates));
    }

    void testMeetListsHostThenReflexiveThenRelay()
    {
        Directory d;
        online(d, "alice", "127.0.0.1:5001");
        d.setCandidates("alice", CandidateList::parse("relay=198.18.0.1:49152;host=10.0.1.2:5001;host=[fd00::2]:5001")
                                     .value());
        const Meet meet = Introducer::meetWith(*d.find("alice"));
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), meet.peer);
        CPPUNIT_ASSERT_EQUAL(
            std::string("host=10.0.1.2:5001;host=[fd00::2]:5001;srflx=127.0.0.1:5001;relay=198.18.0.1:49152"),
            CandidateList::format(meet.candidates));
        // A full set still makes a meet the codec takes.
        std::string full;
        for (int i = 1; i <= 8; ++i) full += (i > 1 ? ";" : "") + std::string("host=10.0.1.") + std::to_string(i) + ":1";
        d.setCandidates("alice", CandidateList::parse(full).value());
        const std::string text = CandidateList::format(Introducer::meetWith(*d.find("alice")).candidates);
        CPPUNIT_ASSERT(CandidateList::parse(text).ok());
    }

    void testOfflineLegacyAndSelfNotIntroduced()
    {
        Directory d;
        online(d, "alice", "127.0.0.1:5001");
        d.login("seedy", endpoint("127.0.0.1:5003"), Dialect::Seed, endpoint("127.0.0.1:5003").host(), kT0);
        Introducer introducer(d, 100);
        CPPUNIT_ASSERT(introducer.introduce("alice", "nobody", kT0).kind == Introduction::Kind::PeerOffline);
        CPPUNIT_ASSERT(introducer.introduce("alice", "seedy", kT0).kind == Introduction::Kind::PeerLegacy);
        CPPUNIT_ASSERT(introducer.introduce("alice", "alice", kT0).kind == Introduction::Kind::Self);
    }

    void testPairIntroducedOnceASecondWhoeverAsks()
    {
        Directory d;
        online(d, "alice", "127.0.0.1:5001");
        online(d, "bob", "127.0.0.1:5002");
        online(d, "carol", "127.0.0.1:5003");
        Introducer introducer(d, 100);
        CPPUNIT_ASSERT(introducer.introduce("alice", "bob", kT0).kind == Introduction::Kind::Introduced);
        CPPUNIT_ASSERT(introducer.introduce("alice", "bob", kT0 + milliseconds(10)).kind
                       == Introduction::Kind::PairTooSoon);
        CPPUNIT_ASSERT(introducer.introduce("bob", "alice", kT0 + milliseconds(500)).kind
                       == Introduction::Kind::PairTooSoon);
        // Another pair is not held up.
        CPPUNIT_ASSERT(introducer.introduce("carol", "bob", kT0 + milliseconds(500)).kind
                       == Introduction::Kind::Introduced);
        CPPUNIT_ASSERT(introducer.introduce("bob", "alice", kT0 + milliseconds(1000)).kind
                       == Introduction::Kind::Introduced);
    }

    void testRequesterLimitedToBurstThenRate()
    {
        Directory d;
        online(d, "alice", "127.0.0.1:5001");
        for (int i = 0; i < 8; ++i) online(d, "peer" + std::to_string(i), "127.0.0.1:" + std::to_string(6000 + i));
        Introducer introducer(d, 100);
        int introduced = 0;
        for (int i = 0; i < 8; ++i)
            introduced += introducer.introduce("alice", "peer" + std::to_string(i), kT0).kind
                          == Introduction::Kind::Introduced;
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(Introducer::kRequesterBurst), introduced);
        CPPUNIT_ASSERT(introducer.introduce("alice", "peer4", kT0 + milliseconds(1000)).kind
                       == Introduction::Kind::RequesterBusy);
        // 0.8 a second: one more token 1.25 s later, and another one 1.25 s after that.
        CPPUNIT_ASSERT(introducer.introduce("alice", "peer4", kT0 + milliseconds(1250)).kind
                       == Introduction::Kind::Introduced);
        CPPUNIT_ASSERT(introducer.introduce("alice", "peer5", kT0 + milliseconds(1300)).kind
                       == Introduction::Kind::RequesterBusy);
        CPPUNIT_ASSERT(introducer.introduce("alice", "peer5", kT0 + milliseconds(2500)).kind
                       == Introduction::Kind::Introduced);
        // Others punch as they please.
        CPPUNIT_ASSERT(introducer.introduce("peer6", "peer7", kT0 + milliseconds(2500)).kind
                       == Introduction::Kind::Introduced);
    }

    void testRefusedPunchesCostNoToken()
    {
        Directory d;
        online(d, "alice", "127.0.0.1:5001");
        online(d, "bob", "127.0.0.1:5002");
        Introducer introducer(d, 100);
        for (int i = 0; i < 20; ++i) introducer.introduce("alice", "nobody", kT0);
        CPPUNIT_ASSERT(introducer.introduce("alice", "bob", kT0).kind == Introduction::Kind::Introduced);
    }

private:
    // Puts name online at at as a peerchat/3 user with an identity key of its own.
    void online(Directory& d, const std::string& name, const std::string& at)
    {
        const TestPeer peer(name, at);
        d.login(name, endpoint(at), Dialect::Peerchat, endpoint(at).host(), kT0, peer.sessionAt(_index));
    }

    const IndexIdentity _index{SigningKey::generate()};
};

CPPUNIT_TEST_SUITE_REGISTRATION(IntroducerTest);
