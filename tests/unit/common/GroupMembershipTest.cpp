#include "GroupMembership.h"

#include "Base64.h"
#include "ConversationId.h"
#include "SigningKey.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using peerchat::Base64;
using peerchat::ConversationId;
using peerchat::GroupMember;
using peerchat::GroupMembership;
using peerchat::GroupRole;
using peerchat::SigningKey;

namespace {

const std::string kId = "00112233445566778899aabbccddeeff";

// Replaces field index of an encoded list (fields split at ',').
std::string withField(const std::string& encoded, std::size_t index, const std::string& value)
{
    std::size_t start = 0;
    for (std::size_t i = 0; i < index; ++i) start = encoded.find(',', start) + 1;
    const std::size_t end = encoded.find(',', start);
    return encoded.substr(0, start) + value + (end == std::string::npos ? "" : encoded.substr(end));
}

} // namespace

class GroupMembershipTest : public CppUnit::TestFixture
{
    CPPUNIT_TEST_SUITE(GroupMembershipTest);
    CPPUNIT_TEST(testCreatedListIsSignedByItsOwnerAndRoundTrips);
    CPPUNIT_TEST(testNewIdsAreGroupIds);
    CPPUNIT_TEST(testDecodeRefusesWhatEncodeCannotWrite);
    CPPUNIT_TEST(testTitleRules);
    CPPUNIT_TEST(testAdminInvitesInviteeJoinsOwnerNamesAdmins);
    CPPUNIT_TEST(testMembersLeaveAndTheOwnerHandsOver);
    CPPUNIT_TEST(testForgedAndOutOfOrderVersionsAreRefused);
    CPPUNIT_TEST(testChangesBeyondARoleAreRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        _alice = std::make_unique<SigningKey>(SigningKey::generate());
        _bob = std::make_unique<SigningKey>(SigningKey::generate());
        _carol = std::make_unique<SigningKey>(SigningKey::generate());
        _mallory = std::make_unique<SigningKey>(SigningKey::generate());
    }

