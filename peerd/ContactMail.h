#pragma once

#include "Contacts.h"
#include "IndexSession.h"
#include "KeyTrust.h"
#include "Protocol.h"
#include "SigningKey.h"
#include "Timers.h"
#include "WireListener.h"

#include <Poco/Logger.h>

#include <chrono>
#include <functional>
#include <string>

namespace peerchat {

/// The contact letters on the wire (docs/PROTOCOL.md, "Contacts"): the
/// user's changes go to Contacts, and the letter each makes is sealed to its
/// recipient's pinned identity key (an OfflineBox) and posted to indexd,
/// again every retry until indexd answers that it keeps it, whether the
/// recipient is online or not: a stranger has no endpoint to send to, and
/// indexd hands a letter over at once to a recipient online. A recipient
/// whose key peerd does not hold yet is looked up first (whois; the key is
/// pinned on first sight, as from a roster); one that indexd does not know
/// ends the request, and the UIs hear why. Letters that come in mail go to
/// Contacts, and what changed goes to the UIs.
class ContactMail
{
public:
    /// What the user asks of a contact.
    enum class Change { Add, Accept, Decline, Remove, Block, Unblock };

    struct Settings
    {
        std::string self;
        std::chrono::milliseconds retry{2000};  ///< letters indexd has not answered go again this often
    };

    /// onChanged is called after every change of a contact, the user's or a letter's.
    ContactMail(Timers& timers, Contacts& contacts, KeyTrust& trust, IndexSession& index, const SigningKey& identity,
                WireListener& listener, Settings settings, std::function<void()> onChanged);

    /// Makes the user's change to name (note: a request's message) and posts
    /// the letter it makes; an error for a person when nothing changed.
    std::string change(Change change, const std::string& name, const std::string& note);

    /// peerd is online with indexd: what waits goes now.
    void online();
    /// peerd is shutting down: nothing goes again.
    void stop();

    /// A letter opened from mail, from the user it names as its sender.
    void letter(const ContactLetter& letter);
    /// indexd answered a whois of this login (the key pinned, if any).
    void nameKey(const NameKey& answer);
    /// indexd keeps a letter of this identity's contact stream.
    void stored(const Stored& stored);
    /// indexd refused a letter of this identity's contact stream.
    void full(const Full& full);

    /// True when stream is this identity's contact stream (its letters' answers come here).
    bool ownsStream(const std::string& stream) const { return !stream.empty() && stream == _contacts.stream(); }

private:
    /// Seals letter to its recipient and posts it, or asks indexd for the
    /// recipient's key first; arms the retry.
    void post(const ContactLetter& letter);
    /// Posts every waiting letter (to name only, unless it is empty).
    void postWaiting(const std::string& name = {});
    void armRetry();
    /// indexd knows no user named name (whois, or a letter refused): a request to name ends.
    void unknown(const std::string& name);
    /// Tells the UIs how the user stands with name now.
    void tell(const std::string& name);

    Timers& _timers;
    Contacts& _contacts;
    KeyTrust& _trust;
    IndexSession& _index;
    const SigningKey& _identity;
    WireListener& _listener;
    Settings _settings;
    std::function<void()> _onChanged;
    Timer _retryTimer;
    bool _stopped = false;
    Poco::Logger& _logger;
};

} // namespace peerchat
