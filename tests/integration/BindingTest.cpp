// Issue 10: keys bound to who holds them, tried for real against the real
// indexd and peerds on loopback. mallory, a hand-written client
// (SecureClient), announces alice's key-exchange key as hers.
#include "ChatNetwork.h"
#include "LocalClient.h"
#include "SecureClient.h"
#include "Wait.h"

#include "Base64.h"

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
        CPPUNIT_ASSERT(alice->fetchRoster().ok());
        CPPUNIT_ASSERT(waitInRoster(*bob, "alice"));

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
};

CPPUNIT_TEST_SUITE_REGISTRATION(BindingTest);