    void testCreatedListIsSignedByItsOwnerAndRoundTrips()
    {
        const GroupMembership first = GroupMembership::create(kId, "天涯, friends", "alice", *_alice);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), first.version);
        CPPUNIT_ASSERT(first.find("alice") != nullptr);
        CPPUNIT_ASSERT(first.find("alice")->role == GroupRole::Owner);
        CPPUNIT_ASSERT(first.verifySignature(_alice->publicKey()));
        CPPUNIT_ASSERT(!first.verifySignature(_mallory->publicKey()));
        const auto back = GroupMembership::decode(first.encode());
        CPPUNIT_ASSERT_MESSAGE(back ? "" : back.error(), back);
        CPPUNIT_ASSERT_EQUAL(first.encode(), back->encode());
        CPPUNIT_ASSERT_EQUAL(std::string("天涯, friends"), back->title);
        CPPUNIT_ASSERT(back->verifySignature(_alice->publicKey()));
        CPPUNIT_ASSERT(back->hash() == first.hash());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), back->signedBytes().find("peerchat/3 group\n"));
    }

    void testNewIdsAreGroupIds()
    {
        const std::string one = GroupMembership::newId();
        CPPUNIT_ASSERT(ConversationId::isGroupId(one));
        CPPUNIT_ASSERT(one != GroupMembership::newId());
    }

    void testDecodeRefusesWhatEncodeCannotWrite()
    {
        GroupMembership list = GroupMembership::create(kId, "team", "alice", *_alice);
        const std::string good = list.encode();
        const std::string key = Base64::encode(_bob->publicKey());
        const std::string prev = Base64::encode(list.hash());
        for (const std::string& bad :
             {std::string(), std::string("group"), good + ",x", withField(good, 0, "grp"), withField(good, 1, "0123"),
              withField(good, 1, "00112233445566778899AABBCCDDEEFF"), withField(good, 2, "0"),
              withField(good, 2, "01"), withField(good, 2, "x"), withField(good, 3, "!!"),
              withField(good, 3, Base64::encode("")), withField(good, 4, "a b"), withField(good, 5, ""),
              withField(good, 5, "alice:owner:" + Base64::encode(_alice->publicKey()) + ";bob:owner:" + key),
              withField(good, 5, "bob:member:" + key + ";alice:owner:" + Base64::encode(_alice->publicKey())),
              withField(good, 5, "alice:boss:" + Base64::encode(_alice->publicKey())),
              withField(good, 5, "alice:owner:xyz"), withField(good, 6, prev),
              withField(withField(good, 2, "2"), 6, "-"), withField(good, 7, "short")}) {
            CPPUNIT_ASSERT_MESSAGE("took " + bad, !GroupMembership::decode(bad));
        }
        std::string many = "alice:owner:" + Base64::encode(_alice->publicKey());
        for (int i = 0; i < 50; ++i) many += ";m" + std::to_string(100 + i) + ":invited:" + key;
        CPPUNIT_ASSERT(!GroupMembership::decode(withField(good, 5, many)));
    }

    void testTitleRules()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(), GroupMembership::checkTitle("天涯 team, 2026"));
        CPPUNIT_ASSERT_EQUAL(std::string(), GroupMembership::checkTitle(std::string(64, 't')));
        for (const std::string& bad : {std::string(), std::string(65, 't'), std::string("a\nb"),
                                       std::string("\xff"), std::string("a\x7f")}) {
            CPPUNIT_ASSERT_MESSAGE(bad, !GroupMembership::checkTitle(bad).empty());
        }
    }

    void testAdminInvitesInviteeJoinsOwnerNamesAdmins()
    {
        const GroupMembership v1 = GroupMembership::create(kId, "team", "alice", *_alice);
        GroupMembership v2 = v1.next("alice");
        v2.members.push_back(GroupMember{"bob", _bob->publicKey(), GroupRole::Invited});
        v2.sign(*_alice);
        CPPUNIT_ASSERT_EQUAL(std::string(), v1.successorRefusal(v2));

        GroupMembership v3 = v2.next("bob");
        setRole(v3, "bob", GroupRole::Member);
        v3.sign(*_bob);
        CPPUNIT_ASSERT_EQUAL(std::string(), v2.successorRefusal(v3));

        GroupMembership v4 = v3.next("alice");
        setRole(v4, "bob", GroupRole::Admin);
        v4.title = "the team";
        v4.sign(*_alice);
        CPPUNIT_ASSERT_EQUAL(std::string(), v3.successorRefusal(v4));

        // The admin invites; the list stays sorted by name whatever order entries were added in.
        GroupMembership v5 = v4.next("bob");
        v5.members.insert(v5.members.begin(), GroupMember{"carol", _carol->publicKey(), GroupRole::Invited});
        v5.sign(*_bob);
        CPPUNIT_ASSERT_EQUAL(std::string(), v4.successorRefusal(v5));
        CPPUNIT_ASSERT(GroupMembership::decode(v5.encode()));
    }

    void testMembersLeaveAndTheOwnerHandsOver()
    {
        const GroupMembership v3 = withBobAndCarol();
        // carol, invited, declines by leaving.
        GroupMembership declined = v3.next("carol");
        remove(declined, "carol");
        declined.sign(*_carol);
        CPPUNIT_ASSERT_EQUAL(std::string(), v3.successorRefusal(declined));
        // bob, a member, leaves.
        GroupMembership left = v3.next("bob");
        remove(left, "bob");
        left.sign(*_bob);
        CPPUNIT_ASSERT_EQUAL(std::string(), v3.successorRefusal(left));
        // The owner leaves only by handing the group to a member in the same step.
        GroupMembership alone = v3.next("alice");
        remove(alone, "alice");
        alone.sign(*_alice);
        CPPUNIT_ASSERT(!v3.isSuccessor(alone));
        GroupMembership handed = v3.next("alice");
        remove(handed, "alice");
        setRole(handed, "bob", GroupRole::Owner);
        handed.sign(*_alice);
        CPPUNIT_ASSERT_EQUAL(std::string(), v3.successorRefusal(handed));
        GroupMembership toInvitee = v3.next("alice");
        remove(toInvitee, "alice");
        setRole(toInvitee, "carol", GroupRole::Owner);
        toInvitee.sign(*_alice);
        CPPUNIT_ASSERT(!v3.isSuccessor(toInvitee));
    }

    void testForgedAndOutOfOrderVersionsAreRefused()
    {
        const GroupMembership v3 = withBobAndCarol();
        // Signed under alice's name with another key.
        GroupMembership forged = v3.next("alice");
        remove(forged, "bob");
        forged.sign(*_mallory);
        CPPUNIT_ASSERT(v3.successorRefusal(forged).find("signature") != std::string::npos);
        // Someone who is not in the group.
        GroupMembership outsider = v3.next("mallory");
        outsider.members.push_back(GroupMember{"mallory", _mallory->publicKey(), GroupRole::Invited});
        outsider.sign(*_mallory);
        CPPUNIT_ASSERT(!v3.isSuccessor(outsider));
        // A version skipped, and one that follows another version 3 (a fork).
        GroupMembership skipped = v3.next("alice");
        skipped.version = 5;
        skipped.sign(*_alice);
        CPPUNIT_ASSERT(!v3.isSuccessor(skipped));
        GroupMembership fork = v3.next("alice");
        fork.previous = peerchat::Hash{};
        fork.sign(*_alice);
        CPPUNIT_ASSERT(!v3.isSuccessor(fork));
        // Another group's list.
        GroupMembership other = v3.next("alice");
        other.id = GroupMembership::newId();
        other.sign(*_alice);
        CPPUNIT_ASSERT(!v3.isSuccessor(other));
        // Changed after signing.
        GroupMembership changed = v3.next("alice");
        changed.sign(*_alice);
        changed.title = "renamed";
        CPPUNIT_ASSERT(!v3.isSuccessor(changed));
    }

    void testChangesBeyondARoleAreRefused()
    {
        const GroupMembership v3 = withBobAndCarol();
        // A member invites, renames or removes.
        for (const auto& change : std::vector<std::function<void(GroupMembership&)>>{
                 [&](GroupMembership& v) { v.members.push_back({"dave", _mallory->publicKey(), GroupRole::Invited}); },
                 [&](GroupMembership& v) { v.title = "bob's now"; },
                 [&](GroupMembership& v) { remove(v, "carol"); },
                 [&](GroupMembership& v) { setRole(v, "bob", GroupRole::Admin); }}) {
            GroupMembership next = v3.next("bob");
            change(next);
            next.sign(*_bob);
            CPPUNIT_ASSERT(!v3.isSuccessor(next));
        }
        // The invitee does anything but join or decline; another joins it.
        GroupMembership both = v3.next("carol");
        setRole(both, "carol", GroupRole::Member);
        both.title = "carol's";
        both.sign(*_carol);
        CPPUNIT_ASSERT(!v3.isSuccessor(both));
        GroupMembership joinedByOwner = v3.next("alice");
        setRole(joinedByOwner, "carol", GroupRole::Member);
        joinedByOwner.sign(*_alice);
        CPPUNIT_ASSERT(!v3.isSuccessor(joinedByOwner));
        // An admin adds a member without an invitation, removes the owner or another admin.
        GroupMembership admins = v3.next("alice");
        setRole(admins, "bob", GroupRole::Admin);
        admins.members.push_back({"dave", _mallory->publicKey(), GroupRole::Invited});
        admins.sign(*_alice);
        CPPUNIT_ASSERT_EQUAL(std::string(), v3.successorRefusal(admins));
        GroupMembership direct = admins.next("bob");
        direct.members.push_back({"erin", _mallory->publicKey(), GroupRole::Member});
        direct.sign(*_bob);
        CPPUNIT_ASSERT(!admins.isSuccessor(direct));
        GroupMembership noOwner = admins.next("bob");
        remove(noOwner, "alice");
        setRole(noOwner, "bob", GroupRole::Owner);
        noOwner.sign(*_bob);
        CPPUNIT_ASSERT(!admins.isSuccessor(noOwner));
        // A member's key swapped under its name.
        GroupMembership swapped = v3.next("alice");
        for (GroupMember& member : swapped.members) {
            if (member.name == "bob") member.identity = _mallory->publicKey();
        }
        swapped.sign(*_alice);
        CPPUNIT_ASSERT(!v3.isSuccessor(swapped));
    }

