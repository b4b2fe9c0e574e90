#include "Directory.h"
#include "IndexDatabase.h"
#include "IndexIdentity.h"
#include "KeyRegistry.h"
#include "MailCarrier.h"
#include "Mailbox.h"
#include "SealedSender.h"

#include "RecordingSink.h"
#include "RoomyMailLimits.h"
#include "TestPeer.h"

#include <Poco/Data/Session.h>

#include <cppunit/extensions/HelperMacros.h>

#include <memory>

using peerchat::Ack;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::Full;
using peerchat::FullReason;
using peerchat::IndexDatabase;
using peerchat::IndexIdentity;
using peerchat::KeyRegistry;
using peerchat::Mail;
using peerchat::MailBudget;
using peerchat::MailCarrier;
using peerchat::Mailbox;
using peerchat::Message;
using peerchat::Post;
using peerchat::SealedSender;
using peerchat::SigningKey;
using peerchat::Stored;
using peerchat::test::endpoint;
using peerchat::test::RecordingSink;
using peerchat::test::TestPeer;
using std::chrono::milliseconds;
using namespace Poco::Data::Keywords;

namespace {

constexpr milliseconds kRedeliverEvery{1000};
const Directory::TimePoint kT0{};
// The wall clock at the start of each test, in milliseconds since 1970.
constexpr std::uint64_t kWall0 = 1700000000000;

Post postFor(const std::string& to, std::uint64_t seq, const std::string& stream = "ab12")
{
    return Post{to, stream, seq, "box " + std::to_string(seq)};
}

} // namespace

class MailCarrierTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(MailCarrierTest);
    CPPUNIT_TEST(testPostAnsweredStoredSealed);
    CPPUNIT_TEST(testRepeatedPostAnsweredStoredWithoutSecondCopy);
    CPPUNIT_TEST(testPostPastLimitAnsweredFull);
    CPPUNIT_TEST(testOversizeBoxDropped);
    CPPUNIT_TEST(testDeliverSendsEveryWaitingLetterAsSealedMailWithSenderKey);
    CPPUNIT_TEST(testDeliverToUserWithoutMailSendsNothing);
    CPPUNIT_TEST(testDeliverOnlyToPeerchatUsersWithSession);
    CPPUNIT_TEST(testResentEveryRedeliveryUntilAcked);
    CPPUNIT_TEST(testAckForSomeoneElseIgnored);
    CPPUNIT_TEST(testRecipientGoneOfflineForgottenButMailKept);
    CPPUNIT_TEST(testPostForOnlineRecipientSentAtOnce);
    CPPUNIT_TEST(testPostForUnknownNameAnsweredFullUnknown);
    CPPUNIT_TEST(testPostOverEachLimitAnsweredWithItsReason);
    CPPUNIT_TEST(testFailedStoreAnsweredFullDiskUntilStoresWork);
    CPPUNIT_TEST(testFailedAckKeepsLettersForTheNextRound);
    CPPUNIT_TEST(testExpireLettersRemovesOnlyOldOnes);
    CPPUNIT_TEST(testRefusalSummaryCountsByReasonAndStartsOver);
    CPPUNIT_TEST_SUITE_END();

