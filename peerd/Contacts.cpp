#include "Contacts.h"

#include <sodium.h>

#include <algorithm>
#include <utility>

namespace peerchat {

namespace {

// 60 random bits as 15 hex digits, as line streams are drawn.
std::string newStreamId()
{
    std::uint64_t value = 0;
    randombytes_buf(&value, sizeof value);
    char text[17];
    sodium_bin2hex(text, sizeof text, reinterpret_cast<const unsigned char*>(&value), sizeof value);
    return std::string(text + 1, 15);
}

Contacts::Outcome refused(std::string why)
{
    return Contacts::Outcome{std::move(why), false, std::nullopt};
}

} // namespace

Contacts::Contacts(ContactStore& store, SettingStore& settings, std::string self, Strangers strangers)
    : _store(store), _settings(settings), _self(std::move(self)), _strangers(strangers), _records(store.contacts())
{
    const auto kept = settings.settings();
    if (const auto it = kept.find(kStreamSetting); it != kept.end()) _stream = it->second;
    for (const auto& [name, record] : _records) _lastSeq = std::max(_lastSeq, record.outSeq);
}

const ContactRecord* Contacts::find(const std::string& name) const
{
    const auto it = _records.find(name);
    return it == _records.end() ? nullptr : &it->second;
}

ContactRecord Contacts::recordOf(const std::string& name) const
{
    const ContactRecord* record = find(name);
    return record ? *record : ContactRecord{};
}

bool Contacts::isContact(const std::string& name) const
{
    const ContactRecord* record = find(name);
    return record && record->relation == Relation::Contact;
}

bool Contacts::isBlocked(const std::string& name) const
{
    const ContactRecord* record = find(name);
    return record && record->blocked;
}

bool Contacts::holdsLinesOf(const std::string& name) const
{
    const ContactRecord* record = find(name);
    return _strangers == Strangers::Hold && (record == nullptr || (!record->blocked && record->relation == Relation::None));
}

std::vector<std::string> Contacts::declared() const
{
    std::vector<std::string> names;
    for (const auto& [name, record] : _records) {
        if (!record.blocked && (record.relation == Relation::Contact || record.relation == Relation::Asked))
            names.push_back(name);
    }
    return names;
}

bool Contacts::takesLinesFrom(const std::string& name) const
{
    const ContactRecord* record = find(name);
    if (record == nullptr) return _strangers == Strangers::Hold;
    return !record->blocked && (record->relation == Relation::Contact || _strangers == Strangers::Hold);
}

ContactRecord Contacts::moved(ContactRecord record, Relation relation, std::int64_t nowMs, std::string note)
{
    record.relation = relation;
    record.sinceMs = nowMs;
    record.note = std::move(note);
    return record;
}

void Contacts::save(const std::string& name, const ContactRecord& record)
{
    _store.saveContact(name, record);
    _records[name] = record;
}

ContactLetter Contacts::letter(const std::string& name, ContactRecord& record, ContactKind kind,
                               const std::string& note)
{
    if (_stream.empty()) {
        const std::string stream = newStreamId();
        _settings.saveSetting(kStreamSetting, stream);
        _stream = stream;
    }
    record.outKind = kind;
    record.outSeq = _lastSeq + 1;
    record.outPending = true;
    return ContactLetter{_stream, record.outSeq, _self, name, kind, note};
}

Contacts::Outcome Contacts::tellChange(const std::string& name, const ContactRecord& current, Relation relation,
                                       ContactKind kind, std::int64_t nowMs, const std::string& note)
{
    ContactRecord record = moved(current, relation, nowMs, note);
    ContactLetter sent = letter(name, record, kind, note);
    save(name, record);
    ++_lastSeq;
    return Outcome{{}, true, std::move(sent)};
}

Contacts::Outcome Contacts::add(const std::string& name, const std::string& note, std::int64_t nowMs)
{
    if (name == _self) return refused("you cannot add yourself as a contact");
    if (note.size() > Protocol::kMaxNoteBytes)
        return refused("the note to " + name + " is longer than " + std::to_string(Protocol::kMaxNoteBytes) +
                       " bytes; write a shorter one");
    const ContactRecord current = recordOf(name);
    if (current.blocked) return refused(name + " is blocked; unblock " + name + " first");
    if (current.relation == Relation::Contact) return refused(name + " is a contact already");
    if (current.relation == Relation::AskedMe) return accept(name, nowMs);
    if (current.relation == Relation::None && declared().size() >= Protocol::kMaxContacts)
        return refused("you have " + std::to_string(Protocol::kMaxContacts) +
                       " contacts and requests, as many as indexd keeps; remove one first");
    return tellChange(name, current, Relation::Asked, ContactKind::Request, nowMs, note);
}

Contacts::Outcome Contacts::accept(const std::string& name, std::int64_t nowMs)
{
    const ContactRecord current = recordOf(name);
    if (current.relation != Relation::AskedMe) return refused(name + " has not asked to be your contact");
    return tellChange(name, current, Relation::Contact, ContactKind::Accept, nowMs);
}

Contacts::Outcome Contacts::decline(const std::string& name, std::int64_t nowMs)
{
    const ContactRecord current = recordOf(name);
    if (current.relation != Relation::AskedMe) return refused(name + " has not asked to be your contact");
    return tellChange(name, current, Relation::None, ContactKind::Decline, nowMs);
}

Contacts::Outcome Contacts::remove(const std::string& name, std::int64_t nowMs)
{
    const ContactRecord current = recordOf(name);
    if (current.relation != Relation::Contact && current.relation != Relation::Asked)
        return refused(name + " is not a contact, and you have not asked " + name);
    return tellChange(name, current, Relation::None, ContactKind::Remove, nowMs);
}

Contacts::Outcome Contacts::block(const std::string& name, std::int64_t nowMs)
{
    if (name == _self) return refused("you cannot block yourself");
    ContactRecord record = recordOf(name);
    if (record.blocked) return refused(name + " is blocked already");
    // A request from a blocked user goes with the block; a contact stays
    // one, hidden from, until unblocked.
    if (record.relation == Relation::AskedMe) record = moved(record, Relation::None, nowMs);
    record.blocked = true;
    save(name, record);
    return Outcome{{}, true, std::nullopt};
}

Contacts::Outcome Contacts::unblock(const std::string& name, std::int64_t)
{
    ContactRecord record = recordOf(name);
    if (!record.blocked) return refused(name + " is not blocked");
    record.blocked = false;
    save(name, record);
    return Outcome{{}, true, std::nullopt};
}

Contacts::Outcome Contacts::receive(const ContactLetter& letter, std::int64_t nowMs)
{
    const ContactRecord current = recordOf(letter.from);
    if (current.blocked) return Outcome{};
    if (letter.stream == current.inStream && letter.seq <= current.inSeq) return Outcome{};
    ContactRecord record = current;
    record.inStream = letter.stream;
    record.inSeq = letter.seq;
    std::optional<ContactLetter> answer;
    switch (letter.kind) {
    case ContactKind::Request:
        // Between contacts (the other side lost its database, or removed us
        // and asks again) and across our own request, the answer is yes.
        if (current.relation == Relation::Contact || current.relation == Relation::Asked) {
            record = moved(record, Relation::Contact, current.relation == Relation::Contact ? current.sinceMs : nowMs);
            answer = this->letter(letter.from, record, ContactKind::Accept, {});
        } else {
            record = moved(record, Relation::AskedMe, nowMs, letter.note);
        }
        break;
    case ContactKind::Accept:
        if (current.relation == Relation::Asked) record = moved(record, Relation::Contact, nowMs);
        break;
    case ContactKind::Decline:
        if (current.relation == Relation::Asked) record = moved(record, Relation::None, nowMs);
        break;
    case ContactKind::Remove:
        if (current.relation != Relation::None) record = moved(record, Relation::None, nowMs);
        break;
    }
    save(letter.from, record);
    if (answer) ++_lastSeq;
    const bool changed = record.relation != current.relation || record.note != current.note;
    return Outcome{{}, changed, std::move(answer)};
}

bool Contacts::forgetUnknown(const std::string& name, std::int64_t nowMs)
{
    const ContactRecord* current = find(name);
    if (current == nullptr || current->relation != Relation::Asked) return false;
    ContactRecord record = moved(*current, Relation::None, nowMs);
    record.outPending = false;
    save(name, record);
    return true;
}

bool Contacts::stored(const std::string& name, std::uint64_t seq)
{
    const ContactRecord* current = find(name);
    if (current == nullptr || !current->outPending || current->outSeq != seq) return false;
    ContactRecord record = *current;
    record.outPending = false;
    save(name, record);
    return true;
}

std::vector<ContactLetter> Contacts::waitingLetters() const
{
    std::vector<ContactLetter> letters;
    for (const auto& [name, record] : _records) {
        if (!record.outPending || !record.outKind) continue;
        const std::string note = *record.outKind == ContactKind::Request ? record.note : std::string();
        letters.push_back(ContactLetter{_stream, record.outSeq, _self, name, *record.outKind, note});
    }
    return letters;
}

} // namespace peerchat
