#pragma once

#include "CryptoTypes.h"
#include "Protocol.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace peerchat {

/// The contact lists online peerchat/3 users declared (ContactsDeclaration),
/// as each user signed them, with the state and status message each
/// declared to show its contacts: what indexd needs to route a user's presence to
/// its contacts only, a user's presence going to another only when each
/// declared the other. Names are interned as compact ids shared by every
/// list that holds them (and forgotten with the last), and a list is a
/// sorted array of ids with its signatures, so 100,000 users with 50 contacts
/// each cost a few hundred bytes apiece; no timer, no thread. A list comes in
/// parts, each signed; it replaces the one held only once every part of its
/// version has come. State only: the caller checked the signatures.
class ContactRoutes
{
public:
    /// What a part did.
    enum class Taken
    {
        Incomplete,  ///< kept; parts of its version are still missing
        Complete,    ///< its version is now, or was already, the list held
        Stale,       ///< of an older version than one held or coming: ignored
        TooLong      ///< its version would hold more than Protocol::kMaxContacts: that version is dropped
    };

    ContactRoutes();
    ~ContactRoutes();
    ContactRoutes(const ContactRoutes&) = delete;
    ContactRoutes& operator=(const ContactRoutes&) = delete;

    /// Takes part of the list its NAME declares (its signature checked).
    Taken declare(const ContactsDeclaration& part);

    /// name went offline: its list, and any part of one, is forgotten.
    void forget(const std::string& name);

    /// The version of the list name holds (0: none).
    std::uint64_t versionOf(const std::string& name) const;

    /// True when name's list holds contact.
    bool declares(const std::string& name, const std::string& contact) const;

    /// The contacts of name's list, sorted by name.
    std::vector<std::string> contactsOf(const std::string& name) const;

    /// True when viewer may see subject: each declares the other and
    /// subject is not invisible. (A name and a list are looked up once each;
    /// presence asks this for every pair it routes.)
    bool sees(const std::string& viewer, const std::string& subject) const;

    /// Calls visit(contact) for each contact that may see name, in no order.
    void forEachViewer(const std::string& name, const std::function<void(const std::string&)>& visit) const;

    /// Calls visit(contact) for each contact name may see, in no order.
    void forEachSeen(const std::string& name, const std::function<void(const std::string&)>& visit) const;

    /// The state and status message name's list declares (online and none
    /// without a list).
    PresenceState stateOf(const std::string& name) const;
    const std::string& statusOf(const std::string& name) const;

    /// The signatures of name's list, one per part, in part order.
    std::vector<Signature> signaturesOf(const std::string& name) const;

    /// How many users hold a list, and how many names are interned.
    std::size_t lists() const;
    std::size_t names() const;

private:
    struct State;
    std::unique_ptr<State> _state;
};

} // namespace peerchat
