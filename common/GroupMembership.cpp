#include "GroupMembership.h"

#include "Base64.h"
#include "ConversationId.h"
#include "SigningKey.h"
#include "UserName.h"
#include "Utf8.h"

#include <sodium.h>

#include <algorithm>
#include <map>

namespace peerchat {

namespace {

constexpr std::string_view kStatementPrefix = "peerchat/3 group\n";

// The fields of text split at every separator.
std::vector<std::string_view> split(std::string_view text, char separator)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t at = text.find(separator); at != std::string_view::npos; at = text.find(separator, start)) {
        parts.push_back(text.substr(start, at - start));
        start = at + 1;
    }
    parts.push_back(text.substr(start));
    return parts;
}

std::optional<std::uint64_t> parseVersion(std::string_view text)
{
    if (text.empty() || text.size() > 19 || text.front() == '0') return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

bool isAdmin(GroupRole role)
{
    return role == GroupRole::Owner || role == GroupRole::Admin;
}

// Every member of a list by name.
std::map<std::string, const GroupMember*> byName(const std::vector<GroupMember>& members)
{
    std::map<std::string, const GroupMember*> names;
    for (const GroupMember& member : members) names.emplace(member.name, &member);
    return names;
}

// What next changed of before's entries: names added, names removed, and names whose role changed.
struct Diff
{
    std::vector<const GroupMember*> added;
    std::vector<const GroupMember*> removed;
    std::vector<std::pair<const GroupMember*, const GroupMember*>> changed;  ///< before, after
    bool keyChanged = false;
};

Diff diff(const std::vector<GroupMember>& before, const std::vector<GroupMember>& after)
{
    Diff result;
    const auto old = byName(before);
    const auto now = byName(after);
    for (const auto& [name, member] : now) {
        const auto was = old.find(name);
        if (was == old.end()) {
            result.added.push_back(member);
        } else if (was->second->identity != member->identity) {
            result.keyChanged = true;
        } else if (was->second->role != member->role) {
            result.changed.emplace_back(was->second, member);
        }
    }
    for (const auto& [name, member] : old) {
        if (now.count(name) == 0) result.removed.push_back(member);
    }
    return result;
}

// Why signer (its entry before) may not make change, or empty when it may.
std::string changeRefusal(const GroupMember& signer, const Diff& change, bool retitled)
{
    if (change.keyChanged) return "a member's key changed (remove the member and invite it again)";
    const bool leaves = change.removed.size() == 1 && change.removed.front()->name == signer.name;
    if (signer.role == GroupRole::Invited) {
        // An invitee joins (its own entry becomes a member) or declines (its entry goes), and does nothing else.
        const bool joins = change.removed.empty() && change.changed.size() == 1 &&
                           change.changed.front().first->name == signer.name &&
                           change.changed.front().second->role == GroupRole::Member;
        if (retitled || !change.added.empty() || !(joins || (leaves && change.changed.empty())))
            return signer.name + " is invited and may only join or decline";
        return {};
    }
    if (leaves && change.added.empty() && !retitled) {
        if (signer.role != GroupRole::Owner) {
            if (change.changed.empty()) return {};
        } else if (change.changed.size() == 1 && change.changed.front().second->role == GroupRole::Owner &&
                   change.changed.front().first->role != GroupRole::Invited) {
            // The owner leaves by handing the group to another member in the same step.
            return {};
        }
        return signer.name + " may leave, but change nothing else in the same step";
    }
    if (!isAdmin(signer.role)) return signer.name + " is a member, not an admin";
    for (const GroupMember* member : change.added) {
        if (member->role != GroupRole::Invited) return member->name + " must be invited before it is a member";
    }
    for (const GroupMember* member : change.removed) {
        if (member->role == GroupRole::Owner) return "nobody removes the owner";
        if (member->role == GroupRole::Admin && signer.role != GroupRole::Owner)
            return "only the owner removes an admin";
    }
    for (const auto& [before, after] : change.changed) {
        const bool adminChange = (before->role == GroupRole::Member && after->role == GroupRole::Admin) ||
                                 (before->role == GroupRole::Admin && after->role == GroupRole::Member);
        if (!adminChange) return "the role of " + after->name + " cannot change that way";
        if (signer.role != GroupRole::Owner) return "only the owner names and demotes admins";
    }
    return {};
}

} // namespace

std::string_view groupRoleToken(GroupRole role)
{
    switch (role) {
    case GroupRole::Owner: return "owner";
    case GroupRole::Admin: return "admin";
    case GroupRole::Member: return "member";
    case GroupRole::Invited: return "invited";
    }
    return "member";
}

std::optional<GroupRole> groupRoleFromToken(std::string_view token)
{
    for (const GroupRole role : {GroupRole::Owner, GroupRole::Admin, GroupRole::Member, GroupRole::Invited}) {
        if (groupRoleToken(role) == token) return role;
    }
    return std::nullopt;
}

const GroupMember* GroupMembership::find(const std::string& name) const
{
    const auto it = std::find_if(members.begin(), members.end(),
                                 [&](const GroupMember& member) { return member.name == name; });
    return it == members.end() ? nullptr : &*it;
}

std::string GroupMembership::checkTitle(std::string_view title)
{
    if (title.empty()) return "a group's name may not be empty";
    if (title.size() > kMaxTitleBytes)
        return "a group's name is at most " + std::to_string(kMaxTitleBytes) + " bytes";
    if (!Utf8::isValid(title)) return "a group's name must be UTF-8";
    if (Utf8::any(title, Utf8::isControl)) return "a group's name may not hold control characters";
    return {};
}

