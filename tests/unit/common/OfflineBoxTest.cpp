#include "OfflineBox.h"

#include <Poco/Exception.h>

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::OfflineBox;
using peerchat::PublicKey;
using peerchat::SigningKey;

namespace {

void assertRefused(const peerchat::Parsed<std::string>& opened)
{
    CPPUNIT_ASSERT_MESSAGE("opened a box that should be refused", !opened.ok());
    CPPUNIT_ASSERT(!opened.error().empty());
}

} // namespace

class OfflineBoxTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(OfflineBoxTest);
    CPPUNIT_TEST(testOpenSealedBox);
    CPPUNIT_TEST(testSealEmptyAndLargestPlaintext);
    CPPUNIT_TEST(testHideRepeatedPlaintext);
    CPPUNIT_TEST(testRefuseWrongRecipient);
    CPPUNIT_TEST(testRefuseWrongSender);
    CPPUNIT_TEST(testRefuseTruncatedBox);
    CPPUNIT_TEST(testRefuseTamperedBox);
    CPPUNIT_TEST(testRefuseTooLongPlaintext);
    CPPUNIT_TEST(testRefuseUnusableKeys);
    CPPUNIT_TEST_SUITE_END();

public:
    void testOpenSealedBox()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const std::string text = "msg,1a,3,2024-01-01T00:00:00Z,alice,see you tomorrow";
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), text);
        CPPUNIT_ASSERT_EQUAL(text.size() + 40, box.size());
        CPPUNIT_ASSERT(box.find("see you") == std::string::npos);
        const auto opened = OfflineBox::open(bob, alice.publicKey(), box);
        CPPUNIT_ASSERT_MESSAGE(opened.error(), opened.ok());
        CPPUNIT_ASSERT_EQUAL(text, *opened);
    }

    void testSealEmptyAndLargestPlaintext()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        CPPUNIT_ASSERT_EQUAL(std::string(), *OfflineBox::open(bob, alice.publicKey(), OfflineBox::seal(alice, bob.publicKey(), "")));
        const std::string largest(OfflineBox::kMaxPlaintextBytes, '\x80');
        CPPUNIT_ASSERT(largest == *OfflineBox::open(bob, alice.publicKey(), OfflineBox::seal(alice, bob.publicKey(), largest)));
    }

    void testHideRepeatedPlaintext()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        CPPUNIT_ASSERT(OfflineBox::seal(alice, bob.publicKey(), "same") != OfflineBox::seal(alice, bob.publicKey(), "same"));
    }

    void testRefuseWrongRecipient()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const SigningKey carol = SigningKey::generate();
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), "for bob only");
        assertRefused(OfflineBox::open(carol, alice.publicKey(), box));
        assertRefused(OfflineBox::open(carol, bob.publicKey(), box));
    }

    void testRefuseWrongSender()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const SigningKey mallory = SigningKey::generate();
        const std::string box = OfflineBox::seal(mallory, bob.publicKey(), "I am alice");
        assertRefused(OfflineBox::open(bob, alice.publicKey(), box));
        CPPUNIT_ASSERT(OfflineBox::open(bob, mallory.publicKey(), box).ok());
    }

    void testRefuseTruncatedBox()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), "hello");
        for (std::size_t size = 0; size < box.size(); ++size)
            assertRefused(OfflineBox::open(bob, alice.publicKey(), box.substr(0, size)));
        assertRefused(OfflineBox::open(bob, alice.publicKey(), box + '\0'));
    }

    void testRefuseTamperedBox()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const std::string box = OfflineBox::seal(alice, bob.publicKey(), "hello");
        for (std::size_t i = 0; i < box.size(); ++i) {
            std::string tampered = box;
            tampered[i] = static_cast<char>(tampered[i] ^ 0x04);
            assertRefused(OfflineBox::open(bob, alice.publicKey(), tampered));
        }
    }

    void testRefuseTooLongPlaintext()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        const std::string tooLong(OfflineBox::kMaxPlaintextBytes + 1, 'a');
        CPPUNIT_ASSERT_THROW(OfflineBox::seal(alice, bob.publicKey(), tooLong), Poco::InvalidArgumentException);
        assertRefused(OfflineBox::open(bob, alice.publicKey(), std::string(OfflineBox::kMaxPlaintextBytes + 41, 'a')));
    }

    void testRefuseUnusableKeys()
    {
        const SigningKey alice = SigningKey::generate();
        const SigningKey bob = SigningKey::generate();
        CPPUNIT_ASSERT_THROW(OfflineBox::seal(alice, PublicKey{}, "x"), Poco::InvalidArgumentException);
        assertRefused(OfflineBox::open(bob, PublicKey{}, OfflineBox::seal(alice, bob.publicKey(), "x")));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OfflineBoxTest);
