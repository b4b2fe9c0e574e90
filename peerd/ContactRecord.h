#pragma once

#include "Protocol.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// How this identity stands with another user. Asked: we asked them to be
/// contacts and wait for their answer; AskedMe: they asked us; Contact: both
/// agreed. None: neither, which is also where a decline or a removal leads.
enum class Relation : std::uint8_t { None, Asked, AskedMe, Contact };

/// Relation's token in peerd's database and on the local socket ("none",
/// "asked", "asked-me", "contact"), and back (nullopt for another token).
std::string_view relationToken(Relation relation);
std::optional<Relation> relationFromToken(std::string_view token);

/// What peerd keeps of one user it has (or had) to do with as a contact: one
/// row of the contact table (ContactStore), and the whole of what
/// Contacts knows of that user.
struct ContactRecord
{
    Relation relation = Relation::None;
    bool blocked = false;     ///< their requests and lines are dropped, and they are not told
    std::string note;         ///< the request's message: ours while Asked, theirs while AskedMe
    std::int64_t sinceMs = 0; ///< when the relation last changed, ms since the Unix epoch
    /// The newest letter taken from them: its stream and seq (older ones are ignored).
    std::string inStream;
    std::uint64_t inSeq = 0;
    /// The newest letter to them, in this identity's contact stream (outSeq 0: none yet)...
    std::optional<ContactKind> outKind;
    std::uint64_t outSeq = 0;
    /// ...and whether indexd has yet to answer that it keeps it.
    bool outPending = false;
};

} // namespace peerchat
