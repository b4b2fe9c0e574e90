#pragma once

#include "ContactRequests.h"
#include "LocalProtocol.h"
#include "RosterModel.h"

#include <string>

namespace peerchat::chatui {

/// The words chatui uses about contacts: the roster's headings and what a
/// row says after the name, how to answer a request, and what the status
/// line says when peerd carried out a contact command. Plain text; windows
/// draw it.
class ContactText
{
public:
    /// The heading of a section of the roster.
    static std::string sectionTitle(RosterModel::Section section);
    /// What an entry's row says after its name and tags: the state and
    /// status message of a contact online (PresenceText::peerDetail), the
    /// note of a request, that a non-contact wrote, that an answer is
    /// awaited, that the user is blocked; nothing for a contact offline.
    static std::string detail(const RosterModel::Entry& entry);
    /// The roster's hint under its requests: "/accept bob or /decline bob".
    static std::string answerHint(const std::string& name);
    /// What a conversation shows above its lines while its peer asks to be a
    /// contact: the request, its note, and how to answer.
    static std::string requestBar(const local::ContactInfo& request);
    /// The status line's confirmation of a contact command peerd carried out
    /// (answer.now set): "asked bob to be a contact".
    static std::string done(const ContactRequests::Answer& answer);
    /// Why a contact command cannot run without a NAME in the roster.
    static std::string nameNeeded(local::ContactChange change);
};

} // namespace peerchat::chatui
