#pragma once

#include "ContactRecord.h"
#include "ContactStore.h"
#include "Protocol.h"
#include "SettingStore.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace peerchat {

/// This identity's contacts: who asked whom, who agreed, who is blocked, and
/// the letters (ContactLetter) that tell the other side. Becoming contacts
/// takes a request and an acceptance, so both ends agree: a user cannot make
/// itself anyone's contact. Each change of the user's (add, accept, decline,
/// remove) writes one letter in this identity's contact stream, numbered
/// after the last; a letter taken from someone counts only when it is newer
/// than the last taken from them, so the newest says how the two stand. Block
/// sends nothing: a blocked user's letters and lines are dropped, and it is
/// not told. State only: every change is in the store (ContactStore, and the
/// contact stream's id in SettingStore) before the call returns; a change the store refuses throws,
/// and nothing of it is kept. The time is the caller's (ms since the epoch).
class Contacts
{
public:
    /// What a change did: an error for a person (nothing changed), or the
    /// record as it is now, and the letter to post to the other side, if any.
    struct Outcome
    {
        std::string error;
        bool changed = false;
        std::optional<ContactLetter> letter;
    };

    /// The setting that holds this identity's contact stream id.
    static constexpr const char* kStreamSetting = "contact.stream";

    /// What becomes of lines from users who are not contacts: held (stored
    /// and shown apart, as requests) or refused (passed over unseen).
    enum class Strangers { Hold, Refuse };

    /// Loads the contacts of self from store and settings.
    Contacts(ContactStore& store, SettingStore& settings, std::string self, Strangers strangers = Strangers::Hold);

    /// The user asks name to be a contact, with note (at most
    /// Protocol::kMaxNoteBytes). Accepts name's own request instead when
    /// there is one; asks again, with the new note, when asked already.
    Outcome add(const std::string& name, const std::string& note, std::int64_t nowMs);
    /// The user takes name's request: the two are contacts.
    Outcome accept(const std::string& name, std::int64_t nowMs);
    /// The user turns name's request down.
    Outcome decline(const std::string& name, std::int64_t nowMs);
    /// The user removes name as a contact, or takes back a request to name.
    Outcome remove(const std::string& name, std::int64_t nowMs);
    /// The user blocks name: nothing from name counts from now on, and name
    /// is not told. A request from name goes.
    Outcome block(const std::string& name, std::int64_t nowMs);
    /// The user takes the block off name; a contact is one again.
    Outcome unblock(const std::string& name, std::int64_t nowMs);

    /// A letter from letter.from, opened from a box it signed: changes how the
    /// two stand when it is newer than the last taken from it and it is not
    /// blocked; may answer (a request between contacts, or crossing our own,
    /// is accepted at once).
    Outcome receive(const ContactLetter& letter, std::int64_t nowMs);

    /// The user gave up asking name: indexd knows no user of that name. The
    /// request goes; true when there was one.
    bool forgetUnknown(const std::string& name, std::int64_t nowMs);

    /// indexd keeps the letter seq to name: it need not be posted again. True
    /// when that was name's newest letter, waiting.
    bool stored(const std::string& name, std::uint64_t seq);

    /// The newest letter to each user that indexd has not said it keeps.
    std::vector<ContactLetter> waitingLetters() const;

    /// This identity's contact stream id ("" until its first letter).
    const std::string& stream() const { return _stream; }

    /// The record kept for name, or nullptr.
    const ContactRecord* find(const std::string& name) const;
    /// Every record, by name.
    const std::map<std::string, ContactRecord>& all() const { return _records; }
    /// True when name and this identity are contacts (blocked or not).
    bool isContact(const std::string& name) const;
    /// True when the user blocked name.
    bool isBlocked(const std::string& name) const;
    /// True when lines from name are kept: name is not blocked, and is a
    /// contact or strangers' lines are held.
    bool takesLinesFrom(const std::string& name) const;

    /// True when the lines name sent are held as a request: name is neither
    /// blocked nor a contact nor someone with a request either way, and
    /// strangers' lines are held.
    bool holdsLinesOf(const std::string& name) const;

    /// The names this identity declares to indexd (ContactsDeclaration),
    /// sorted: its contacts and those it asked, but none it blocked. Each
    /// sees its presence once it declares this identity too.
    std::vector<std::string> declared() const;

private:
    /// The user's change: name's record (current) moves to relation, and
    /// the letter of kind (with note) that tells name is written.
    Outcome tellChange(const std::string& name, const ContactRecord& current, Relation relation, ContactKind kind,
                       std::int64_t nowMs, const std::string& note = {});
    /// Keeps record as name's (store first, then memory).
    void save(const std::string& name, const ContactRecord& record);
    /// Numbers a letter of kind to name (with note) in the contact stream and
    /// notes it in record as the newest, waiting.
    ContactLetter letter(const std::string& name, ContactRecord& record, ContactKind kind, const std::string& note);
    /// record with relation, the time it changed, and note.
    static ContactRecord moved(ContactRecord record, Relation relation, std::int64_t nowMs, std::string note = {});
    /// The record for name, or an empty one.
    ContactRecord recordOf(const std::string& name) const;

    ContactStore& _store;
    SettingStore& _settings;
    std::string _self;
    Strangers _strangers;
    std::map<std::string, ContactRecord> _records;
    std::string _stream;
    std::uint64_t _lastSeq = 0;
};

} // namespace peerchat
