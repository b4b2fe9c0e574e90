#pragma once

#include "Contacts.h"
#include "IndexSession.h"
#include "Protocol.h"
#include "SigningKey.h"
#include "Timers.h"

#include <Poco/Logger.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace peerchat {

/// Tells indexd whom this identity has as contacts (Contacts::declared):
/// the list in as many parts as it takes, each signed with the identity key
/// (ContactsDeclaration), at every login and whenever the contacts change,
/// each time under a larger version, and again every retry until indexd
/// answers that it holds that version (Declared). indexd routes presence by
/// these lists, only between two users who each declared the other.
class ContactDeclaration
{
public:
    struct Settings
    {
        std::string self;
        std::chrono::milliseconds retry{2000};  ///< an unanswered list goes again this often
    };

    ContactDeclaration(Timers& timers, const Contacts& contacts, IndexSession& index, const SigningKey& identity,
                       Settings settings);

    /// indexd welcomed a login: it hears the list now (each login starts without one).
    void online();
    /// The contacts may have changed: indexd hears the list when it did.
    void changed();
    /// indexd holds version.
    void declared(const Declared& declared);
    /// peerd is shutting down: nothing goes again.
    void stop();

    /// The parts of names as version, signed by identity for self: names in
    /// their order, each part's NAMES within Protocol::kMaxDeclarationNamesBytes.
    static std::vector<ContactsDeclaration> parts(const std::string& self, std::uint64_t version,
                                                  const std::vector<std::string>& names, const SigningKey& identity);

    /// The version the list goes under now (0: none yet), and whether indexd holds it.
    std::uint64_t version() const { return _version; }
    bool held() const { return _held; }

private:
    /// Sends names as the next version.
    void declare(std::vector<std::string> names);
    void send();

    Timers& _timers;
    const Contacts& _contacts;
    IndexSession& _index;
    const SigningKey& _identity;
    Settings _settings;
    Timer _retryTimer;
    std::uint64_t _version = 0;
    std::vector<std::string> _names;  ///< the list of _version
    bool _held = false;
    bool _stopped = false;
    Poco::Logger& _logger;
};

} // namespace peerchat
