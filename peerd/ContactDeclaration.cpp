#include "ContactDeclaration.h"

#include "SignedStatement.h"

#include <algorithm>
#include <utility>

namespace peerchat {

ContactDeclaration::ContactDeclaration(Timers& timers, const Contacts& contacts, const OwnStatus& status,
                                       IndexSession& index, const SigningKey& identity, Settings settings)
    : _timers(timers),
      _contacts(contacts),
      _status(status),
      _index(index),
      _identity(identity),
      _settings(std::move(settings)),
      _retryTimer(timers),
      _logger(Poco::Logger::get("peerd.contacts"))
{
}

void ContactDeclaration::online()
{
    declare(_contacts.declared(), shownNow());
}

void ContactDeclaration::changed()
{
    std::vector<std::string> names = _contacts.declared();
    Shown shown = shownNow();
    if (_version != 0 && names == _names && shown == _shown) return;
    declare(std::move(names), std::move(shown));
}

void ContactDeclaration::resend()
{
    if (_stopped || _version == 0) return;
    sendParts();
}

ContactDeclaration::Shown ContactDeclaration::shownNow() const
{
    return Shown{_status.state(), _status.text()};
}

void ContactDeclaration::declare(std::vector<std::string> names, Shown shown)
{
    // The wall clock, but never backwards: indexd keeps only a newer list.
    _version = std::max<std::uint64_t>(_version + 1, static_cast<std::uint64_t>(_timers.wallMs()));
    _names = std::move(names);
    _shown = std::move(shown);
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
    sendParts();
    _retryTimer.start(_settings.retry, [this] { send(); });
}

void ContactDeclaration::sendParts()
{
    // Without a session with indexd this sends nothing; the retry, or the next welcome, tries again.
    for (const ContactsDeclaration& part : parts(_settings.self, _version, _shown, _names, _identity)) _index.send(part);
}

std::vector<ContactsDeclaration> ContactDeclaration::parts(const std::string& self, std::uint64_t version,
                                                           const Shown& shown, const std::vector<std::string>& names,
                                                           const SigningKey& identity)
{
    const auto part = [&](std::uint32_t number) {
        return ContactsDeclaration{self, version, number, 1, shown.state, shown.status, {}, {}};
    };
    std::vector<ContactsDeclaration> parts(1, part(1));
    std::size_t bytes = 0;
    for (const std::string& name : names) {
        const std::size_t more = (parts.back().names.empty() ? 0 : 1) + name.size();
        if (bytes + more > Protocol::kMaxDeclarationNamesBytes) {
            parts.push_back(part(static_cast<std::uint32_t>(parts.size() + 1)));
            bytes = 0;
        }
        bytes += (parts.back().names.empty() ? 0 : 1) + name.size();
        parts.back().names.push_back(name);
    }
    for (ContactsDeclaration& each : parts) {
        each.parts = static_cast<std::uint32_t>(parts.size());
        each.sig = identity.sign(SignedStatement::contacts(each));
    }
    return parts;
}

} // namespace peerchat
