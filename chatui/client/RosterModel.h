#pragma once

#include "LocalProtocol.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace peerchat::chatui {

/// What peerd has told a UI about its identity: who it is and its key's
/// fingerprint, its own state and status message, the link to indexd, who
/// is online and how each shows itself (state and status message), how the
/// user stands with each other user (contact, request either way, blocked),
/// what peerd knows of each user's key (pinned, changed, unverified), how
/// lines reach each (the path) and how many unread lines each conversation
/// holds. Built only from events; it never talks to peerd itself.
class RosterModel
{
public:
    /// The parts of the contact list, in the order they are shown.
    enum class Section
    {
        ContactsOnline,  ///< contacts who are online
        ContactsOffline, ///< contacts who are not
        Requests,        ///< users who asked to be a contact, and non-contacts who wrote (held as a request)
        Asked,           ///< users the identity asked, who have not answered
        Blocked          ///< blocked users, whatever they were before
    };

    /// One row of the contact list.
    struct Entry
    {
        std::string name;
        Section section = Section::ContactsOnline;
        bool online = false;
        std::uint32_t unread = 0;
        local::Trust trust = local::Trust::Pinned;
        local::Path path = local::Path::None;
        local::Relation relation = local::Relation::None;
        /// Their note while they ask (Requests), ours while we ask (Asked).
        std::string note{};
        /// While online: the state and status message it shows.
        local::PresenceState state = local::PresenceState::Online;
        std::string status{};
    };

    /// What an event changed.
    struct Change
    {
        bool changed = false;      ///< anything shown in a roster or header
        bool unreadRose = false;   ///< a new unread line arrived, from peer
        std::string peer;          ///< whom an unread, trust, path or contact event was about
    };

    /// Applies an event; events that say nothing about the roster change nothing.
    Change apply(const local::Event& event);

    /// Forgets the roster and the own state when the connection to peerd is
    /// lost (a new one starts with welcome, self and a fresh roster); keeps
    /// the identity's name and fingerprint, and who wrote to it (see wrote()).
    void disconnected();

    const std::string& self() const { return _self; }
    /// The fingerprint of this identity's key, as the welcome gave it.
    const std::string& fingerprint() const { return _fingerprint; }
    local::LinkState linkState() const { return _linkState; }
    /// peerd's words about the link ("name taken"), empty when it gave none.
    const std::string& linkDetail() const { return _linkDetail; }
    const std::string& index() const { return _index; }
    /// The identity's own state and status message as the last self event
    /// gave them (set from any window, or away by itself); nullopt until one
    /// arrives on the current connection.
    const std::optional<local::SelfEvent>& ownStatus() const { return _ownStatus; }
    /// True once a welcome arrived on the current connection.
    bool welcomed() const { return _welcomed; }
    /// True once a roster arrived on the current connection.
    bool rosterLoaded() const { return _rosterLoaded; }

    bool isOnline(const std::string& name) const;
    /// The state name shows while online (roster and presence events); Online when offline or not known.
    local::PresenceState state(const std::string& name) const;
    std::uint32_t unread(const std::string& name) const;
    /// What peerd last said of name's key (roster, presence or trust
    /// events, online or not since); Pinned when it said nothing.
    local::Trust trust(const std::string& name) const;
    /// How lines reach name now (roster, presence and path events); None when offline or not known.
    local::Path path(const std::string& name) const;
    /// How the identity stands with name (roster and contact events); relation
    /// None and not blocked when peerd said nothing.
    local::ContactInfo contact(const std::string& name) const;
    /// True when name had unread lines at some point since chatui started:
    /// they wrote, and their lines are in the conversation even once read.
    /// peerd's roster names only conversations with unread lines, so this is
    /// how a non-contact's read lines stay held as a request.
    bool wrote(const std::string& name) const { return _wrote.count(name) > 0; }
    /// The contact list: every contact, request, user asked and blocked user,
    /// and every non-contact who wrote; by section, then by name. Users online
    /// who are none of these are not in it. Empty until a roster arrives.
    std::vector<Entry> entries() const;

private:
    void setUnread(const std::string& name, std::uint32_t count);
    void setContact(const local::ContactInfo& contact);

    std::string _self;
    std::string _fingerprint;
    std::string _index;
    local::LinkState _linkState = local::LinkState::Connecting;
    std::string _linkDetail;
    bool _welcomed = false;
    bool _rosterLoaded = false;
    std::map<std::string, local::UserInfo> _online;
    std::map<std::string, std::uint32_t> _unread;
    /// Kept when a user goes offline: a changed key still stops lines to them.
    std::map<std::string, local::Trust> _trust;
    /// Users with a relation or a block.
    std::map<std::string, local::ContactInfo> _contacts;
    std::set<std::string> _wrote;
    std::optional<local::SelfEvent> _ownStatus;
};

} // namespace peerchat::chatui
