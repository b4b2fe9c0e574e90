#include "KeyTrust.h"

#include "Fingerprint.h"

#include <Poco/Exception.h>

namespace peerchat {

KeyTrust::KeyTrust(KeyPins& pins, const PeerSessions& sessions, WireListener& listener, bool legacy,
                   std::function<void(const std::string& name)> onPinnedAgain)
    : _pins(pins),
      _sessions(sessions),
      _listener(listener),
      _legacy(legacy),
      _onPinnedAgain(std::move(onPinnedAgain)),
      _logger(Poco::Logger::get("peerd.wire.trust"))
{
}

void KeyTrust::see(const std::string& name, const std::optional<PublicKey>& identity)
{
    const bool known = _pins.pinned(name).has_value();
    if (!identity && !known) return;
    const local::Trust before = _pins.trustOf(name);
    local::Trust now = before;
    try {
        now = identity ? _pins.see(name, *identity) : _pins.seeKeyless(name);
    } catch (const Poco::Exception& e) {
        // Nothing changed: an unpinned peer stays untrusted (its lines wait
        // with it) until presence, asked again at a heartbeat, shows its key again.
        _logger.debug("the key " + name + " presents is not seen yet: " + e.message());
        _keysUnseen = true;
        return;
    }
    if (!known) {
        _logger.information("pinned " + name + "'s identity key " + Fingerprint::of(*identity));
        return;
    }
    if (now == before) return;
    if (now == local::Trust::Changed && !identity) {
        _logger.warning(name + " now comes without a key (a seed or .NET login) though its key " +
                        Fingerprint::of(*_pins.pinned(name)) + " is pinned: nothing goes to or comes from " + name +
                        " until the user checks (/verify " + name + ") and accepts it (/trust " + name + ")");
    } else if (now == local::Trust::Changed) {
        _logger.warning(name + "'s identity key changed (pinned " + Fingerprint::of(*_pins.pinned(name)) +
                        ", now presented " + Fingerprint::of(*identity) + "): nothing goes to or comes from " + name +
                        " until the user compares fingerprints (/verify " + name + ") and trusts it (/trust " + name +
                        ")");
    } else {
        _logger.information(name + " presents the pinned identity key again");
        _onPinnedAgain(name);
    }
    _listener.trustChanged(name, now);
}

bool KeyTrust::plainTalkAllowed(const std::string& name) const
{
    return _legacy && _pins.trustOf(name) == local::Trust::Unverified;
}

std::string KeyTrust::keysRefusal(const std::string& name, const PeerKeys& keys, const std::string& holder) const
{
    if (!holder.empty()) return name + " and " + holder + " present one key-exchange key";
    return _sessions.refusal(name, keys);
}

bool KeyTrust::trusted(const std::string& name, const Roster::Peer& peer) const
{
    return peer.dialect == Dialect::Peerchat && peer.keys && _pins.trustOf(name) == local::Trust::Pinned &&
           _pins.pinned(name) == peer.keys->identity;
}

std::string KeyTrust::withoutKeyRefusal(const std::string& name) const
{
    if (_pins.trustOf(name) != local::Trust::Unverified) {
        return name + " now comes without a key (a seed or .NET login), but you pinned " + name +
               "'s key: anyone may be using the name. Nothing goes to " + name + " until you check with /verify " +
               name + " and, if it is really " + name + ", accept it with /trust " + name;
    }
    return name + " uses a client without encryption (seed or .NET): nothing you send could be kept private or "
                  "proven yours, so peerd talks to it only in legacy mode (start peerd with --legacy)";
}

} // namespace peerchat
