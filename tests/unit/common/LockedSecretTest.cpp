#include "LockedSecret.h"

#include "MappingFlags.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

using peerchat::LockedSecret;
using peerchat::test::MappingFlags;

namespace {

using Key = std::array<std::uint8_t, 32>;

static_assert(!std::is_copy_constructible_v<LockedSecret<Key>>);
static_assert(!std::is_copy_assignable_v<LockedSecret<Key>>);
static_assert(std::is_nothrow_move_constructible_v<LockedSecret<Key>>);
} // namespace

class LockedSecretTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(LockedSecretTest);
    CPPUNIT_TEST(testMakeZeroed);
    CPPUNIT_TEST(testKeepOutOfCoreDumpsAndLock);
    CPPUNIT_TEST(testKeepStructsAligned);
    CPPUNIT_TEST(testMoveLeavesSourceEmpty);
    CPPUNIT_TEST(testCloneIsSeparateCopy);
    CPPUNIT_TEST_SUITE_END();

public:
    void testMakeZeroed()
    {
        const LockedSecret<Key> secret;
        CPPUNIT_ASSERT(secret.holds());
        CPPUNIT_ASSERT(*secret == Key{});
    }

    void testKeepOutOfCoreDumpsAndLock()
    {
        LockedSecret<Key> secret;
        (*secret)[0] = 1;
        MappingFlags::assertHoldsSecrets(secret->data());
        // Plain memory of the program, for contrast: the flags are read, not assumed.
        static const Key plain{};
        const auto flags = MappingFlags::of(plain.data());
        CPPUNIT_ASSERT(!flags.empty() && flags.count("dd") == 0);
    }

    void testKeepStructsAligned()
    {
        struct Mixed
        {
            std::uint64_t counter;
            std::array<std::uint8_t, 12> bytes;
        };
        const LockedSecret<Mixed> secret;
        CPPUNIT_ASSERT_EQUAL(std::uintptr_t{0}, reinterpret_cast<std::uintptr_t>(&*secret) % alignof(Mixed));
    }

    void testMoveLeavesSourceEmpty()
    {
        LockedSecret<Key> source;
        (*source)[5] = 7;
        const std::uint8_t* where = source->data();
        LockedSecret<Key> moved(std::move(source));
        CPPUNIT_ASSERT(!source.holds());
        CPPUNIT_ASSERT_THROW(*source, Poco::NullPointerException);
        CPPUNIT_ASSERT(moved->data() == where);  // the same locked bytes, no copy made
        CPPUNIT_ASSERT_EQUAL(std::uint8_t{7}, (*moved)[5]);

        LockedSecret<Key> other;
        other = std::move(moved);
        CPPUNIT_ASSERT(!moved.holds());
        CPPUNIT_ASSERT_EQUAL(std::uint8_t{7}, (*other)[5]);
    }

    void testCloneIsSeparateCopy()
    {
        LockedSecret<Key> secret;
        (*secret)[0] = 9;
        LockedSecret<Key> copy = secret.clone();
        CPPUNIT_ASSERT(*copy == *secret);
        CPPUNIT_ASSERT(copy->data() != secret->data());
        (*copy)[0] = 1;
        CPPUNIT_ASSERT_EQUAL(std::uint8_t{9}, (*secret)[0]);
        MappingFlags::assertHoldsSecrets(copy->data());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LockedSecretTest);
