// Issue 10: keys bound to who holds them, tried for real against the real
// indexd and peerds on loopback. mallory, a hand-written client
// (SecureClient), announces alice's key-exchange key as hers.
#include "ChatNetwork.h"
#include "FakeIndex.h"
#include "LocalClient.h"
#include "SecureClient.h"
#include "Wait.h"

#include "Base64.h"
#include "KxKeyPair.h"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Timespan.h>

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <memory>
#include <string>

using namespace peerchat;
using namespace peerchat::test;
using namespace std::chrono_literals;

namespace {

// A SecureClient for name that takes only net's indexd.
std::unique_ptr<SecureClient> clientOf(ChatNetwork& net, const std::string& name)
{
    auto client = std::make_unique<SecureClient>(name);
    PublicKey indexKey{};
    CPPUNIT_ASSERT(Base64::decodeInto(net.indexKey(), indexKey));
    client->pinIndex(indexKey);
    return client;
}

} // namespace

class BindingTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(BindingTest);
    CPPUNIT_TEST(testLoginWithAnotherUsersKxRefused);
    CPPUNIT_TEST(testMaliciousIndexPresentingOneKxForTwoNamesRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    // Row 1: mallory logs in with alice's KXPK while alice is online. Before
    // issue 10 indexd welcomed her, and bob's peerd sealed its lines to
    // mallory under the keys of its session with alice: alice's session
    // opened them.
    void testLoginWithAnotherUsersKxRefused()
    {
        ChatNetwork net;
        net.startPeerd("bob");
        auto bob = net.attachOnline("bob");
        auto alice = clientOf(net, "alice");
        const auto aliceWelcome = alice->login(net.index());
        CPPUNIT_ASSERT_MESSAGE(aliceWelcome.error(), aliceWelcome.ok());
        // bob asks alice to be his contact, and she lists him: they see each other.
        bob->sendLine(peerRequest("add", "alice"));
        alice->declare({"bob"});
        CPPUNIT_ASSERT_MESSAGE(net.peerd("bob").log(), waitInRoster(*bob, "alice"));

        auto mallory = clientOf(net, "mallory");
        mallory->claimKx(alice->keys().kx);
        const auto welcome = mallory->login(net.index());
        CPPUNIT_ASSERT_MESSAGE("indexd welcomed mallory with alice's KXPK", !welcome.ok());
        CPPUNIT_ASSERT_MESSAGE(welcome.error(), welcome.error().find("refuse,mallory,auth") == 0);

        // alice is untouched: bob's next line is hers, and opens only under her session with bob.
        bob->sendLine(sendRequest("alice", "for alice"));
        const auto sealed = alice->receiveInner("msg", 10s);
        CPPUNIT_ASSERT_MESSAGE(net.peerd("bob").log(), sealed);
        const Msg& msg = std::get<Msg>(*sealed->inner);
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), msg.to);
        CPPUNIT_ASSERT_EQUAL(std::string("for alice"), msg.text);
    }

    // Row 1 with a malicious indexd (a FakeIndex with its own key, which bob's
    // peerd is told to trust): it presents mallory with alice's KXPK and a
    // KXSIG of mallory's own. bob's peerd refuses the second name for the
    // key: nothing it sends goes to mallory, and alice still gets her lines.
    void testMaliciousIndexPresentingOneKxForTwoNamesRefused()
    {
        ChatNetwork net;
        FakeIndex fake(SigningKey::generate());
        Poco::Net::DatagramSocket aliceSocket(Poco::Net::SocketAddress("127.0.0.1", 0), false);
        Poco::Net::DatagramSocket mallorySocket(Poco::Net::SocketAddress("127.0.0.1", 0), false);
        const Endpoint aliceAt(aliceSocket.address());
        const Endpoint malloryAt(mallorySocket.address());
        const SigningKey alice = SigningKey::generate();
        const SigningKey mallory = SigningKey::generate();
        const KxKeyPair aliceKx = KxKeyPair::generate();
        fake.show({Here{0, "alice", aliceAt, "peerchat/3", fake.keysFor(alice, "alice", aliceKx.publicKey()),
                        PresenceState::Online, ""}});

        net.startPeerd("bob", {"--index", fake.endpoint(), "--index-key", Base64::encode(fake.key().publicKey())});
        auto bob = net.attach("bob");
        fake.serveLogin();
        fake.serveDeclaration();
        CPPUNIT_ASSERT_MESSAGE(net.peerd("bob").log(), waitInRoster(*bob, "alice"));

        fake.sendHere(Here{0, "mallory", malloryAt, "peerchat/3", fake.keysFor(mallory, "mallory", aliceKx.publicKey()),
                           PresenceState::Online, ""});
        bob->sendLine(sendRequest("mallory", "for mallory only"));
        bob->sendLine(sendRequest("alice", "marker for alice"));
        CPPUNIT_ASSERT_MESSAGE(net.peerd("bob").log(),
                               aliceSocket.poll(Poco::Timespan(10, 0), Poco::Net::Socket::SELECT_READ));
        // Sent after mallory's line: had bob sealed anything for mallory, it would be there by now.
        CPPUNIT_ASSERT_MESSAGE(net.peerd("bob").log(),
                               !mallorySocket.poll(Poco::Timespan(0, 500000), Poco::Net::Socket::SELECT_READ));
        CPPUNIT_ASSERT(rosterNames(*bob) == std::vector<std::string>{"alice"});
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BindingTest);
