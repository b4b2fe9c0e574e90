#include "Directory.h"
#include "MailCarrier.h"
#include "Mailbox.h"

#include "RecordingSink.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>

using peerchat::Ack;
using peerchat::Dialect;
using peerchat::Directory;
using peerchat::MailCarrier;
using peerchat::Mailbox;
using peerchat::Msg;
using peerchat::Store;
using peerchat::test::endpoint;
using peerchat::test::RecordingSink;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kRedeliverEvery{1000};
const Directory::TimePoint kT0{};

const std::string kAlice = "127.0.0.1:5001";
const std::string kBob = "127.0.0.1:5002";

Store storeFor(const std::string& to, std::uint64_t seq, const std::string& from = "alice",
               const std::string& stream = "ab12")
{
    return Store{to, Msg{stream, seq, "12:00:00", from, "line " + std::to_string(seq)}};
}

std::string msgText(std::uint64_t seq, const std::string& from = "alice", const std::string& stream = "ab12")
{
    return "msg," + stream + "," + std::to_string(seq) + ",12:00:00," + from + ",line " + std::to_string(seq);
}

std::vector<std::string> strings(std::initializer_list<std::string> items)
{
    return std::vector<std::string>(items);
}

} // namespace

class MailCarrierTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(MailCarrierTest);
    CPPUNIT_TEST(testStoreFromOnlineSenderAnsweredStored);
    CPPUNIT_TEST(testStoreFromAnyoneElseDropped);
    CPPUNIT_TEST(testRepeatedStoreAnsweredStoredWithoutSecondCopy);
    CPPUNIT_TEST(testStorePastLimitAnsweredFull);
    CPPUNIT_TEST(testDeliverSendsEveryWaitingLineAsMsg);
    CPPUNIT_TEST(testDeliverToUserWithoutMailSendsNothing);
    CPPUNIT_TEST(testResentEveryRedeliveryUntilAcked);
    CPPUNIT_TEST(testAckFromAnyoneElseIgnored);
    CPPUNIT_TEST(testRecipientGoneOfflineForgottenButMailKept);
    CPPUNIT_TEST(testStoreForOnlineRecipientSentAtOnce);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _mailbox = std::make_unique<Mailbox>(":memory:", 3);
        _carrier = std::make_unique<MailCarrier>(*_mailbox, _directory, _sink, kRedeliverEvery);
        login("alice", kAlice, Dialect::Peerchat);
    }

    void testStoreFromOnlineSenderAnsweredStored()
    {
        _carrier->handleStore(storeFor("bob", 1), endpoint(kAlice), kT0);
        CPPUNIT_ASSERT(sentTo(kAlice) == strings({"stored,bob,ab12,1"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _carrier->recipientsAwaitingAck());
    }

    void testStoreFromAnyoneElseDropped()
    {
        login("carol", "127.0.0.1:5003", Dialect::Seed);
        // Not from the sender's endpoint; a sender not online; a seed sender.
        _carrier->handleStore(storeFor("bob", 1), endpoint("127.0.0.1:5009"), kT0);
        _carrier->handleStore(storeFor("bob", 1, "dave"), endpoint("127.0.0.1:5004"), kT0);
        _carrier->handleStore(storeFor("bob", 1, "carol"), endpoint("127.0.0.1:5003"), kT0);
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->countFor("bob"));
    }

    void testRepeatedStoreAnsweredStoredWithoutSecondCopy()
    {
        _carrier->handleStore(storeFor("bob", 1), endpoint(kAlice), kT0);
        _carrier->handleStore(storeFor("bob", 1), endpoint(kAlice), kT0);
        CPPUNIT_ASSERT(sentTo(kAlice) == strings({"stored,bob,ab12,1", "stored,bob,ab12,1"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
    }

    void testStorePastLimitAnsweredFull()
    {
        for (std::uint64_t seq = 1; seq <= 4; ++seq) _carrier->handleStore(storeFor("bob", seq), endpoint(kAlice), kT0);
        _carrier->handleStore(storeFor("bob", 2), endpoint(kAlice), kT0);
        CPPUNIT_ASSERT(sentTo(kAlice) == strings({"stored,bob,ab12,1", "stored,bob,ab12,2", "stored,bob,ab12,3",
                                                   "full,bob,ab12,4", "stored,bob,ab12,2"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), _mailbox->countFor("bob"));
    }

    void testDeliverSendsEveryWaitingLineAsMsg()
    {
        _carrier->handleStore(storeFor("bob", 2), endpoint(kAlice), kT0);
        _carrier->handleStore(storeFor("bob", 1), endpoint(kAlice), kT0);
        _sink.sent.clear();
        login("bob", kBob, Dialect::Peerchat);
        _carrier->deliverTo("bob", kT0);
        CPPUNIT_ASSERT(sentTo(kBob) == strings({msgText(1), msgText(2)}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), _sink.sent.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _carrier->recipientsAwaitingAck());
    }

    void testDeliverToUserWithoutMailSendsNothing()
    {
        login("bob", kBob, Dialect::Peerchat);
        _carrier->deliverTo("bob", kT0);
        _carrier->deliverTo("nobody", kT0);
        _carrier->redeliverDue(kT0 + kRedeliverEvery);
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _carrier->recipientsAwaitingAck());
    }

    void testResentEveryRedeliveryUntilAcked()
    {
        for (std::uint64_t seq = 1; seq <= 3; ++seq) _carrier->handleStore(storeFor("bob", seq), endpoint(kAlice), kT0);
        login("bob", kBob, Dialect::Peerchat);
        _carrier->deliverTo("bob", kT0);
        _sink.sent.clear();

        _carrier->redeliverDue(kT0 + kRedeliverEvery - milliseconds(1));
        CPPUNIT_ASSERT(_sink.sent.empty());
        _carrier->redeliverDue(kT0 + kRedeliverEvery);
        CPPUNIT_ASSERT(sentTo(kBob) == strings({msgText(1), msgText(2), msgText(3)}));

        // A cumulative ack takes what it covers; the rest goes out next time.
        _sink.sent.clear();
        _carrier->handleAck(Ack{"bob", "ab12", 2}, endpoint(kBob));
        CPPUNIT_ASSERT(_sink.sent.empty());
        _carrier->redeliverDue(kT0 + 2 * kRedeliverEvery);
        CPPUNIT_ASSERT(sentTo(kBob) == strings({msgText(3)}));

        _sink.sent.clear();
        _carrier->handleAck(Ack{"bob", "ab12", 3}, endpoint(kBob));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _mailbox->countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _carrier->recipientsAwaitingAck());
        _carrier->redeliverDue(kT0 + 10 * kRedeliverEvery);
        CPPUNIT_ASSERT(_sink.sent.empty());
    }

    void testAckFromAnyoneElseIgnored()
    {
        _carrier->handleStore(storeFor("bob", 1), endpoint(kAlice), kT0);
        login("bob", kBob, Dialect::Peerchat);
        _carrier->deliverTo("bob", kT0);
        _carrier->handleAck(Ack{"bob", "ab12", 1}, endpoint("127.0.0.1:5009"));
        _carrier->handleAck(Ack{"carol", "ab12", 1}, endpoint(kBob));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _carrier->recipientsAwaitingAck());
    }

    void testRecipientGoneOfflineForgottenButMailKept()
    {
        _carrier->handleStore(storeFor("bob", 1), endpoint(kAlice), kT0);
        login("bob", kBob, Dialect::Peerchat);
        _carrier->deliverTo("bob", kT0);
        _directory.logout("bob", endpoint(kBob), endpoint(kBob));
        _sink.sent.clear();

        _carrier->redeliverDue(kT0 + kRedeliverEvery);
        CPPUNIT_ASSERT(_sink.sent.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _carrier->recipientsAwaitingAck());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _mailbox->countFor("bob"));

        // Back at another endpoint: the line follows.
        login("bob", "127.0.0.1:6002", Dialect::Peerchat);
        _carrier->deliverTo("bob", kT0 + 2 * kRedeliverEvery);
        CPPUNIT_ASSERT(sentTo("127.0.0.1:6002") == strings({msgText(1)}));
    }

    void testStoreForOnlineRecipientSentAtOnce()
    {
        login("bob", kBob, Dialect::Peerchat);
        _carrier->handleStore(storeFor("bob", 1), endpoint(kAlice), kT0);
        CPPUNIT_ASSERT(sentTo(kAlice) == strings({"stored,bob,ab12,1"}));
        CPPUNIT_ASSERT(sentTo(kBob) == strings({msgText(1)}));
        // Only the new line goes out at once; all of them at the next resend.
        _carrier->handleStore(storeFor("bob", 2), endpoint(kAlice), kT0 + milliseconds(10));
        CPPUNIT_ASSERT(sentTo(kBob) == strings({msgText(1), msgText(2)}));
        _sink.sent.clear();
        _carrier->redeliverDue(kT0 + kRedeliverEvery);
        CPPUNIT_ASSERT(sentTo(kBob) == strings({msgText(1), msgText(2)}));
    }

private:
    void login(const std::string& name, const std::string& ep, Dialect dialect)
    {
        _directory.login(name, endpoint(ep), dialect, endpoint(ep).host(), kT0);
    }

    std::vector<std::string> sentTo(const std::string& destination) const { return _sink.to(endpoint(destination)); }

    Directory _directory;
    RecordingSink _sink;
    std::unique_ptr<Mailbox> _mailbox;
    std::unique_ptr<MailCarrier> _carrier;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailCarrierTest);
