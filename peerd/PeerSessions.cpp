#include "PeerSessions.h"

#include <utility>

namespace peerchat {

bool PeerSessions::renew(KxKeyPair own, const PublicKey& indexKx)
{
    clear();
    std::optional<SessionCipher> index = SessionCipher::between(own, indexKx);
    if (!index) return false;
    _own.emplace(std::move(own));
    _index = std::move(index);
    return true;
}

void PeerSessions::clear()
{
    _peers.clear();
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

std::optional<Seal> PeerSessions::sealTo(const std::string& name, const PublicKey& theirKx, const Message& message)
{
    SessionCipher* session = sessionWith(name, theirKx);
    if (session == nullptr) return std::nullopt;
    return session->seal(Protocol::encode(message));
}

Parsed<std::string> PeerSessions::openFrom(const std::string& name, const PublicKey& theirKx, const Seal& seal)
{
    SessionCipher* session = sessionWith(name, theirKx);
    if (session == nullptr) return Parsed<std::string>::refuse("no session with " + name + " (unusable key)");
    return session->open(seal);
}

SessionCipher* PeerSessions::sessionWith(const std::string& name, const PublicKey& theirKx)
{
    if (!_own) return nullptr;
    const auto it = _peers.find(name);
    if (it != _peers.end() && it->second.kx == theirKx) return &it->second.cipher;
    std::optional<SessionCipher> cipher = SessionCipher::between(*_own, theirKx);
    if (!cipher) return nullptr;
    if (it != _peers.end()) _peers.erase(it);
    return &_peers.emplace(name, PeerSession{theirKx, std::move(*cipher)}).first->second.cipher;
}

} // namespace peerchat
