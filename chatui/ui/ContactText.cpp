#include "ContactText.h"

#include "PresenceText.h"

namespace peerchat::chatui {

namespace {

std::string quoted(const std::string& note) { return "\"" + note + "\""; }

} // namespace

std::string ContactText::sectionTitle(RosterModel::Section section)
{
    switch (section) {
    case RosterModel::Section::ContactsOnline: return "Contacts online";
    case RosterModel::Section::ContactsOffline: return "Contacts offline";
    case RosterModel::Section::Requests: return "Requests";
    case RosterModel::Section::Asked: return "Asked by you";
    case RosterModel::Section::Blocked: return "Blocked";
    }
    return {};
}

std::string ContactText::detail(const RosterModel::Entry& entry)
{
    switch (entry.section) {
    case RosterModel::Section::ContactsOnline: return PresenceText::peerDetail(entry.state, entry.status);
    case RosterModel::Section::ContactsOffline: return {};
    case RosterModel::Section::Requests:
        if (entry.relation != local::Relation::AskedMe) return "wrote to you; not a contact";
        return entry.note.empty() ? "asks to be your contact" : quoted(entry.note);
    case RosterModel::Section::Asked: return "waiting for an answer";
    case RosterModel::Section::Blocked:
        // The heading says blocked; a contact stays one, and is back among them once unblocked.
        return entry.relation == local::Relation::Contact ? "a contact" : "";
    }
    return {};
}

std::string ContactText::answerHint(const std::string& name)
{
    return "/accept " + name + " or /decline " + name;
}

std::string ContactText::requestBar(const local::ContactInfo& request)
{
    const std::string note = request.note.empty() ? "" : ": " + quoted(request.note);
    return request.name + " asks to be your contact" + note + ". Answer with /accept or /decline.";
}

std::string ContactText::done(const ContactRequests::Answer& answer)
{
    const std::string& name = answer.request.peer;
    switch (answer.request.change) {
    case local::ContactChange::Add:
        if (answer.now && answer.now->relation == local::Relation::Contact)
            return name + " had asked you: you are contacts now";
        return "asked " + name + " to be a contact";
    case local::ContactChange::Accept: return name + " is a contact now";
    case local::ContactChange::Decline: return "declined " + name + "'s request";
    case local::ContactChange::Remove:
        if (answer.before == local::Relation::Asked) return "took back your request to " + name;
        return name + " is no longer a contact";
    case local::ContactChange::Block:
        return "blocked " + name + " (who is not told); /unblock " + name + " undoes it";
    case local::ContactChange::Unblock: return "unblocked " + name;
    }
    return {};
}

std::string ContactText::nameNeeded(local::ContactChange change)
{
    const std::string command = "/" + std::string(local::LocalProtocol::contactChangeName(change));
    return command + " NAME: say whom, as in " + command + " bob (in a conversation, NAME is its peer)";
}

} // namespace peerchat::chatui