private:
    static void setRole(GroupMembership& list, const std::string& name, GroupRole role)
    {
        for (GroupMember& member : list.members) {
            if (member.name == name) member.role = role;
        }
    }

    static void remove(GroupMembership& list, const std::string& name)
    {
        list.members.erase(std::remove_if(list.members.begin(), list.members.end(),
                                          [&](const GroupMember& member) { return member.name == name; }),
                           list.members.end());
    }

    // Version 3: alice owns, bob is a member, carol is invited.
    GroupMembership withBobAndCarol() const
    {
        const GroupMembership v1 = GroupMembership::create(kId, "team", "alice", *_alice);
        GroupMembership v2 = v1.next("alice");
        v2.members.push_back(GroupMember{"bob", _bob->publicKey(), GroupRole::Invited});
        v2.members.push_back(GroupMember{"carol", _carol->publicKey(), GroupRole::Invited});
        v2.sign(*_alice);
        GroupMembership v3 = v2.next("bob");
        setRole(v3, "bob", GroupRole::Member);
        v3.sign(*_bob);
        CPPUNIT_ASSERT_EQUAL(std::string(), v1.successorRefusal(v2));
        CPPUNIT_ASSERT_EQUAL(std::string(), v2.successorRefusal(v3));
        return v3;
    }

    std::unique_ptr<SigningKey> _alice;
    std::unique_ptr<SigningKey> _bob;
    std::unique_ptr<SigningKey> _carol;
    std::unique_ptr<SigningKey> _mallory;
};

CPPUNIT_TEST_SUITE_REGISTRATION(GroupMembershipTest);
