#include "IdentityText.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::chatui::IdentityText;
namespace local = peerchat::local;

namespace {

const std::string kMine = "3f2a 91c0 77de 0b12 c4e8 9a01 5d6f e2b3";
const std::string kPinned = "0000 1111 2222 3333 4444 5555 6666 7777";
const std::string kOffered = "8888 9999 aaaa bbbb cccc dddd eeee ffff";

std::string joined(const std::vector<std::string>& lines)
{
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

class IdentityTextTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(IdentityTextTest);
    CPPUNIT_TEST(testTagMarksChangedAndUnverifiedOnly);
    CPPUNIT_TEST(testWhoamiGivesNameAndFingerprint);
    CPPUNIT_TEST(testKeysOfPinnedPeerSayHowToCompare);
    CPPUNIT_TEST(testKeysOfChangedPeerShowBothAndHowToAccept);
    CPPUNIT_TEST(testKeysOfPinnedPeerNowWithoutKeySayHowToAccept);
    CPPUNIT_TEST(testKeysOfUnverifiedPeerSayThereIsNoKey);
    CPPUNIT_TEST(testKeysOfUnseenPeerSayNoneYet);
    CPPUNIT_TEST(testKeyChangedWarningNamesBothCommands);
    CPPUNIT_TEST(testRosterWarningCountsOthers);
    CPPUNIT_TEST_SUITE_END();

public:
    void testTagMarksChangedAndUnverifiedOnly()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(""), IdentityText::tag(local::Trust::Pinned));
        CPPUNIT_ASSERT_EQUAL(std::string("!key changed"), IdentityText::tag(local::Trust::Changed));
        CPPUNIT_ASSERT_EQUAL(std::string("?unverified"), IdentityText::tag(local::Trust::Unverified));
        const std::string help = joined(IdentityText::tagHelp());
        CPPUNIT_ASSERT(contains(help, "!key changed: "));
        CPPUNIT_ASSERT(contains(help, "?unverified: "));
    }

    void testWhoamiGivesNameAndFingerprint()
    {
        const std::string text = joined(IdentityText::whoami("\u5929\u6DAF", kMine));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "\u5929\u6DAF\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "your key:           " + kMine + "\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "/verify \u5929\u6DAF"));
        CPPUNIT_ASSERT_EQUAL("you are alice, key " + kMine, IdentityText::whoamiLine("alice", kMine));
        // Before peerd said it, the text says so rather than showing nothing.
        CPPUNIT_ASSERT(contains(joined(IdentityText::whoami("alice", "")), "not known yet"));
        CPPUNIT_ASSERT(contains(IdentityText::whoamiLine("alice", ""), "not said"));
    }

    void testKeysOfPinnedPeerSayHowToCompare()
    {
        const std::string text = joined(IdentityText::keys(local::KeysEvent{"bob", kMine, kPinned, "", local::Trust::Pinned}));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "your key:           " + kMine));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "bob's pinned key:   " + kPinned));
        CPPUNIT_ASSERT_MESSAGE(text, !contains(text, "now presents"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "/whoami"));
        CPPUNIT_ASSERT_MESSAGE(text, !contains(text, "/trust"));
    }

    void testKeysOfChangedPeerShowBothAndHowToAccept()
    {
        const std::string text = joined(IdentityText::keys(local::KeysEvent{"bob", kMine, kPinned, kOffered, local::Trust::Changed}));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "your key:           " + kMine));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "bob's pinned key:   " + kPinned));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "bob now presents:   " + kOffered));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "/whoami"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "/trust bob"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "do not trust it"));
    }

    void testKeysOfPinnedPeerNowWithoutKeySayHowToAccept()
    {
        const std::string text = joined(IdentityText::keys(local::KeysEvent{"bob", kMine, kPinned, "", local::Trust::Changed}));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "bob's pinned key:   " + kPinned));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "bob now presents:   no key"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "now comes without a key"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "/trust bob"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "in the clear"));
    }

    void testKeysOfUnverifiedPeerSayThereIsNoKey()
    {
        const std::string text = joined(IdentityText::keys(local::KeysEvent{"sam", kMine, "", "", local::Trust::Unverified}));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "sam's key:          none"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "marked ?"));
        CPPUNIT_ASSERT_MESSAGE(text, !contains(text, "/trust"));
    }

    void testKeysOfUnseenPeerSayNoneYet()
    {
        const std::string text = joined(IdentityText::keys(local::KeysEvent{"zed", kMine, "", "", local::Trust::Pinned}));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "zed's pinned key:   none yet"));
    }

    void testKeyChangedWarningNamesBothCommands()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("bob's key changed: lines are not sent until you compare fingerprints "
                                         "(/verify bob) and accept the new key (/trust bob)"),
                             IdentityText::keyChanged("bob"));
        CPPUNIT_ASSERT(contains(joined(IdentityText::trusted("bob")), "accepted"));
    }

    void testRosterWarningCountsOthers()
    {
        const std::string one = IdentityText::keysChanged({"bob"});
        CPPUNIT_ASSERT_EQUAL(std::string("bob's key changed: open the chat, then /verify bob and /trust bob"), one);
        const std::string three = IdentityText::keysChanged({"bob", "carol", "dave"});
        CPPUNIT_ASSERT_MESSAGE(three, contains(three, "bob's key changed (and 2 more)"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(IdentityTextTest);
