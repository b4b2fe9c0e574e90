#include "ContactMail.h"

#include "OfflineBox.h"

#include <utility>

namespace peerchat {

ContactMail::ContactMail(Timers& timers, Contacts& contacts, KeyTrust& trust, IndexSession& index,
                         const SigningKey& identity, WireListener& listener, Settings settings,
                         std::function<void()> onChanged)
    : _timers(timers),
      _contacts(contacts),
      _trust(trust),
      _index(index),
      _identity(identity),
      _listener(listener),
      _settings(std::move(settings)),
      _onChanged(std::move(onChanged)),
      _retryTimer(timers),
      _logger(Poco::Logger::get("peerd.contacts"))
{
}

std::string ContactMail::change(Change change, const std::string& name, const std::string& note)
{
    const std::int64_t now = _timers.wallMs();
    Contacts::Outcome outcome;
    switch (change) {
    case Change::Add: outcome = _contacts.add(name, note, now); break;
    case Change::Accept: outcome = _contacts.accept(name, now); break;
    case Change::Decline: outcome = _contacts.decline(name, now); break;
    case Change::Remove: outcome = _contacts.remove(name, now); break;
    case Change::Block: outcome = _contacts.block(name, now); break;
    case Change::Unblock: outcome = _contacts.unblock(name, now); break;
    }
    if (!outcome.error.empty()) return outcome.error;
    _logger.information("%s: now %s%s", name, std::string(relationToken(_contacts.find(name)->relation)),
                        std::string(_contacts.isBlocked(name) ? ", blocked" : ""));
    tell(name);
    if (outcome.letter) post(*outcome.letter);
    return {};
}

void ContactMail::online()
{
    postWaiting();
}

void ContactMail::stop()
{
    _stopped = true;
    _retryTimer.cancel();
}

void ContactMail::letter(const ContactLetter& letter)
{
    const Contacts::Outcome outcome = _contacts.receive(letter, _timers.wallMs());
    if (outcome.changed) {
        _logger.information("%s %s: now %s", letter.from, std::string(contactKindToken(letter.kind)),
                            std::string(relationToken(_contacts.find(letter.from)->relation)));
        tell(letter.from);
    }
    if (outcome.letter) post(*outcome.letter);
}

void ContactMail::nameKey(const NameKey& answer)
{
    if (answer.identity) {
        postWaiting(answer.name);
        return;
    }
    unknown(answer.name);
}

void ContactMail::unknown(const std::string& name)
{
    if (!_contacts.forgetUnknown(name, _timers.wallMs())) return;
    _logger.information("%s: no such user at indexd; the request was dropped", name);
    tell(name);
    _listener.contactProblem(name, "indexd knows no user named " + name +
                                       "; check the name (names are case-sensitive) and add again");
}

void ContactMail::stored(const Stored& stored)
{
    _contacts.stored(stored.to, stored.seq);
}

void ContactMail::full(const Full& full)
{
    if (full.reason == FullReason::Unknown) {
        unknown(full.to);
        return;
    }
    // The letter waits and goes again; the mailbox's limits are per pair and
    // per sender, and lines waiting for the same user drain them.
    _logger.information("indexd cannot keep the letter to %s now (%s); it goes again later", full.to,
                        std::string(fullReasonToken(full.reason)));
}

void ContactMail::post(const ContactLetter& letter)
{
    armRetry();
    if (!_index.online()) return;
    const KeyPins& pins = _trust.pins();
    const std::optional<PublicKey> key = pins.pinned(letter.to);
    if (!key) {
        _index.whois(letter.to);
        return;
    }
    // A key that changed waits for the user's trust, as lines do.
    if (pins.trustOf(letter.to) != local::Trust::Pinned) return;
    _index.send(Post{letter.to, letter.stream, letter.seq, OfflineBox::seal(_identity, *key, Protocol::encode(letter))});
}

void ContactMail::postWaiting(const std::string& name)
{
    for (const ContactLetter& letter : _contacts.waitingLetters()) {
        if (name.empty() || letter.to == name) post(letter);
    }
}

void ContactMail::armRetry()
{
    if (_stopped || _retryTimer.armed()) return;
    _retryTimer.start(_settings.retry, [this] { postWaiting(); });
}

void ContactMail::tell(const std::string& name)
{
    _listener.contactChanged(name, *_contacts.find(name));
    _onChanged();
}

} // namespace peerchat
