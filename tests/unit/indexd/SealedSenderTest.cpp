#include "Directory.h"
#include "IndexIdentity.h"
#include "SealedSender.h"

#include "RecordingSink.h"
#include "TestPeer.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::Dialect;
using peerchat::Directory;
using peerchat::IndexIdentity;
using peerchat::Protocol;
using peerchat::SealedSender;
using peerchat::Seen;
using peerchat::SigningKey;
using peerchat::test::endpoint;
using peerchat::test::RecordingSink;
using peerchat::test::TestPeer;

class SealedSenderTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(SealedSenderTest);
    CPPUNIT_TEST(testSendsSealedToRegisteredEndpoint);
    CPPUNIT_TEST(testSendsNothingToUserWithoutSession);
    CPPUNIT_TEST_SUITE_END();

public:
    SealedSenderTest() : _identity(SigningKey::generate()) {}

    void testSendsSealedToRegisteredEndpoint()
    {
        TestPeer dave("dave", "[::1]:5004");
        _directory.login("dave", dave.endpoint(), Dialect::Peerchat, dave.endpoint().host(), Directory::TimePoint(),
                         dave.sessionAt(_identity));
        dave.sessionWith(_identity);
        SealedSender sender(_directory, _sink);
        CPPUNIT_ASSERT(sender.send("dave", Seen{42}));
        CPPUNIT_ASSERT(sender.send("dave", Seen{43}));
        const auto sent = _sink.to(dave.endpoint());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), sent.size());
        // Nothing of the inner message shows on the wire.
        CPPUNIT_ASSERT(sent[0].find("seen") == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(42), std::get<Seen>(*dave.open(sent[0])).seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(43), std::get<Seen>(*dave.open(sent[1])).seq);
    }

    void testSendsNothingToUserWithoutSession()
    {
        _directory.login("alice", endpoint("127.0.0.1:5001"), Dialect::Seed, endpoint("127.0.0.1:5001").host(),
                         Directory::TimePoint());
        SealedSender sender(_directory, _sink);
        CPPUNIT_ASSERT(!sender.send("alice", Seen{1}));
        CPPUNIT_ASSERT(!sender.send("nobody", Seen{1}));
        CPPUNIT_ASSERT(_sink.sent.empty());
    }

private:
    IndexIdentity _identity;
    Directory _directory;
    RecordingSink _sink;
};

CPPUNIT_TEST_SUITE_REGISTRATION(SealedSenderTest);
