#pragma once

#include "LocalProtocol.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace peerchat::chatui {

/// What peerd has told a UI about its identity: who it is and its key's
/// fingerprint, the link to indexd, who is online, what peerd knows of each
/// user's key (pinned, changed, unverified), how lines reach each (the path)
/// and how many unread lines each
/// conversation holds. Built only from events; it never talks to peerd itself.
class RosterModel
{
public:
    /// One row of the roster: an online user, or an offline one whose unread
    /// lines are still waiting.
    struct Entry
    {
        std::string name;
        bool online = false;
        std::uint32_t unread = 0;
        local::Trust trust = local::Trust::Pinned;
        local::Path path = local::Path::None;
    };

    /// What an event changed.
    struct Change
    {
        bool changed = false;      ///< anything shown in a roster or header
        bool unreadRose = false;   ///< a new unread line arrived, from peer
        std::string peer;          ///< whom an unread or trust event was about
    };

    /// Applies an event; events that say nothing about the roster change nothing.
    Change apply(const local::Event& event);

    /// Forgets the roster when the connection to peerd is lost (a new one
    /// starts with welcome and a fresh roster); keeps the identity's name
    /// and fingerprint.
    void disconnected();

    const std::string& self() const { return _self; }
    /// The fingerprint of this identity's key, as the welcome gave it.
    const std::string& fingerprint() const { return _fingerprint; }
    local::LinkState linkState() const { return _linkState; }
    /// peerd's words about the link ("name taken"), empty when it gave none.
    const std::string& linkDetail() const { return _linkDetail; }
    const std::string& index() const { return _index; }
    /// True once a welcome arrived on the current connection.
    bool welcomed() const { return _welcomed; }
    /// True once a roster arrived on the current connection.
    bool rosterLoaded() const { return _rosterLoaded; }

    bool isOnline(const std::string& name) const;
    std::uint32_t unread(const std::string& name) const;
    /// What peerd last said of name's key (roster, presence or trust
    /// events, online or not since); Pinned when it said nothing.
    local::Trust trust(const std::string& name) const;
    /// How lines reach name now (roster, presence and path events); None when offline or not known.
    local::Path path(const std::string& name) const;
    /// Online users and users with unread lines, sorted by name.
    std::vector<Entry> entries() const;

private:
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
};

} // namespace peerchat::chatui
