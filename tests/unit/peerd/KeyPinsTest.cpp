#include "PeerStore.h"
#include "KeyPins.h"
#include "PeerTestData.h"
#include "TempDir.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::PeerStore;
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
    CPPUNIT_TEST(testKeylessStrangerStaysUnverified);
    CPPUNIT_TEST(testKeylessPinnedNameIsChangedUntilTrusted);
    CPPUNIT_TEST(testPinnedKeyBackWithdrawsKeylessOffer);
    CPPUNIT_TEST(testKeyAfterAcceptedKeylessComparedWithOldPin);
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

    void testKeylessStrangerStaysUnverified()
    {
        CPPUNIT_ASSERT(_pins.seeKeyless("carol") == Trust::Unverified);
        CPPUNIT_ASSERT(!_pins.pinned("carol"));
        CPPUNIT_ASSERT(!_pins.keylessOffered("carol"));
        CPPUNIT_ASSERT(!_pins.trust("carol"));
        CPPUNIT_ASSERT(_pins.see("carol", key(1)) == Trust::Pinned);
    }

    void testKeylessPinnedNameIsChangedUntilTrusted()
    {
        _pins.see("bob", key(1));
        CPPUNIT_ASSERT(_pins.seeKeyless("bob") == Trust::Changed);
        CPPUNIT_ASSERT(_pins.trustOf("bob") == Trust::Changed);
        CPPUNIT_ASSERT(_pins.keylessOffered("bob"));
        CPPUNIT_ASSERT(_pins.pinned("bob") == key(1));
        CPPUNIT_ASSERT(!_pins.offered("bob"));
        CPPUNIT_ASSERT(_pins.seeKeyless("bob") == Trust::Changed);

        // Accepted: a seed user from now on, with the pin kept aside.
        CPPUNIT_ASSERT(_pins.trust("bob"));
        CPPUNIT_ASSERT(_pins.trustOf("bob") == Trust::Unverified);
        CPPUNIT_ASSERT(!_pins.keylessOffered("bob"));
        CPPUNIT_ASSERT(_pins.pinned("bob") == key(1));
        CPPUNIT_ASSERT(_pins.seeKeyless("bob") == Trust::Unverified);
        CPPUNIT_ASSERT(!_pins.trust("bob"));
    }

    void testPinnedKeyBackWithdrawsKeylessOffer()
    {
        _pins.see("bob", key(1));
        _pins.seeKeyless("bob");
        CPPUNIT_ASSERT(_pins.see("bob", key(1)) == Trust::Pinned);
        CPPUNIT_ASSERT(!_pins.keylessOffered("bob"));
        // A key offer replaces the keyless one, and the other way round.
        _pins.seeKeyless("bob");
        CPPUNIT_ASSERT(_pins.see("bob", key(2)) == Trust::Changed);
        CPPUNIT_ASSERT(!_pins.keylessOffered("bob"));
        CPPUNIT_ASSERT(_pins.offered("bob") == key(2));
        CPPUNIT_ASSERT(_pins.seeKeyless("bob") == Trust::Changed);
        CPPUNIT_ASSERT(_pins.keylessOffered("bob"));
        CPPUNIT_ASSERT(!_pins.offered("bob"));
    }

    void testKeyAfterAcceptedKeylessComparedWithOldPin()
    {
        _pins.see("bob", key(1));
        _pins.seeKeyless("bob");
        _pins.trust("bob");
        // Another key is a change, never pinned afresh.
        CPPUNIT_ASSERT(_pins.see("bob", key(2)) == Trust::Changed);
        CPPUNIT_ASSERT(_pins.trust("bob"));
        CPPUNIT_ASSERT(_pins.trustOf("bob") == Trust::Pinned);
        CPPUNIT_ASSERT(_pins.pinned("bob") == key(2));
        // The pinned key back after an accepted keyless spell is pinned again.
        _pins.seeKeyless("bob");
        _pins.trust("bob");
        CPPUNIT_ASSERT(_pins.see("bob", key(2)) == Trust::Pinned);
        CPPUNIT_ASSERT(_pins.trustOf("bob") == Trust::Pinned);
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
            PeerStore store(path, 100);
            KeyPins pins(store.keys, store.outbox);
            pins.see("bob", key(1));
            pins.see("bob", key(2));
            pins.see("carol", key(3));
            pins.see("dave", key(4));
            pins.see("dave", key(5));
            pins.trust("dave");
            pins.pinIndex("127.0.0.1:9400", key(9));
            pins.see("erin", key(6));
            pins.seeKeyless("erin");
            pins.see("fred", key(7));
            pins.seeKeyless("fred");
            pins.trust("fred");
        }
        PeerStore store(path, 100);
        KeyPins pins(store.keys, store.outbox);
        CPPUNIT_ASSERT(pins.trustOf("bob") == Trust::Changed);
        CPPUNIT_ASSERT(pins.pinned("bob") == key(1));
        CPPUNIT_ASSERT(pins.offered("bob") == key(2));
        CPPUNIT_ASSERT(pins.trustOf("carol") == Trust::Pinned);
        CPPUNIT_ASSERT(pins.pinned("carol") == key(3));
        CPPUNIT_ASSERT(pins.pinned("dave") == key(5));
        CPPUNIT_ASSERT(!pins.offered("dave"));
        CPPUNIT_ASSERT(pins.indexPin("127.0.0.1:9400") == key(9));
        CPPUNIT_ASSERT(pins.trustOf("erin") == Trust::Changed);
        CPPUNIT_ASSERT(pins.keylessOffered("erin"));
        CPPUNIT_ASSERT(pins.trustOf("fred") == Trust::Unverified);
        CPPUNIT_ASSERT(pins.pinned("fred") == key(7));
    }

private:
    PeerStore _store{100};
    KeyPins _pins{_store.keys, _store.outbox};
};

CPPUNIT_TEST_SUITE_REGISTRATION(KeyPinsTest);
