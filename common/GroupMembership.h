#pragma once

#include "CryptoTypes.h"
#include "Parsed.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

class SigningKey;

/// What a member may do in a group.
enum class GroupRole : std::uint8_t
{
    Owner,   ///< `owner`: made the group; an admin that nobody can remove or demote, and the only one who names admins
    Admin,   ///< `admin`: invites, removes members and invitees, renames
    Member,  ///< `member`: reads and writes
    Invited  ///< `invited`: asked to join; becomes a member by its own signed step
};

std::string_view groupRoleToken(GroupRole role);
std::optional<GroupRole> groupRoleFromToken(std::string_view token);

/// One entry of a group's member list: a user, by name and identity key.
struct GroupMember
{
    std::string name;
    PublicKey identity{};
    GroupRole role = GroupRole::Member;

    bool operator==(const GroupMember& other) const
    {
        return name == other.name && identity == other.identity && role == other.role;
    }
};

/// One version of a group's member list, signed by the member who made it:
///
///     group,ID,VERSION,TITLE,SIGNER,MEMBERS,PREV,SIG
///
/// ID is the group's id (ConversationId::isGroupId); VERSION counts from 1,
/// one more per change; TITLE the group's name (base64url of 1 to
/// kMaxTitleBytes of UTF-8 without control characters); SIGNER the name of
/// the member who made this version; MEMBERS the entries NAME:ROLE:IDPK
/// joined by `;`, sorted by name, one per name, at most kMaxMembers, exactly
/// one owner; PREV the hash of the version before (`-` for version 1);
/// SIG SIGNER's signature over SignedStatement-style bytes ("peerchat/3
/// group\n" and everything before SIG).
///
/// A version is taken only as the successor of the one a member holds
/// (isSuccessor): the next number, the hash of the one held, signed by a
/// member of the one held allowed to make that change. So a member can
/// check every change, and nobody who is not an admin can make one but for
/// its own: an invitee joins, a member leaves.
struct GroupMembership
{
    /// Most entries of a list (members and invitees).
    static constexpr std::size_t kMaxMembers = 50;
    /// Longest title, in bytes.
    static constexpr std::size_t kMaxTitleBytes = 64;

    std::string id;
    std::uint64_t version = 1;
    std::string title;
    std::string signer;
    std::vector<GroupMember> members;
    std::optional<Hash> previous{};
    Signature sig{};

    /// The entry for name, or null.
    const GroupMember* find(const std::string& name) const;

    /// Why title cannot be a group's title, or empty when it can.
    static std::string checkTitle(std::string_view title);

    /// Version 1 of a new group with id and title, owned by owner (its name and key), signed by it.
    static GroupMembership create(const std::string& id, const std::string& title, const std::string& owner,
                                  const SigningKey& ownerKey);
    /// A random group id (ConversationId::isGroupId).
    static std::string newId();

    /// The next version after this one, unsigned, made by signer: the same
    /// list, for the caller to change and then sign().
    GroupMembership next(const std::string& signer) const;
    /// Sorts the members and signs the list with key (the signer's).
    void sign(const SigningKey& key);

    /// The bytes the signature is made over.
    std::string signedBytes() const;
    /// BLAKE2b-256 of the whole encoding, signature included: the next version's PREV.
    Hash hash() const;

    std::string encode() const;
    /// Refuses what encode() cannot have written (and a list that breaks the
    /// rules above); does not check the signature (see verifySignature).
    static Parsed<GroupMembership> decode(std::string_view text);

    /// True when the signer is in the list with the key that made sig. For
    /// version 1 only the owner may sign; a later version is checked against
    /// the list before it (isSuccessor).
    bool verifySignature(const PublicKey& signerKey) const;
    /// Empty when next is a valid successor of this version, else why not.
    std::string successorRefusal(const GroupMembership& next) const;
    bool isSuccessor(const GroupMembership& next) const { return successorRefusal(next).empty(); }
};

} // namespace peerchat
