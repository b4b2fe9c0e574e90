#include "ConversationStore.h"
#include "KeyPins.h"
#include "PeerTestData.h"
#include "TempDir.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::ConversationStore;
using peerchat::KeyPins;
using peerchat::local::Trust;
using peerchat::test::key;
using peerchat::test::TempDir;

class KeyPinsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(KeyPinsTest);
    CPPUNIT_TEST(testSeePinsFirstKey);
    CPPUNIT_TEST(testSeeSameKeyStaysPinned);
    CPPUNIT_TEST(testSeeOtherKeyOffersItAndKeepsPin);
    CPPUNIT_TEST(testSeeNewerOfferReplacesOlder);
    CPPUNIT_TEST(testSeePinnedKeyAgainWithdrawsOffer);
    CPPUNIT_TEST(testTrustMakesOfferThePin);
    CPPUNIT_TEST(testTrustWithoutOfferChangesNothing);
    CPPUNIT_TEST(testTrustOfStrangerIsUnverified);
    CPPUNIT_TEST(testPinsAreKeptPerName);
    CPPUNIT_TEST(testPinIndexPerEndpoint);
    CPPUNIT_TEST(testReopenFindsPinsAndOffers);
    CPPUNIT_TEST_SUITE_END();

public:
    void testSeePinsFirstKey()
    {
        CPPUNIT_ASSERT(_pins.see("bob", key(1)) == Trust::Pinned);
        CPPUNIT_ASSERT(_pins.pinned("bob") == key(1));
        CPPUNIT_ASSERT(!_pins.offered("bob"));
        CPPUNIT_ASSERT(_pins.trustOf("bob") == Trust::Pinned);
    }

    void testSeeSameKeyStaysPinned()
    {
        _pins.see("bob", key(1));
        CPPUNIT_ASSERT(_pins.see("bob", key(1)) == Trust::Pinned);
        CPPUNIT_ASSERT(_pins.pinned("bob") == key(1));
        CPPUNIT_ASSERT(!_pins.offered("bob"));
    }

    void testSeeOtherKeyOffersItAndKeepsPin()
    {
        _pins.see("bob", key(1));
        CPPUNIT_ASSERT(_pins.see("bob", key(2)) == Trust::Changed);
        CPPUNIT_ASSERT(_pins.pinned("bob") == key(1));
        CPPUNIT_ASSERT(_pins.offered("bob") == key(2));
        CPPUNIT_ASSERT(_pins.trustOf("bob") == Trust::Changed);
        CPPUNIT_ASSERT(_pins.see("bob", key(2)) == Trust::Changed);
    }

    void testSeeNewerOfferReplacesOlder()
    {
        _pins.see("bob", key(1));
        _pins.see("bob", key(2));
        CPPUNIT_ASSERT(_pins.see("bob", key(3)) == Trust::Changed);
        CPPUNIT_ASSERT(_pins.pinned("bob") == key(1));
        CPPUNIT_ASSERT(_pins.offered("bob") == key(3));
    }

    void testSeePinnedKeyAgainWithdrawsOffer()
    {
        _pins.see("bob", key(1));
        _pins.see("bob", key(2));
        CPPUNIT_ASSERT(_pins.see("bob", key(1)) == Trust::Pinned);
        CPPUNIT_ASSERT(!_pins.offered("bob"));
        CPPUNIT_ASSERT(_pins.trustOf("bob") == Trust::Pinned);
        CPPUNIT_ASSERT(!_pins.trust("bob"));
    }

    void testTrustMakesOfferThePin()
    {
        _pins.see("bob", key(1));
        _pins.see("bob", key(2));
        CPPUNIT_ASSERT(_pins.trust("bob"));
        CPPUNIT_ASSERT(_pins.pinned("bob") == key(2));
        CPPUNIT_ASSERT(!_pins.offered("bob"));
        CPPUNIT_ASSERT(_pins.trustOf("bob") == Trust::Pinned);
        CPPUNIT_ASSERT(_pins.see("bob", key(2)) == Trust::Pinned);
        CPPUNIT_ASSERT(_pins.see("bob", key(1)) == Trust::Changed);
    }

    void testTrustWithoutOfferChangesNothing()
    {
        CPPUNIT_ASSERT(!_pins.trust("bob"));
        CPPUNIT_ASSERT(!_pins.pinned("bob"));
        _pins.see("bob", key(1));
        CPPUNIT_ASSERT(!_pins.trust("bob"));
        CPPUNIT_ASSERT(_pins.pinned("bob") == key(1));
    }

    void testTrustOfStrangerIsUnverified()
    {
        CPPUNIT_ASSERT(_pins.trustOf("carol") == Trust::Unverified);
        CPPUNIT_ASSERT(!_pins.pinned("carol"));
        CPPUNIT_ASSERT(!_pins.offered("carol"));
    }

    void testPinsAreKeptPerName()
    {
        _pins.see("bob", key(1));
        _pins.see("carol", key(2));
        _pins.see("bob", key(3));
        CPPUNIT_ASSERT(_pins.trustOf("carol") == Trust::Pinned);
        CPPUNIT_ASSERT(_pins.pinned("carol") == key(2));
        CPPUNIT_ASSERT(_pins.trustOf("bob") == Trust::Changed);
    }

    void testPinIndexPerEndpoint()
    {
        CPPUNIT_ASSERT(!_pins.indexPin("127.0.0.1:9400"));
        _pins.pinIndex("127.0.0.1:9400", key(7));
        _pins.pinIndex("[::1]:9400", key(8));
        CPPUNIT_ASSERT(_pins.indexPin("127.0.0.1:9400") == key(7));
        CPPUNIT_ASSERT(_pins.indexPin("[::1]:9400") == key(8));
        _pins.pinIndex("127.0.0.1:9400", key(9));
        CPPUNIT_ASSERT(_pins.indexPin("127.0.0.1:9400") == key(9));
        CPPUNIT_ASSERT(!_pins.indexPin("127.0.0.1:9401"));
    }

    void testReopenFindsPinsAndOffers()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        {
            ConversationStore store(path, 100);
            KeyPins pins(store);
            pins.see("bob", key(1));
            pins.see("bob", key(2));
            pins.see("carol", key(3));
            pins.see("dave", key(4));
            pins.see("dave", key(5));
            pins.trust("dave");
            pins.pinIndex("127.0.0.1:9400", key(9));
        }
        ConversationStore store(path, 100);
        KeyPins pins(store);
        CPPUNIT_ASSERT(pins.trustOf("bob") == Trust::Changed);
        CPPUNIT_ASSERT(pins.pinned("bob") == key(1));
        CPPUNIT_ASSERT(pins.offered("bob") == key(2));
        CPPUNIT_ASSERT(pins.trustOf("carol") == Trust::Pinned);
        CPPUNIT_ASSERT(pins.pinned("carol") == key(3));
        CPPUNIT_ASSERT(pins.pinned("dave") == key(5));
        CPPUNIT_ASSERT(!pins.offered("dave"));
        CPPUNIT_ASSERT(pins.indexPin("127.0.0.1:9400") == key(9));
    }

private:
    ConversationStore _store{100};
    KeyPins _pins{_store};
};

CPPUNIT_TEST_SUITE_REGISTRATION(KeyPinsTest);
