#include "ContactDeclaration.h"

#include "SignedStatement.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using namespace peerchat;

class ContactDeclarationTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ContactDeclarationTest);
    CPPUNIT_TEST(testShortListIsOneSignedPart);
    CPPUNIT_TEST(testLongestListSplitsIntoPartsThatFit);
    CPPUNIT_TEST_SUITE_END();

public:
    void testShortListIsOneSignedPart()
    {
        const SigningKey key = SigningKey::generate();
        const auto parts = ContactDeclaration::parts("alice", 9, {"bob", "carol"}, key);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), parts.size());
        CPPUNIT_ASSERT(parts[0].part == 1 && parts[0].parts == 1 && parts[0].version == 9);
        CPPUNIT_ASSERT(parts[0].names == (std::vector<std::string>{"bob", "carol"}));
        CPPUNIT_ASSERT(SigningKey::verify(key.publicKey(), SignedStatement::contacts(parts[0]), parts[0].sig));
        // An empty list is one part too: indexd must hear that there is nobody.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), ContactDeclaration::parts("alice", 10, {}, key).size());
    }

    void testLongestListSplitsIntoPartsThatFit()
    {
        const SigningKey key = SigningKey::generate();
        std::vector<std::string> names;
        for (std::size_t i = 0; i < Protocol::kMaxContacts; ++i) {
            std::string name = "user" + std::to_string(i);
            names.push_back(name + std::string(32 - name.size(), 'x'));
        }
        const auto parts = ContactDeclaration::parts("alice", 1, names, key);
        CPPUNIT_ASSERT(parts.size() > 1 && parts.size() <= Protocol::kMaxDeclarationParts);
        std::vector<std::string> all;
        for (std::size_t i = 0; i < parts.size(); ++i) {
            CPPUNIT_ASSERT_EQUAL(std::uint32_t(i + 1), parts[i].part);
            CPPUNIT_ASSERT_EQUAL(static_cast<std::uint32_t>(parts.size()), parts[i].parts);
            // Each part decodes as it was made: within the limit of NAMES.
            const auto back = Protocol::decode(Protocol::encode(parts[i]));
            CPPUNIT_ASSERT_MESSAGE(back.ok() ? "" : back.error(), back.ok());
            CPPUNIT_ASSERT(SigningKey::verify(key.publicKey(), SignedStatement::contacts(parts[i]), parts[i].sig));
            all.insert(all.end(), parts[i].names.begin(), parts[i].names.end());
        }
        CPPUNIT_ASSERT(all == names);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ContactDeclarationTest);