public:
    MailCarrierTest()
        : _identity(SigningKey::generate()), _alice("alice", "127.0.0.1:5001"), _bob("bob", "127.0.0.1:5002")
    {
    }

    void setUp() override
    {
        _database = std::make_unique<IndexDatabase>(":memory:");
        _keys = std::make_unique<KeyRegistry>(*_database);
        _sealed = std::make_unique<SealedSender>(_directory, _sink);
        _wallMs = kWall0;
        makeCarrier(peerchat::test::roomyMailLimits(3));
        login(_alice);
        // Names that logged in once: letters for them can be taken.
        _keys->bind("bob", _bob.key().publicKey());
        for (const std::string name : {"carol", "dave", "erin", "frank"})
            _keys->bind(name, SigningKey::generate().publicKey());
    }

    void testPostAnsweredStoredSealed()
    {
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        const auto replies = openedBy(_alice);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), replies.size());
        const auto& stored = std::get<Stored>(replies[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), stored.to);
        CPPUNIT_ASSERT_EQUAL(std::string("ab12"), stored.stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), stored.seq);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::string("box 1"), _mailbox->waitingFor("bob").front().box);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _carrier->recipientsAwaitingAck());
    }

    void testRepeatedPostAnsweredStoredWithoutSecondCopy()
    {
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        const auto replies = openedBy(_alice);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), replies.size());
        CPPUNIT_ASSERT(std::holds_alternative<Stored>(replies[1]));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
    }

    void testPostPastLimitAnsweredFull()
    {
        for (std::uint64_t seq = 1; seq <= 4; ++seq) _carrier->handlePost(postFor("bob", seq), "alice", kT0);
        const auto replies = openedBy(_alice);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), replies.size());
        CPPUNIT_ASSERT(std::holds_alternative<Stored>(replies[2]));
        const Full& full = std::get<Full>(replies[3]);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), full.to);
        CPPUNIT_ASSERT_EQUAL(std::string("ab12"), full.stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), full.seq);
        CPPUNIT_ASSERT(full.reason == FullReason::Recipient);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _mailbox->countFor("bob"));
    }

    void testOversizeBoxDropped()
    {
        Post post = postFor("bob", 1);
        post.box = std::string(MailCarrier::kMaxBoxBytes + 1, 'x');
        _carrier->handlePost(post, "alice", kT0);
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->countFor("bob"));
        post.box.pop_back();
        _carrier->handlePost(post, "alice", kT0);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
        const std::string summary = _carrier->takeRefusalSummary(milliseconds(10000));
        CPPUNIT_ASSERT_MESSAGE(summary, summary.find("dropped 1 posts with a box larger than any message (first from "
                                                     "alice for bob, " + std::to_string(MailCarrier::kMaxBoxBytes + 1)
                                                     + " bytes)") != std::string::npos);
    }

    void testDeliverSendsEveryWaitingLetterAsSealedMailWithSenderKey()
    {
        _carrier->handlePost(postFor("bob", 2), "alice", kT0);
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        _sink.sent.clear();
        login(_bob);
        _carrier->deliverTo("bob", kT0);
        const auto mail = openedBy(_bob);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), mail.size());
        for (std::uint64_t seq = 1; seq <= 2; ++seq) {
            const Mail& letter = std::get<Mail>(mail[seq - 1]);
            CPPUNIT_ASSERT_EQUAL(std::string("alice"), letter.from);
            CPPUNIT_ASSERT(letter.identity == _alice.key().publicKey());
            CPPUNIT_ASSERT_EQUAL(std::string("ab12"), letter.stream);
            CPPUNIT_ASSERT_EQUAL(seq, letter.seq);
            CPPUNIT_ASSERT_EQUAL("box " + std::to_string(seq), letter.box);
        }
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _carrier->recipientsAwaitingAck());
    }

    void testDeliverToUserWithoutMailSendsNothing()
    {
        login(_bob);
        _carrier->deliverTo("bob", kT0);
        _carrier->deliverTo("nobody", kT0);
        _carrier->redeliverDue(kT0 + kRedeliverEvery);
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _carrier->recipientsAwaitingAck());
    }

    void testDeliverOnlyToPeerchatUsersWithSession()
    {
        _carrier->handlePost(postFor("carol", 1), "alice", kT0);
        _sink.sent.clear();
        // A seed login under a name with mail gets none: it cannot open nor ack it.
        _directory.login("carol", endpoint("127.0.0.1:5003"), Dialect::Seed, endpoint("127.0.0.1:5003").host(), kT0);
        _carrier->deliverTo("carol", kT0);
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("carol"));
    }

    void testResentEveryRedeliveryUntilAcked()
    {
        for (std::uint64_t seq = 1; seq <= 3; ++seq) _carrier->handlePost(postFor("bob", seq), "alice", kT0);
        login(_bob);
        _carrier->deliverTo("bob", kT0);
        _sink.sent.clear();

        _carrier->redeliverDue(kT0 + kRedeliverEvery - milliseconds(1));
        CPPUNIT_ASSERT(_sink.sent.empty());
        _carrier->redeliverDue(kT0 + kRedeliverEvery);
        CPPUNIT_ASSERT(seqsOfMailTo(_bob) == std::vector<std::uint64_t>({1, 2, 3}));

        // A cumulative ack takes what it covers; the rest goes out next time.
        _carrier->handleAck(Ack{"bob", "ab12", 2, {}}, "bob");
        CPPUNIT_ASSERT(_sink.sent.empty());
        _carrier->redeliverDue(kT0 + 2 * kRedeliverEvery);
        CPPUNIT_ASSERT(seqsOfMailTo(_bob) == std::vector<std::uint64_t>({3}));

        _carrier->handleAck(Ack{"bob", "ab12", 3, {}}, "bob");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _carrier->recipientsAwaitingAck());
        _carrier->redeliverDue(kT0 + 10 * kRedeliverEvery);
        CPPUNIT_ASSERT(_sink.sent.empty());
    }

    void testAckForSomeoneElseIgnored()
    {
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        login(_bob);
        _carrier->deliverTo("bob", kT0);
        // alice acks bob's letter: she may ack only her own.
        _carrier->handleAck(Ack{"bob", "ab12", 1, {}}, "alice");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _carrier->recipientsAwaitingAck());
    }

    void testRecipientGoneOfflineForgottenButMailKept()
    {
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        login(_bob);
        _carrier->deliverTo("bob", kT0);
        _directory.logout("bob", _bob.endpoint(), _bob.endpoint());
        _sink.sent.clear();

        _carrier->redeliverDue(kT0 + kRedeliverEvery);
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _carrier->recipientsAwaitingAck());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));

        // Back at another endpoint: the letter follows.
        TestPeer moved("bob", "127.0.0.1:6002", _bob.key());
        login(moved);
        _carrier->deliverTo("bob", kT0 + 2 * kRedeliverEvery);
        CPPUNIT_ASSERT(seqsOfMailTo(moved) == std::vector<std::uint64_t>({1}));
    }

    void testPostForOnlineRecipientSentAtOnce()
    {
        login(_bob);
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), openedBy(_alice).size());
        CPPUNIT_ASSERT(seqsOfMailTo(_bob) == std::vector<std::uint64_t>({1}));
        // Only the new letter goes out at once; all of them at the next resend.
        _carrier->handlePost(postFor("bob", 2), "alice", kT0 + milliseconds(10));
        CPPUNIT_ASSERT(seqsOfMailTo(_bob) == std::vector<std::uint64_t>({2}));
        _carrier->redeliverDue(kT0 + kRedeliverEvery);
        CPPUNIT_ASSERT(seqsOfMailTo(_bob) == std::vector<std::uint64_t>({1, 2}));
    }

    void testPostForUnknownNameAnsweredFullUnknown()
    {
        _carrier->handlePost(postFor("nobody", 1), "alice", kT0);
        const auto replies = openedBy(_alice);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), replies.size());
        const Full& full = std::get<Full>(replies[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("nobody"), full.to);
        CPPUNIT_ASSERT(full.reason == FullReason::Unknown);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->budget().lines());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _carrier->refusals(FullReason::Unknown));
    }

    void testPostOverEachLimitAnsweredWithItsReason()
    {
        MailBudget::Limits limits = peerchat::test::roomyMailLimits(1);
        limits.pairLines = 1;
        limits.senderLines = 2;
        limits.totalBytes = 18;
        makeCarrier(limits);
        login(_bob);
        // Each box is 5 bytes ("box N").
        _carrier->handlePost(postFor("carol", 1), "alice", kT0);
        _carrier->handlePost(postFor("carol", 2), "alice", kT0);
        _carrier->handlePost(postFor("dave", 1, "cd34"), "alice", kT0);
        _carrier->handlePost(postFor("erin", 1, "ef56"), "alice", kT0);
        _carrier->handlePost(postFor("carol", 1, "0b0b"), "bob", kT0);
        _carrier->handlePost(postFor("erin", 1, "0b0c"), "bob", kT0);
        _carrier->handlePost(postFor("frank", 1, "0b0d"), "bob", kT0);
        const std::vector<FullReason> expectedForAlice{FullReason::Unstated, FullReason::Pair,
                                                       FullReason::Unstated, FullReason::Sender};
        const std::vector<FullReason> expectedForBob{FullReason::Recipient, FullReason::Unstated, FullReason::Disk};
        CPPUNIT_ASSERT(reasonsOf(openedBy(_alice)) == expectedForAlice);
        CPPUNIT_ASSERT(reasonsOf(openedBy(_bob)) == expectedForBob);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(15), _mailbox->budget().bytes());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), _carrier->refusals(FullReason::Disk));
    }

    void testFailedStoreAnsweredFullDiskUntilStoresWork()
    {
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        fillDatabase();
        Post big = postFor("bob", 2);
        big.box = std::string(MailCarrier::kMaxBoxBytes, 'x');
        _carrier->handlePost(big, "alice", kT0);
        CPPUNIT_ASSERT(_carrier->databaseFailing());
        big.seq = 3;
        _carrier->handlePost(big, "alice", kT0);
        // A repeat of a letter held is still answered stored.
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        const std::vector<FullReason> expected{FullReason::Unstated, FullReason::Disk, FullReason::Disk,
                                               FullReason::Unstated};
        const auto replies = openedBy(_alice);
        CPPUNIT_ASSERT(reasonsOf(replies) == expected);
        CPPUNIT_ASSERT(std::holds_alternative<Stored>(replies[3]));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), _carrier->refusals(FullReason::Disk));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));

        // Space is back: the next post is kept, with no restart.
        _database->session() << "PRAGMA max_page_count = 1000000", now;
        _carrier->handlePost(big, "alice", kT0);
        CPPUNIT_ASSERT(!_carrier->databaseFailing());
        CPPUNIT_ASSERT(std::holds_alternative<Stored>(openedBy(_alice).at(0)));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _mailbox->countFor("bob"));
    }

    void testFailedAckKeepsLettersForTheNextRound()
    {
        for (std::uint64_t seq = 1; seq <= 2; ++seq) _carrier->handlePost(postFor("bob", seq), "alice", kT0);
        login(_bob);
        _carrier->deliverTo("bob", kT0);
        _sink.sent.clear();
        _database->session() << "PRAGMA query_only = ON", now;
        _carrier->handleAck(Ack{"bob", "ab12", 2, {}}, "bob");
        CPPUNIT_ASSERT(_carrier->databaseFailing());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _mailbox->countFor("bob"));
        _carrier->redeliverDue(kT0 + kRedeliverEvery);
        CPPUNIT_ASSERT(seqsOfMailTo(_bob) == std::vector<std::uint64_t>({1, 2}));

        _database->session() << "PRAGMA query_only = OFF", now;
        _carrier->handleAck(Ack{"bob", "ab12", 2, {}}, "bob");
        CPPUNIT_ASSERT(!_carrier->databaseFailing());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _carrier->recipientsAwaitingAck());
    }

    void testExpireLettersRemovesOnlyOldOnes()
    {
        constexpr milliseconds kAge{60000};
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        _wallMs += 30000;
        _carrier->handlePost(postFor("bob", 2), "alice", kT0);
        _carrier->handlePost(postFor("carol", 1), "alice", kT0);
        _wallMs = kWall0 + static_cast<std::uint64_t>(kAge.count());
        _carrier->expireLetters(kAge);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _mailbox->countFor("bob"));
        _wallMs += 1;
        _carrier->expireLetters(kAge);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), _mailbox->waitingFor("bob").front().seq);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("carol"));
        _wallMs += 30000;
        _carrier->expireLetters(kAge);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->budget().lines());
        // An expired letter the sender posts again is a new letter.
        _carrier->handlePost(postFor("bob", 1), "alice", kT0);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
    }

    void testRefusalSummaryCountsByReasonAndStartsOver()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(), _carrier->takeRefusalSummary(milliseconds(10000)));
        for (std::uint64_t seq = 1; seq <= 5; ++seq) _carrier->handlePost(postFor("bob", seq), "alice", kT0);
        _carrier->handlePost(postFor("nobody", 1), "alice", kT0);
        _carrier->handlePost(postFor("ghost", 1), "alice", kT0);
        CPPUNIT_ASSERT_EQUAL(std::string("refused 4 offline letters in the last 10000 ms: 2 recipient (first alice "
                                         "for bob: over the recipient's mailbox), 2 unknown (first alice for nobody: "
                                         "no user of that name)"),
                             _carrier->takeRefusalSummary(milliseconds(10000)));
        CPPUNIT_ASSERT_EQUAL(std::string(), _carrier->takeRefusalSummary(milliseconds(10000)));
        _carrier->handlePost(postFor("ghost", 2), "alice", kT0);
        CPPUNIT_ASSERT_EQUAL(std::string("refused 1 offline letters in the last 500 ms: 1 unknown (first alice for "
                                         "ghost: no user of that name)"),
                             _carrier->takeRefusalSummary(milliseconds(500)));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), _carrier->refusals(FullReason::Unknown));
    }

