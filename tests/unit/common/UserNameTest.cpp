#include "UserName.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using peerchat::UserName;

namespace {

void assertAccepted(const std::string& name)
{
    CPPUNIT_ASSERT_EQUAL_MESSAGE(name, std::string(), UserName::check(name));
    CPPUNIT_ASSERT_MESSAGE(name, UserName::isValid(name));
}

void assertRefused(const std::string& name)
{
    CPPUNIT_ASSERT_MESSAGE("accepted '" + name + "'", !UserName::check(name).empty());
    CPPUNIT_ASSERT_MESSAGE("accepted '" + name + "'", !UserName::isValid(name));
}

std::string repeat(const std::string& piece, std::size_t times)
{
    std::string out;
    for (std::size_t i = 0; i < times; ++i) out += piece;
    return out;
}

} // namespace

class UserNameTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(UserNameTest);
    CPPUNIT_TEST(testAcceptOrdinaryNames);
    CPPUNIT_TEST(testAcceptExactly32Bytes);
    CPPUNIT_TEST(testRefuseMoreThan32Bytes);
    CPPUNIT_TEST(testRefuseEmptyName);
    CPPUNIT_TEST(testRefuseSeparators);
    CPPUNIT_TEST(testRefuseAsciiWhitespace);
    CPPUNIT_TEST(testRefuseUnicodeWhitespace);
    CPPUNIT_TEST(testRefuseControlCharacters);
    CPPUNIT_TEST(testRefuseInvalidUtf8);
    CPPUNIT_TEST_SUITE_END();

public:
    void testAcceptOrdinaryNames()
    {
        for (const std::string name : {"天涯", "alice", "a", "Bob_1", "x.y-z", "你好世界", "\xF0\x9F\x98\x80", "caf\xC3\xA9"})
            assertAccepted(name);
    }

    void testAcceptExactly32Bytes()
    {
        CPPUNIT_ASSERT_EQUAL(std::size_t(32), UserName::kMaxBytes);
        assertAccepted(std::string(32, 'a'));
        assertAccepted(repeat("天", 10) + "ab");            // 30 + 2 bytes
        assertAccepted(std::string(29, 'a') + "天");         // the last character ends on byte 32
        assertAccepted(repeat("\xF0\x9F\x98\x80", 8));      // eight 4-byte emoji
    }

    void testRefuseMoreThan32Bytes()
    {
        assertRefused(std::string(33, 'a'));
        assertRefused(repeat("天", 11));                     // 33 bytes, only 11 characters
        assertRefused(std::string(30, 'a') + "天");          // the last character straddles byte 32
        assertRefused(std::string(31, 'a') + "\xF0\x9F\x98\x80");
        assertRefused(std::string(1000, 'a'));
    }

    void testRefuseEmptyName()
    {
        assertRefused("");
    }

    void testRefuseSeparators()
    {
        for (const std::string name : {",", ";", ":", "a,b", "a;b", "a:b", ",alice", "alice;", "天:涯"})
            assertRefused(name);
    }

    void testRefuseAsciiWhitespace()
    {
        for (const std::string name : {" ", " alice", "alice ", "a b", "a\tb", "a\nb", "a\rb", "a\vb", "a\fb"})
            assertRefused(name);
    }

    void testRefuseUnicodeWhitespace()
    {
        const char* spaces[] = {
            "\xE3\x80\x80", // U+3000 ideographic space
            "\xC2\xA0",     // U+00A0 no-break space
            "\xE2\x80\x83", // U+2003 em space
            "\xC2\x85",     // U+0085 next line
            "\xE1\x9A\x80", // U+1680 ogham space mark
            "\xE2\x80\x80", // U+2000
            "\xE2\x80\x8A", // U+200A
            "\xE2\x80\xA8", // U+2028 line separator
            "\xE2\x80\xA9", // U+2029 paragraph separator
            "\xE2\x80\xAF", // U+202F narrow no-break space
            "\xE2\x81\x9F", // U+205F medium mathematical space
        };
        for (const char* space : spaces) {
            assertRefused(space);
            assertRefused(std::string("天") + space + "涯");
            assertRefused(std::string("alice") + space);
        }
    }

    void testRefuseControlCharacters()
    {
        assertRefused(std::string("a\0b", 3));
        assertRefused(std::string(1, '\0'));
        for (const std::string name : {"a\x01", "\x1b[31mred", "a\x1f", "a\x7f", "a\xC2\x80", "a\xC2\x9B", "a\xC2\x9F"})
            assertRefused(name);
        assertAccepted("a\xC2\xA1"); // U+00A1, just past C1 and NBSP
    }

    void testRefuseInvalidUtf8()
    {
        for (const std::string name : {"\xFF", "a\x80", "\xC0\xAF", "\xE5\xA4", "\xED\xA0\x80", "\xF4\x90\x80\x80"})
            assertRefused(name);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UserNameTest);
