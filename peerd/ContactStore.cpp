#include "ContactStore.h"

#include <Poco/Data/Session.h>

#include <vector>

namespace peerchat {

using namespace Poco::Data::Keywords;

ContactStore::ContactStore(StoreDatabase& database) : _database(database)
{
}

std::map<std::string, ContactRecord> ContactStore::contacts() const
{
    std::vector<std::string> names, relations, notes, inStreams, outKinds;
    std::vector<int> blocked, outPending;
    std::vector<Poco::Int64> sinceMs, inSeqs, outSeqs;
    _database.read([&](Poco::Data::Session& session) {
        session << "SELECT name, relation, blocked, note, since_ms, in_stream, in_seq, out_kind, out_seq, "
                   "out_pending FROM contact",
            into(names), into(relations), into(blocked), into(notes), into(sinceMs), into(inStreams), into(inSeqs),
            into(outKinds), into(outSeqs), into(outPending), now;
    });
    std::map<std::string, ContactRecord> contacts;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto relation = relationFromToken(relations[i]);
        const auto outKind = contactKindFromToken(outKinds[i]);
        if (!relation || (!outKind && !outKinds[i].empty()) || inSeqs[i] < 0 || outSeqs[i] < 0)
            throw Poco::IOException("cannot read the contact " + names[i] + " in " + _database.path() +
                                    ": its row is damaged; move the database aside or pass another --database");
        contacts.emplace(names[i], ContactRecord{*relation, blocked[i] != 0, notes[i], sinceMs[i], inStreams[i],
                                                 static_cast<std::uint64_t>(inSeqs[i]), outKind,
                                                 static_cast<std::uint64_t>(outSeqs[i]), outPending[i] != 0});
    }
    return contacts;
}

void ContactStore::saveContact(const std::string& name, const ContactRecord& contact)
{
    const std::string_view outKind = contact.outKind ? contactKindToken(*contact.outKind) : std::string_view();
    _database.record([&] { return "keep what " + name + " is to this identity"; },
                     StoreChange{store::PutContact{name, relationToken(contact.relation), contact.blocked,
                                                   contact.note, contact.sinceMs, contact.inStream, contact.inSeq,
                                                   outKind, contact.outSeq, contact.outPending}});
}

} // namespace peerchat