private:
    void makeCarrier(const MailBudget::Limits& limits)
    {
        _carrier.reset();
        _mailbox = std::make_unique<Mailbox>(*_database, limits);
        _carrier = std::make_unique<MailCarrier>(*_mailbox, *_keys, _directory, *_sealed, kRedeliverEvery,
                                                 [this] { return _wallMs; });
    }

    // Makes SQLite answer SQLITE_FULL, as on a full disk, to any write that needs another page.
    void fillDatabase()
    {
        int pages = 0;
        _database->session() << "PRAGMA page_count", into(pages), now;
        _database->session() << "PRAGMA max_page_count = " + std::to_string(pages), now;
    }

    // The reason of each full among replies; Unstated for anything else.
    static std::vector<FullReason> reasonsOf(const std::vector<Message>& replies)
    {
        std::vector<FullReason> reasons;
        for (const auto& reply : replies)
            reasons.push_back(std::holds_alternative<Full>(reply) ? std::get<Full>(reply).reason
                                                                  : FullReason::Unstated);
        return reasons;
    }

    // Puts peer online as indexd does after its auth, with its key bound to its name.
    void login(TestPeer& peer)
    {
        _directory.login(peer.name(), peer.endpoint(), Dialect::Peerchat, peer.endpoint().host(), kT0,
                         peer.sessionAt(_identity));
        _keys->bind(peer.name(), peer.key().publicKey());
        peer.sessionWith(_identity);
    }

    // What was sent to peer, opened; takes it out of the sink.
    std::vector<Message> openedBy(TestPeer& peer)
    {
        std::vector<Message> opened;
        std::vector<RecordingSink::Datagram> others;
        for (const auto& d : _sink.sent) {
            if (d.to != peer.endpoint()) {
                others.push_back(d);
                continue;
            }
            auto message = peer.open(d.bytes);
            CPPUNIT_ASSERT_MESSAGE(d.bytes, message.has_value());
            opened.push_back(*message);
        }
        _sink.sent = others;
        return opened;
    }

    std::vector<std::uint64_t> seqsOfMailTo(TestPeer& peer)
    {
        std::vector<std::uint64_t> seqs;
        for (const auto& m : openedBy(peer)) seqs.push_back(std::get<Mail>(m).seq);
        return seqs;
    }

    IndexIdentity _identity;
    TestPeer _alice;
    TestPeer _bob;
    Directory _directory;
    RecordingSink _sink;
    std::unique_ptr<IndexDatabase> _database;
    std::unique_ptr<Mailbox> _mailbox;
    std::unique_ptr<KeyRegistry> _keys;
    std::unique_ptr<SealedSender> _sealed;
    std::unique_ptr<MailCarrier> _carrier;
    std::uint64_t _wallMs = kWall0;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailCarrierTest);
