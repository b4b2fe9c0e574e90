#include "LockedSecret.h"

#include "MappingFlags.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <array>
#include <cstdint>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include <unistd.h>

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
    CPPUNIT_TEST(testSmallSecretsSharePages);
    CPPUNIT_TEST(testLargeSecretLocked);
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

    void testSmallSecretsSharePages()
    {
        using SessionKeys = std::array<std::uint8_t, 64>;
        std::vector<LockedSecret<SessionKeys>> secrets(1000);
        std::set<std::uintptr_t> pages;
        const auto pageBytes = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
        for (const auto& secret : secrets) pages.insert(reinterpret_cast<std::uintptr_t>(secret->data()) / pageBytes);
        // 64 fit in a page; pages of their own would be 1,000.
        CPPUNIT_ASSERT(pages.size() <= secrets.size() / 16);
        MappingFlags::assertHoldsSecrets(secrets.front()->data());
        MappingFlags::assertHoldsSecrets(secrets.back()->data());
    }

    void testLargeSecretLocked()
    {
        using Large = std::array<std::uint8_t, 4096>;
        const LockedSecret<Large> secret;
        CPPUNIT_ASSERT(*secret == Large{});
        MappingFlags::assertHoldsSecrets(secret->data());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LockedSecretTest);
