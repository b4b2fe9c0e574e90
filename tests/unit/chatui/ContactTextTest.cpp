#include "ContactText.h"

#include <cppunit/extensions/HelperMacros.h>

using peerchat::chatui::ContactRequests;
using peerchat::chatui::ContactText;
using peerchat::chatui::RosterModel;
namespace local = peerchat::local;
using local::ContactChange;
using local::Relation;

namespace {

RosterModel::Entry entry(RosterModel::Section section, Relation relation, const std::string& note = "")
{
    RosterModel::Entry result;
    result.name = "bob";
    result.section = section;
    result.relation = relation;
    result.note = note;
    return result;
}

ContactRequests::Answer answer(ContactChange change, Relation before, Relation now, bool blocked = false)
{
    return ContactRequests::Answer{local::ContactRequest{change, "bob", ""}, before,
                                   local::ContactInfo{"bob", now, blocked, "", 0}};
}

} // namespace

class ContactTextTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ContactTextTest);
    CPPUNIT_TEST(testEverySectionHasATitle);
    CPPUNIT_TEST(testDetailShowsNoteOrWhatTheUserIs);
    CPPUNIT_TEST(testHintsNameHowToAnswer);
    CPPUNIT_TEST(testDoneConfirmsEachCommand);
    CPPUNIT_TEST(testNameNeededSaysWhatToType);
    CPPUNIT_TEST_SUITE_END();

public:
    void testEverySectionHasATitle()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Contacts online"), ContactText::sectionTitle(RosterModel::Section::ContactsOnline));
        CPPUNIT_ASSERT_EQUAL(std::string("Contacts offline"), ContactText::sectionTitle(RosterModel::Section::ContactsOffline));
        CPPUNIT_ASSERT_EQUAL(std::string("Requests"), ContactText::sectionTitle(RosterModel::Section::Requests));
        CPPUNIT_ASSERT_EQUAL(std::string("Asked by you"), ContactText::sectionTitle(RosterModel::Section::Asked));
        CPPUNIT_ASSERT_EQUAL(std::string("Blocked"), ContactText::sectionTitle(RosterModel::Section::Blocked));
    }

    void testDetailShowsNoteOrWhatTheUserIs()
    {
        using Section = RosterModel::Section;
        CPPUNIT_ASSERT_EQUAL(std::string(""), ContactText::detail(entry(Section::ContactsOnline, Relation::Contact)));
        RosterModel::Entry away = entry(Section::ContactsOnline, Relation::Contact);
        away.state = local::PresenceState::Away;
        away.status = "back at 3";
        CPPUNIT_ASSERT_EQUAL(std::string("(away) back at 3"), ContactText::detail(away));
        // Offline, a contact shows nothing of what it showed last.
        away.section = Section::ContactsOffline;
        CPPUNIT_ASSERT_EQUAL(std::string(""), ContactText::detail(away));
        CPPUNIT_ASSERT_EQUAL(std::string("\"hi alice, it's bob\""),
                             ContactText::detail(entry(Section::Requests, Relation::AskedMe, "hi alice, it's bob")));
        CPPUNIT_ASSERT_EQUAL(std::string("asks to be your contact"),
                             ContactText::detail(entry(Section::Requests, Relation::AskedMe)));
        CPPUNIT_ASSERT_EQUAL(std::string("wrote to you; not a contact"),
                             ContactText::detail(entry(Section::Requests, Relation::None)));
        CPPUNIT_ASSERT_EQUAL(std::string("waiting for an answer"),
                             ContactText::detail(entry(Section::Asked, Relation::Asked, "our note")));
        CPPUNIT_ASSERT_EQUAL(std::string("a contact"), ContactText::detail(entry(Section::Blocked, Relation::Contact)));
        CPPUNIT_ASSERT_EQUAL(std::string(""), ContactText::detail(entry(Section::Blocked, Relation::None)));
    }

    void testHintsNameHowToAnswer()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("/accept bob or /decline bob"), ContactText::answerHint("bob"));
        const std::string bar = ContactText::requestBar(local::ContactInfo{"bob", Relation::AskedMe, false, "hi alice", 0});
        CPPUNIT_ASSERT_MESSAGE(bar, bar.find("bob asks to be your contact: \"hi alice\"") == 0);
        CPPUNIT_ASSERT_MESSAGE(bar, bar.find("Answer with /accept or /decline.") != std::string::npos);
        const std::string bare = ContactText::requestBar(local::ContactInfo{"bob", Relation::AskedMe, false, "", 0});
        CPPUNIT_ASSERT_MESSAGE(bare, bare.find("bob asks to be your contact. ") == 0);
    }

    void testDoneConfirmsEachCommand()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("asked bob to be a contact"),
                             ContactText::done(answer(ContactChange::Add, Relation::None, Relation::Asked)));
        CPPUNIT_ASSERT_EQUAL(std::string("bob had asked you: you are contacts now"),
                             ContactText::done(answer(ContactChange::Add, Relation::AskedMe, Relation::Contact)));
        CPPUNIT_ASSERT_EQUAL(std::string("bob is a contact now"),
                             ContactText::done(answer(ContactChange::Accept, Relation::AskedMe, Relation::Contact)));
        CPPUNIT_ASSERT_EQUAL(std::string("declined bob's request"),
                             ContactText::done(answer(ContactChange::Decline, Relation::AskedMe, Relation::None)));
        CPPUNIT_ASSERT_EQUAL(std::string("bob is no longer a contact"),
                             ContactText::done(answer(ContactChange::Remove, Relation::Contact, Relation::None)));
        CPPUNIT_ASSERT_EQUAL(std::string("took back your request to bob"),
                             ContactText::done(answer(ContactChange::Remove, Relation::Asked, Relation::None)));
        const std::string blocked = ContactText::done(answer(ContactChange::Block, Relation::AskedMe, Relation::None, true));
        CPPUNIT_ASSERT_MESSAGE(blocked, blocked.find("blocked bob") == 0);
        CPPUNIT_ASSERT_MESSAGE(blocked, blocked.find("/unblock bob") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("unblocked bob"),
                             ContactText::done(answer(ContactChange::Unblock, Relation::None, Relation::None)));
    }

    void testNameNeededSaysWhatToType()
    {
        const std::string text = ContactText::nameNeeded(ContactChange::Block);
        CPPUNIT_ASSERT_MESSAGE(text, text.find("/block NAME: say whom, as in /block bob") == 0);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ContactTextTest);
