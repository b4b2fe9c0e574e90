#pragma once

#include "CryptoTypes.h"
#include "KeyPins.h"
#include "PeerSessions.h"
#include "Roster.h"
#include "WireListener.h"

#include <Poco/Logger.h>

#include <functional>
#include <optional>
#include <string>

namespace peerchat {

/// Which peers' keys peerd trusts, from what the roster and presence show:
/// a key is pinned on first sight (KeyPins); a key other than the pinned
/// one, or none for a name whose key is pinned, stops everything to and
/// from that name until the user trusts it. Seed and .NET peers get plain
/// talk in legacy mode only, and only under names with no key pinned.
class KeyTrust
{
public:
    /// onPinnedAgain(name): name presents its pinned key again after it had
    /// changed, so what waits for it may go.
    KeyTrust(KeyPins& pins, const PeerSessions& sessions, WireListener& listener, bool legacy,
             std::function<void(const std::string& name)> onPinnedAgain);

    /// name presents identity, or no key at all (nullopt: a seed or .NET login).
    void see(const std::string& name, const std::optional<PublicKey>& identity);

    /// True when name's datagrams may be opened and lines sealed to it: a
    /// peerchat/3 peer presenting the key pinned for it, no other key offered.
    bool trusted(const std::string& name, const Roster::Peer& peer) const;

    /// True when name may get and send plain talk: legacy mode, and no key is
    /// pinned for it (or the user accepted it without one).
    bool plainTalkAllowed(const std::string& name) const;

    /// Why nothing goes to name, online without a key (a seed or .NET client), in words for its user.
    std::string withoutKeyRefusal(const std::string& name) const;

    /// Why name may not be taken with keys: holder (when not empty) presents
    /// the same key-exchange key (only one of them can hold it, and no one can
    /// tell which), or this login already used that key. Empty when it may.
    std::string keysRefusal(const std::string& name, const PeerKeys& keys, const std::string& holder) const;

    /// True when the store could not pin a key presented since forgetUnseen().
    bool keysUnseen() const { return _keysUnseen; }
    void forgetUnseen() { _keysUnseen = false; }

    bool legacy() const { return _legacy; }
    KeyPins& pins() { return _pins; }
    const KeyPins& pins() const { return _pins; }

private:
    KeyPins& _pins;
    const PeerSessions& _sessions;
    WireListener& _listener;
    bool _legacy;
    std::function<void(const std::string&)> _onPinnedAgain;
    bool _keysUnseen = false;
    Poco::Logger& _logger;
};

} // namespace peerchat
