#include "ContactDeclaration.h"

#include "SignedStatement.h"

#include <algorithm>
#include <utility>

namespace peerchat {

ContactDeclaration::ContactDeclaration(Timers& timers, const Contacts& contacts, IndexSession& index,
                                       const SigningKey& identity, Settings settings)
    : _timers(timers),
      _contacts(contacts),
      _index(index),
      _identity(identity),
      _settings(std::move(settings)),
      _retryTimer(timers),
      _logger(Poco::Logger::get("peerd.contacts"))
{
}

void ContactDeclaration::online()
{
    declare(_contacts.declared());
}

void ContactDeclaration::changed()
{
    std::vector<std::string> names = _contacts.declared();
    if (_version != 0 && names == _names) return;
    declare(std::move(names));
}

void ContactDeclaration::declare(std::vector<std::string> names)
{
    // The wall clock, but never backwards: indexd keeps only a newer list.
    _version = std::max<std::uint64_t>(_version + 1, static_cast<std::uint64_t>(_timers.wallMs()));
    _names = std::move(names);
    _held = false;
    send();
}

void ContactDeclaration::declared(const Declared& declared)
{
    if (declared.version != _version || _held) return;
    _held = true;
    _retryTimer.cancel();
    _logger.debug("indexd holds the contact list, version %?u", _version);
}

void ContactDeclaration::stop()
{
    _stopped = true;
    _retryTimer.cancel();
}

void ContactDeclaration::send()
{
    if (_stopped || _held) return;
    // Without a session with indexd this sends nothing, and the retry tries again.
    for (const ContactsDeclaration& part : parts(_settings.self, _version, _names, _identity)) _index.send(part);
    _retryTimer.start(_settings.retry, [this] { send(); });
}

std::vector<ContactsDeclaration> ContactDeclaration::parts(const std::string& self, std::uint64_t version,
                                                           const std::vector<std::string>& names,
                                                           const SigningKey& identity)
{
    std::vector<ContactsDeclaration> parts(1, ContactsDeclaration{self, version, 1, 1, {}, {}});
    std::size_t bytes = 0;
    for (const std::string& name : names) {
        const std::size_t more = (parts.back().names.empty() ? 0 : 1) + name.size();
        if (bytes + more > Protocol::kMaxDeclarationNamesBytes) {
            parts.push_back(ContactsDeclaration{self, version, static_cast<std::uint32_t>(parts.size() + 1), 1, {}, {}});
            bytes = 0;
        }
        bytes += (parts.back().names.empty() ? 0 : 1) + name.size();
        parts.back().names.push_back(name);
    }
    for (ContactsDeclaration& part : parts) {
        part.parts = static_cast<std::uint32_t>(parts.size());
        part.sig = identity.sign(SignedStatement::contacts(part));
    }
    return parts;
}

} // namespace peerchat
