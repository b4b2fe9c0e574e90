#include "PeerSessions.h"

#include <algorithm>
#include <utility>

namespace peerchat {

PeerSessions::PeerSessions(const SigningKey& identity) : _identity(identity) {}

bool PeerSessions::renew(KxKeyPair own, const PublicKey& indexIdentity, const PublicKey& indexKx)
{
    clear();
    std::optional<SessionCipher> index = SessionCipher::between(own, _identity, indexIdentity, indexKx);
    if (!index) return false;
    _own.emplace(std::move(own));
    _index = std::move(index);
    return true;
}

void PeerSessions::clear()
{
    _peers.clear();
    _retired.clear();
    _retiredOrder.clear();
    _index.reset();
    _own.reset();
}

std::optional<Seal> PeerSessions::sealToIndex(const Message& message)
{
    if (!_index) return std::nullopt;
    return _index->seal(Protocol::encode(message));
}

Parsed<std::string> PeerSessions::openFromIndex(const Seal& seal)
{
    if (!_index) return Parsed<std::string>::refuse("no session with indexd yet");
    return _index->open(seal);
}

std::string PeerSessions::refusal(const std::string& name, const PeerKeys& theirs) const
{
    if (!_own) return "no session with indexd yet";
    if (theirs.kx == _own->publicKey()) return name + " presents this login's own key-exchange key";
    const auto it = _peers.find(name);
    if (it != _peers.end() && it->second.keys.kx == theirs.kx) {
        if (it->second.keys.identity == theirs.identity) return {};
        return name + " presents its key-exchange key under another identity key";
    }
    const auto holder = std::find_if(_peers.begin(), _peers.end(),
                                     [&](const auto& peer) { return peer.second.keys.kx == theirs.kx; });
    if (holder != _peers.end()) return name + " presents the key-exchange key of " + holder->first;
    // Sessions retire their keys as they are made: a key seen here served a session before.
    if (_retired.count(theirs.kx) > 0)
        return name + " presents a key-exchange key already used in this login (replayed, or borrowed)";
    return {};
}

Parsed<Seal> PeerSessions::sealTo(const std::string& name, const PeerKeys& theirs, std::string_view plaintext)
{
    const Parsed<SessionCipher*> session = sessionWith(name, theirs);
    if (!session) return Parsed<Seal>::refuse(session.error());
    return (*session)->seal(plaintext);
}

Parsed<std::string> PeerSessions::openFrom(const std::string& name, const PeerKeys& theirs, const Seal& seal)
{
    const Parsed<SessionCipher*> session = sessionWith(name, theirs);
    if (!session) return Parsed<std::string>::refuse(session.error());
    return (*session)->open(seal);
}

Parsed<SessionCipher*> PeerSessions::sessionWith(const std::string& name, const PeerKeys& theirs)
{
    if (std::string why = refusal(name, theirs); !why.empty()) return Parsed<SessionCipher*>::refuse(std::move(why));
    const auto it = _peers.find(name);
    if (it != _peers.end() && it->second.keys.kx == theirs.kx) return &it->second.cipher;
    std::optional<SessionCipher> cipher = SessionCipher::between(*_own, _identity, theirs.identity, theirs.kx);
    if (!cipher) return Parsed<SessionCipher*>::refuse("no session with " + name + " (unusable keys)");
    if (it != _peers.end()) {
        retire(it->second.keys.kx);
        _peers.erase(it);
    }
    retire(theirs.kx);
    return &_peers.emplace(name, PeerSession{theirs, std::move(*cipher)}).first->second.cipher;
}

// A key-exchange key that had a session once gets none again in this login.
void PeerSessions::retire(const PublicKey& kx)
{
    if (!_retired.insert(kx).second) return;
    _retiredOrder.push_back(kx);
    if (_retiredOrder.size() > kMaxRetiredKeys) {
        _retired.erase(_retiredOrder.front());
        _retiredOrder.pop_front();
    }
}

} // namespace peerchat
