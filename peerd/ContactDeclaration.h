#pragma once

#include "Contacts.h"
#include "IndexSession.h"
#include "OwnStatus.h"
#include "Protocol.h"
#include "SigningKey.h"
#include "Timers.h"

#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace peerchat {

/// Tells indexd whom this identity has as contacts (Contacts::declared) and
/// how they are to see it (OwnStatus: its state and status message): the
/// list in as many parts as it takes, each repeating the state and message
/// and signed with the identity key (ContactsDeclaration), at every login
/// and whenever the contacts, the state or the message change, each time
/// under a larger version, and again every retry until indexd answers that
/// it holds that version (Declared). indexd routes presence by these lists,
/// only between two users who each declared the other, and answers every
/// complete list with a snapshot of presence: declaring the same version
/// again (resend) is how peerd asks for presence anew.
class ContactDeclaration
{
public:
    struct Settings
    {
        std::string self;
        std::chrono::milliseconds retry{2000};  ///< an unanswered list goes again this often
    };

    ContactDeclaration(Timers& timers, const Contacts& contacts, const OwnStatus& status, IndexSession& index,
                       const SigningKey& identity, Settings settings);

    /// indexd welcomed a login: it hears the list now (each login starts without one).
    void online();
    /// The contacts, the state or the status message may have changed: indexd hears the list when they did.
    void changed();
    /// Sends the list of the current version again, once (indexd answers it with a fresh snapshot).
    void resend();
    /// indexd holds version.
    void declared(const Declared& declared);
    /// peerd is shutting down: nothing goes again.
    void stop();

    /// What a list declares besides its names: the state and status message it shows.
    struct Shown
    {
        PresenceState state = PresenceState::Online;
        std::string status{};

        bool operator==(const Shown& other) const { return state == other.state && status == other.status; }
    };

    /// The parts of names as version, showing shown, signed by identity for
    /// self: names in their order, each part's NAMES within
    /// Protocol::kMaxDeclarationNamesBytes.
    static std::vector<ContactsDeclaration> parts(const std::string& self, std::uint64_t version, const Shown& shown,
                                                  const std::vector<std::string>& names, const SigningKey& identity);

    /// The version the list goes under now (0: none yet), and whether indexd holds it.
    std::uint64_t version() const { return _version; }
    bool held() const { return _held; }

private:
    /// Sends names, showing shown, as the next version.
    void declare(std::vector<std::string> names, Shown shown);
    /// Sends every part of the current version.
    void sendParts();
    /// Sends the current version and again every retry until indexd holds it.
    void send();
    Shown shownNow() const;

    Timers& _timers;
    const Contacts& _contacts;
    const OwnStatus& _status;
    IndexSession& _index;
    const SigningKey& _identity;
    Settings _settings;
    Timer _retryTimer;
    std::uint64_t _version = 0;
    std::vector<std::string> _names;  ///< the list of _version
    Shown _shown;                     ///< what _version shows
    bool _held = false;
    bool _stopped = false;
    Poco::Logger& _logger;
};

} // namespace peerchat
