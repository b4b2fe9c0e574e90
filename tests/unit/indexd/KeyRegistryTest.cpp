#include "IndexDatabase.h"
#include "KeyRegistry.h"
#include "SigningKey.h"

#include "TempDir.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>

using peerchat::IndexDatabase;
using peerchat::KeyRegistry;
using peerchat::PublicKey;
using peerchat::SigningKey;

class KeyRegistryTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(KeyRegistryTest);
    CPPUNIT_TEST(testUnknownNameBelongsToNoKey);
    CPPUNIT_TEST(testFirstKeyKeepsName);
    CPPUNIT_TEST(testBindingsSurviveReopen);
    CPPUNIT_TEST(testStampMustBeNewerThanLastAccepted);
    CPPUNIT_TEST(testStampsPerName);
    CPPUNIT_TEST(testOldStampsForgotten);
    CPPUNIT_TEST(testStampRenewedSinceIsKept);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _database = std::make_unique<IndexDatabase>(":memory:");
        _keys = std::make_unique<KeyRegistry>(*_database);
    }

    void testUnknownNameBelongsToNoKey()
    {
        CPPUNIT_ASSERT(!_keys->identityOf("alice"));
    }

    void testFirstKeyKeepsName()
    {
        const PublicKey alice = SigningKey::generate().publicKey();
        const PublicKey mallory = SigningKey::generate().publicKey();
        CPPUNIT_ASSERT(_keys->bind("alice", alice));
        CPPUNIT_ASSERT(_keys->bind("alice", alice));
        CPPUNIT_ASSERT(!_keys->bind("alice", mallory));
        CPPUNIT_ASSERT(_keys->identityOf("alice") == alice);
        // One key may hold several names; names are exact.
        CPPUNIT_ASSERT(_keys->bind("天涯", alice));
        CPPUNIT_ASSERT(!_keys->identityOf("Alice"));
    }

    void testBindingsSurviveReopen()
    {
        peerchat::test::TempDir dir;
        const std::string path = dir.file("indexd.db");
        const PublicKey alice = SigningKey::generate().publicKey();
        {
            IndexDatabase database(path);
            KeyRegistry(database).bind("alice", alice);
        }
        IndexDatabase database(path);
        KeyRegistry reopened(database);
        CPPUNIT_ASSERT(reopened.identityOf("alice") == alice);
        CPPUNIT_ASSERT(!reopened.bind("alice", SigningKey::generate().publicKey()));
    }

    void testStampMustBeNewerThanLastAccepted()
    {
        CPPUNIT_ASSERT(_keys->isFresh("alice", 100));
        _keys->acceptStamp("alice", 100);
        CPPUNIT_ASSERT(!_keys->isFresh("alice", 100));
        CPPUNIT_ASSERT(!_keys->isFresh("alice", 99));
        CPPUNIT_ASSERT(_keys->isFresh("alice", 101));
        // An older stamp accepted late never moves the mark back.
        _keys->acceptStamp("alice", 50);
        CPPUNIT_ASSERT(!_keys->isFresh("alice", 100));
    }

    void testStampsPerName()
    {
        _keys->acceptStamp("alice", 100);
        CPPUNIT_ASSERT(_keys->isFresh("bob", 1));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _keys->stampsHeld());
    }

    void testOldStampsForgotten()
    {
        _keys->acceptStamp("alice", 100);
        _keys->acceptStamp("bob", 200);
        _keys->forgetStampsBefore(150);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _keys->stampsHeld());
        CPPUNIT_ASSERT(_keys->isFresh("alice", 1));
        CPPUNIT_ASSERT(!_keys->isFresh("bob", 200));
    }

    void testStampRenewedSinceIsKept()
    {
        _keys->acceptStamp("alice", 100);
        _keys->acceptStamp("bob", 120);
        _keys->acceptStamp("alice", 300);
        _keys->forgetStampsBefore(200);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), _keys->stampsHeld());
        CPPUNIT_ASSERT(!_keys->isFresh("alice", 300));
        CPPUNIT_ASSERT(_keys->isFresh("bob", 1));
        _keys->forgetStampsBefore(400);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), _keys->stampsHeld());
    }

private:
    std::unique_ptr<IndexDatabase> _database;
    std::unique_ptr<KeyRegistry> _keys;
};

CPPUNIT_TEST_SUITE_REGISTRATION(KeyRegistryTest);
