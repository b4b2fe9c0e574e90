#include "Contacts.h"
#include "PeerStore.h"

#include "TempDir.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace peerchat;
using peerchat::test::TempDir;

namespace {

// The letter an outcome carries; fails the test when there is none.
ContactLetter letterOf(const Contacts::Outcome& outcome)
{
    CPPUNIT_ASSERT_MESSAGE("no letter: " + outcome.error, outcome.letter.has_value());
    return *outcome.letter;
}

Relation relationOf(const Contacts& contacts, const std::string& name)
{
    const ContactRecord* record = contacts.find(name);
    return record ? record->relation : Relation::None;
}

} // namespace

class ContactsTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(ContactsTest);
    CPPUNIT_TEST(testRequestAndAcceptMakeContactsOnBothSides);
    CPPUNIT_TEST(testDeclineLeavesBothWithoutContact);
    CPPUNIT_TEST(testAddOfSomeoneWhoAskedAccepts);
    CPPUNIT_TEST(testCrossingRequestsMakeContacts);
    CPPUNIT_TEST(testRemoveEndsTheContactOnBothSides);
    CPPUNIT_TEST(testAcceptWithoutRequestIsRefused);
    CPPUNIT_TEST(testStrangerCannotAcceptItsWayIn);
    CPPUNIT_TEST(testBlockDropsRequestAndLettersAndTellsNobody);
    CPPUNIT_TEST(testOlderLetterChangesNothing);
    CPPUNIT_TEST(testLettersAreNumberedInOneStream);
    CPPUNIT_TEST(testWaitingLetterGoesUntilStored);
    CPPUNIT_TEST(testContactsOutliveARestart);
    CPPUNIT_TEST(testStrangersLinesHeldOrRefused);
    CPPUNIT_TEST(testNoteLongerThanAllowedIsRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    void testRequestAndAcceptMakeContactsOnBothSides()
    {
        PeerStore aliceStore(100), bobStore(100);
        Contacts alice(aliceStore.contacts, aliceStore.settings, "alice"), bob(bobStore.contacts, bobStore.settings, "bob");
        const ContactLetter request = letterOf(alice.add("bob", "hi, it's alice", 1));
        CPPUNIT_ASSERT(request.kind == ContactKind::Request && request.note == "hi, it's alice" && request.to == "bob");
        CPPUNIT_ASSERT(relationOf(alice, "bob") == Relation::Asked);
        const Contacts::Outcome asked = bob.receive(request, 2);
        CPPUNIT_ASSERT(asked.changed && !asked.letter);
        CPPUNIT_ASSERT(relationOf(bob, "alice") == Relation::AskedMe);
        CPPUNIT_ASSERT_EQUAL(std::string("hi, it's alice"), bob.find("alice")->note);
        const ContactLetter accept = letterOf(bob.accept("alice", 3));
        CPPUNIT_ASSERT(accept.kind == ContactKind::Accept && accept.from == "bob" && accept.to == "alice");
        CPPUNIT_ASSERT(bob.isContact("alice"));
        CPPUNIT_ASSERT(alice.receive(accept, 4).changed);
        CPPUNIT_ASSERT(alice.isContact("bob"));
    }

    void testDeclineLeavesBothWithoutContact()
    {
        PeerStore aliceStore(100), bobStore(100);
        Contacts alice(aliceStore.contacts, aliceStore.settings, "alice"), bob(bobStore.contacts, bobStore.settings, "bob");
        bob.receive(letterOf(alice.add("bob", "", 1)), 2);
        const ContactLetter decline = letterOf(bob.decline("alice", 3));
        CPPUNIT_ASSERT(decline.kind == ContactKind::Decline);
        CPPUNIT_ASSERT(relationOf(bob, "alice") == Relation::None);
        CPPUNIT_ASSERT(alice.receive(decline, 4).changed);
        CPPUNIT_ASSERT(relationOf(alice, "bob") == Relation::None);
        // Asking again after a decline is allowed.
        CPPUNIT_ASSERT(alice.add("bob", "please", 5).error.empty());
    }

    void testAddOfSomeoneWhoAskedAccepts()
    {
        PeerStore aliceStore(100), bobStore(100);
        Contacts alice(aliceStore.contacts, aliceStore.settings, "alice"), bob(bobStore.contacts, bobStore.settings, "bob");
        bob.receive(letterOf(alice.add("bob", "", 1)), 2);
        CPPUNIT_ASSERT(letterOf(bob.add("alice", "ignored", 3)).kind == ContactKind::Accept);
        CPPUNIT_ASSERT(bob.isContact("alice"));
    }

    void testCrossingRequestsMakeContacts()
    {
        PeerStore aliceStore(100), bobStore(100);
        Contacts alice(aliceStore.contacts, aliceStore.settings, "alice"), bob(bobStore.contacts, bobStore.settings, "bob");
        const ContactLetter fromAlice = letterOf(alice.add("bob", "", 1));
        const ContactLetter fromBob = letterOf(bob.add("alice", "", 1));
        const Contacts::Outcome atBob = bob.receive(fromAlice, 2);
        CPPUNIT_ASSERT(bob.isContact("alice"));
        CPPUNIT_ASSERT(letterOf(atBob).kind == ContactKind::Accept);
        alice.receive(fromBob, 2);
        CPPUNIT_ASSERT(alice.isContact("bob"));
    }

    void testRemoveEndsTheContactOnBothSides()
    {
        PeerStore aliceStore(100), bobStore(100);
        Contacts alice(aliceStore.contacts, aliceStore.settings, "alice"), bob(bobStore.contacts, bobStore.settings, "bob");
        bob.receive(letterOf(alice.add("bob", "", 1)), 2);
        alice.receive(letterOf(bob.accept("alice", 3)), 4);
        const ContactLetter remove = letterOf(alice.remove("bob", 5));
        CPPUNIT_ASSERT(remove.kind == ContactKind::Remove && !alice.isContact("bob"));
        CPPUNIT_ASSERT(bob.receive(remove, 6).changed);
        CPPUNIT_ASSERT(!bob.isContact("alice"));
        CPPUNIT_ASSERT(!alice.remove("bob", 7).error.empty());
    }

    void testAcceptWithoutRequestIsRefused()
    {
        PeerStore store(100);
        Contacts alice(store.contacts, store.settings, "alice");
        const Contacts::Outcome accept = alice.accept("bob", 1);
        CPPUNIT_ASSERT_EQUAL(std::string("bob has not asked to be your contact"), accept.error);
        CPPUNIT_ASSERT(!accept.letter && alice.find("bob") == nullptr);
        CPPUNIT_ASSERT(!alice.decline("bob", 1).error.empty());
        CPPUNIT_ASSERT(!alice.add("alice", "", 1).error.empty());
    }

    void testStrangerCannotAcceptItsWayIn()
    {
        PeerStore store(100);
        Contacts alice(store.contacts, store.settings, "alice");
        // mallory never was asked: an accept makes nothing.
        const Contacts::Outcome outcome = alice.receive(ContactLetter{"ff", 1, "mallory", "alice", ContactKind::Accept, ""}, 1);
        CPPUNIT_ASSERT(!outcome.changed && !outcome.letter);
        CPPUNIT_ASSERT(!alice.isContact("mallory"));
    }

    void testBlockDropsRequestAndLettersAndTellsNobody()
    {
        PeerStore store(100);
        Contacts alice(store.contacts, store.settings, "alice");
        alice.receive(ContactLetter{"ff", 1, "mallory", "alice", ContactKind::Request, "hello"}, 1);
        CPPUNIT_ASSERT(relationOf(alice, "mallory") == Relation::AskedMe);
        const Contacts::Outcome block = alice.block("mallory", 2);
        CPPUNIT_ASSERT(block.error.empty() && block.changed && !block.letter);
        CPPUNIT_ASSERT(relationOf(alice, "mallory") == Relation::None && alice.isBlocked("mallory"));
        const Contacts::Outcome again = alice.receive(ContactLetter{"ff", 2, "mallory", "alice", ContactKind::Request, "hi"}, 3);
        CPPUNIT_ASSERT(!again.changed && !again.letter);
        CPPUNIT_ASSERT(relationOf(alice, "mallory") == Relation::None);
        CPPUNIT_ASSERT(!alice.takesLinesFrom("mallory"));
        CPPUNIT_ASSERT(!alice.add("mallory", "", 4).error.empty());
        CPPUNIT_ASSERT(alice.unblock("mallory", 5).error.empty());
        CPPUNIT_ASSERT(alice.takesLinesFrom("mallory"));
        CPPUNIT_ASSERT(!alice.unblock("mallory", 6).error.empty());
    }

    void testOlderLetterChangesNothing()
    {
        PeerStore store(100);
        Contacts alice(store.contacts, store.settings, "alice");
        alice.receive(ContactLetter{"ff", 5, "bob", "alice", ContactKind::Request, "new"}, 1);
        const Contacts::Outcome old = alice.receive(ContactLetter{"ff", 4, "bob", "alice", ContactKind::Remove, ""}, 2);
        CPPUNIT_ASSERT(!old.changed);
        CPPUNIT_ASSERT(relationOf(alice, "bob") == Relation::AskedMe);
        // A new stream (bob's peerd started over) counts again from 1.
        alice.receive(ContactLetter{"ee", 1, "bob", "alice", ContactKind::Remove, ""}, 3);
        CPPUNIT_ASSERT(relationOf(alice, "bob") == Relation::None);
    }

    void testLettersAreNumberedInOneStream()
    {
        PeerStore store(100);
        Contacts alice(store.contacts, store.settings, "alice");
        const ContactLetter first = letterOf(alice.add("bob", "", 1));
        const ContactLetter second = letterOf(alice.add("carol", "", 2));
        CPPUNIT_ASSERT(isStreamId(first.stream) && first.stream == second.stream && first.stream == alice.stream());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), first.seq);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), second.seq);
    }

    void testWaitingLetterGoesUntilStored()
    {
        PeerStore store(100);
        Contacts alice(store.contacts, store.settings, "alice");
        const ContactLetter request = letterOf(alice.add("bob", "hi", 1));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), alice.waitingLetters().size());
        CPPUNIT_ASSERT_EQUAL(std::string("hi"), alice.waitingLetters().front().note);
        CPPUNIT_ASSERT(!alice.stored("bob", request.seq + 1));
        CPPUNIT_ASSERT(alice.stored("bob", request.seq));
        CPPUNIT_ASSERT(alice.waitingLetters().empty());
    }

    void testContactsOutliveARestart()
    {
        TempDir dir;
        const std::string path = dir.file("alice.db");
        std::string stream;
        {
            PeerStore store(path, 100);
            Contacts alice(store.contacts, store.settings, "alice");
            stream = letterOf(alice.add("bob", "hi", 1)).stream;
            alice.block("mallory", 2);
        }
        PeerStore store(path, 100);
        Contacts alice(store.contacts, store.settings, "alice");
        CPPUNIT_ASSERT(relationOf(alice, "bob") == Relation::Asked && alice.isBlocked("mallory"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), alice.waitingLetters().size());
        const ContactLetter next = letterOf(alice.add("carol", "", 3));
        CPPUNIT_ASSERT_EQUAL(stream, next.stream);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), next.seq);
    }

    void testStrangersLinesHeldOrRefused()
    {
        PeerStore holdStore(100), refuseStore(100);
        Contacts hold(holdStore.contacts, holdStore.settings, "alice"), refuse(refuseStore.contacts, refuseStore.settings, "alice", Contacts::Strangers::Refuse);
        CPPUNIT_ASSERT(hold.takesLinesFrom("stranger"));
        CPPUNIT_ASSERT(!refuse.takesLinesFrom("stranger"));
        refuse.receive(ContactLetter{"ff", 1, "bob", "alice", ContactKind::Request, ""}, 1);
        CPPUNIT_ASSERT(!refuse.takesLinesFrom("bob"));
        refuse.accept("bob", 2);
        CPPUNIT_ASSERT(refuse.takesLinesFrom("bob"));
        // Held as a request: only a stranger's lines, only while strangers are held.
        CPPUNIT_ASSERT(hold.holdsLinesOf("stranger") && !refuse.holdsLinesOf("stranger"));
        hold.receive(ContactLetter{"ff", 1, "carol", "alice", ContactKind::Request, ""}, 1);
        hold.block("mallory", 1);
        CPPUNIT_ASSERT(!hold.holdsLinesOf("carol") && !hold.holdsLinesOf("mallory"));
    }

    void testNoteLongerThanAllowedIsRefused()
    {
        PeerStore store(100);
        Contacts alice(store.contacts, store.settings, "alice");
        CPPUNIT_ASSERT(!alice.add("bob", std::string(Protocol::kMaxNoteBytes + 1, 'x'), 1).error.empty());
        CPPUNIT_ASSERT(alice.find("bob") == nullptr);
        CPPUNIT_ASSERT(alice.add("bob", std::string(Protocol::kMaxNoteBytes, 'x'), 1).error.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ContactsTest);