GroupMembership GroupMembership::create(const std::string& id, const std::string& title, const std::string& owner,
                                        const SigningKey& ownerKey)
{
    GroupMembership first;
    first.id = id;
    first.title = title;
    first.signer = owner;
    first.members.push_back(GroupMember{owner, ownerKey.publicKey(), GroupRole::Owner});
    first.sign(ownerKey);
    return first;
}

std::string GroupMembership::newId()
{
    Sodium::init();
    std::array<std::uint8_t, ConversationId::kGroupIdDigits / 2> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::string id(ConversationId::kGroupIdDigits + 1, '\0');
    sodium_bin2hex(id.data(), id.size(), bytes.data(), bytes.size());
    id.pop_back();
    return id;
}

GroupMembership GroupMembership::next(const std::string& by) const
{
    GroupMembership following = *this;
    following.version = version + 1;
    following.signer = by;
    following.previous = hash();
    following.sig = {};
    return following;
}

void GroupMembership::sign(const SigningKey& key)
{
    std::sort(members.begin(), members.end(),
              [](const GroupMember& a, const GroupMember& b) { return a.name < b.name; });
    sig = key.sign(signedBytes());
}

std::string GroupMembership::signedBytes() const
{
    std::string text(kStatementPrefix);
    const std::string all = encode();
    text.append(all, 0, all.rfind(','));
    return text;
}

Hash GroupMembership::hash() const
{
    const std::string all = encode();
    Hash digest{};
    crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(all.data()), all.size(),
                       nullptr, 0);
    return digest;
}

std::string GroupMembership::encode() const
{
    std::string text = "group," + id + "," + std::to_string(version) + "," + Base64::encode(title) + "," + signer + ",";
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) text += ';';
        text += members[i].name + ":" + std::string(groupRoleToken(members[i].role)) + ":";
        Base64::append(text, members[i].identity);
    }
    text += ",";
    if (previous) {
        Base64::append(text, *previous);
    } else {
        text += "-";
    }
    text += ",";
    Base64::append(text, sig);
    return text;
}

Parsed<GroupMembership> GroupMembership::decode(std::string_view text)
{
    using Refusal = Parsed<GroupMembership>;
    const std::vector<std::string_view> fields = split(text, ',');
    if (fields.size() != 8 || fields[0] != "group")
        return Refusal::refuse("expected group,ID,VERSION,TITLE,SIGNER,MEMBERS,PREV,SIG");
    GroupMembership list;
    if (!ConversationId::isGroupId(fields[1])) return Refusal::refuse("the group id is not 32 of 0-9 a-f");
    list.id = std::string(fields[1]);
    const auto version = parseVersion(fields[2]);
    if (!version) return Refusal::refuse("the version is not a number from 1");
    list.version = *version;
    const auto title = Base64::decode(fields[3]);
    if (!title) return Refusal::refuse("the title is not base64url");
    if (const std::string why = checkTitle(*title); !why.empty()) return Refusal::refuse(why);
    list.title = *title;
    if (!UserName::isValid(fields[4])) return Refusal::refuse("the signer is not a user name");
    list.signer = std::string(fields[4]);
    const std::vector<std::string_view> entries = split(fields[5], ';');
    if (entries.size() > kMaxMembers)
        return Refusal::refuse("more than " + std::to_string(kMaxMembers) + " members");
    std::size_t owners = 0;
    for (const std::string_view entry : entries) {
        const std::vector<std::string_view> parts = split(entry, ':');
        GroupMember member;
        if (parts.size() != 3 || !UserName::isValid(parts[0])) return Refusal::refuse("a member entry is damaged");
        member.name = std::string(parts[0]);
        const auto role = groupRoleFromToken(parts[1]);
        if (!role) return Refusal::refuse("the role of " + member.name + " is unknown");
        member.role = *role;
        if (!Base64::decodeInto(parts[2], member.identity))
            return Refusal::refuse("the key of " + member.name + " is damaged");
        if (!list.members.empty() && !(list.members.back().name < member.name))
            return Refusal::refuse("the members are not sorted by name, once each");
        if (member.role == GroupRole::Owner) ++owners;
        list.members.push_back(std::move(member));
    }
    if (owners != 1) return Refusal::refuse("a group has exactly one owner");
    if (fields[6] == "-") {
        if (list.version != 1) return Refusal::refuse("only version 1 has no previous version");
    } else {
        Hash previous{};
        if (list.version == 1 || !Base64::decodeInto(fields[6], previous))
            return Refusal::refuse("the previous version's hash is damaged");
        list.previous = previous;
    }
    if (!Base64::decodeInto(fields[7], list.sig)) return Refusal::refuse("the signature is damaged");
    return list;
}

bool GroupMembership::verifySignature(const PublicKey& signerKey) const
{
    return SigningKey::verify(signerKey, signedBytes(), sig);
}

std::string GroupMembership::successorRefusal(const GroupMembership& following) const
{
    if (following.id != id) return "it is another group's list";
    if (following.version != version + 1)
        return "it is version " + std::to_string(following.version) + ", not " + std::to_string(version + 1);
    if (following.previous != hash()) return "it does not follow version " + std::to_string(version) + " held";
    const GroupMember* signer = find(following.signer);
    if (signer == nullptr) return following.signer + " is not in the group";
    if (!following.verifySignature(signer->identity)) return "its signature is not " + following.signer + "'s";
    return changeRefusal(*signer, diff(members, following.members), following.title != title);
}

} // namespace peerchat
