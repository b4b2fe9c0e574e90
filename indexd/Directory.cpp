#include "Directory.h"

#include <cstring>

namespace peerchat {

namespace {

// A key id as a number, to hash.
std::uint64_t idNumber(const KeyId& id)
{
    std::uint64_t n = 0;
    std::memcpy(&n, id.data(), sizeof n);
    return n;
}

} // namespace

bool Directory::sameKeys(const OnlineUser& user, const std::optional<PeerKeys>& keys)
{
    if (!keys) return !user.keys;
    return user.keys && user.keys->identity == keys->identity && user.keys->kx == keys->kx;
}

LoginOutcome::Kind Directory::loginKind(const std::string& name, const Endpoint& endpoint, Dialect dialect,
                                        const std::optional<PeerKeys>& keys) const
{
    auto it = _entries.find(name);
    if (it == _entries.end()) return LoginOutcome::Kind::Registered;
    const OnlineUser& user = it->second.user;
    if (user.endpoint != endpoint) return LoginOutcome::Kind::Taken;
    return user.dialect == dialect && sameKeys(user, keys) ? LoginOutcome::Kind::AlreadyHere
                                                           : LoginOutcome::Kind::Changed;
}

LoginOutcome Directory::login(const std::string& name, const Endpoint& endpoint, Dialect dialect,
                              const Poco::Net::IPAddress& loginSource, TimePoint now,
                              std::optional<PeerSession> session)
{
    LoginOutcome outcome;
    const std::optional<PeerKeys> keys = session ? std::optional<PeerKeys>(session->keys) : std::nullopt;
    outcome.kind = loginKind(name, endpoint, dialect, keys);
    if (outcome.kind == LoginOutcome::Kind::Taken) return outcome;
    if (outcome.kind != LoginOutcome::Kind::Registered) {
        const auto it = _entries.find(name);
        OnlineUser& user = it->second.user;
        if (user.loginSource != loginSource) {
            user.loginSource = loginSource;
            ++_version;
        }
        if (outcome.kind == LoginOutcome::Kind::Changed) {
            user.dialect = dialect;
            // A new login starts without candidates: its first alive tells them.
            user.candidates.clear();
            if (!sameKeys(user, keys)) setSession(it, std::move(session));
            ++_version;
        }
        if (dialect == Dialect::Peerchat) markHeard(it, now);
        else forgetHeard(it->second);
        return outcome;
    }
    if (auto held = _nameAt.find(endpoint); held != _nameAt.end()) {
        outcome.displaced = remove(_entries.find(*held->second));
    }
    const auto it =
        _entries.emplace(name, Entry{OnlineUser{name, endpoint, dialect, loginSource, std::nullopt}, {}, {}}).first;
    setSession(it, std::move(session));
    _nameAt.emplace(endpoint, &it->first);
    if (dialect == Dialect::Peerchat) markHeard(it, now);
    ++_version;
    return outcome;
}

bool Directory::isOwnLogout(const OnlineUser& user, const Endpoint& writtenEndpoint, const Endpoint& source)
{
    // The .NET program sends from throwaway sockets, so only its address and
    // the endpoint it wrote can identify it; everyone else has one socket.
    return user.dialect == Dialect::DotNet ? source.host() == user.loginSource && writtenEndpoint == user.endpoint
                                           : source == user.endpoint;
}

LogoutOutcome Directory::logout(const std::string& name, const Endpoint& writtenEndpoint, const Endpoint& source)
{
    LogoutOutcome outcome;
    auto it = _entries.find(name);
    if (it == _entries.end()) {
        outcome.kind = LogoutOutcome::Kind::NotOnline;
        return outcome;
    }
    if (!isOwnLogout(it->second.user, writtenEndpoint, source)) {
        outcome.kind = LogoutOutcome::Kind::WrongSource;
        outcome.user = it->second.user;
        return outcome;
    }
    outcome.kind = LogoutOutcome::Kind::LoggedOut;
    outcome.user = remove(it);
    return outcome;
}

MoveOutcome Directory::move(const std::string& name, const Endpoint& to)
{
    MoveOutcome outcome;
    auto it = _entries.find(name);
    if (it == _entries.end()) return outcome;
    if (_nameAt.count(to) > 0) {
        outcome.kind = MoveOutcome::Kind::EndpointHeld;
        return outcome;
    }
    OnlineUser& user = it->second.user;
    outcome.kind = MoveOutcome::Kind::Moved;
    outcome.from = user.endpoint;
    _nameAt.erase(user.endpoint);
    _nameAt.emplace(to, &it->first);
    user.endpoint = to;
    user.loginSource = to.host();
    ++_version;
    return outcome;
}

bool Directory::isPlausible(const Candidate& candidate)
{
    if (candidate.kind == CandidateKind::Reflexive) return false;
    const Poco::Net::IPAddress host = candidate.endpoint.host();
    return !host.isWildcard() && !host.isMulticast() && !host.isBroadcast();
}

std::size_t Directory::setCandidates(const std::string& name, const std::vector<Candidate>& candidates)
{
    auto it = _entries.find(name);
    if (it == _entries.end()) return 0;
    std::vector<Candidate>& kept = it->second.user.candidates;
    kept.clear();
    for (const Candidate& candidate : candidates) {
        if (kept.size() == kMaxKeptCandidates) break;
        if (isPlausible(candidate)) kept.push_back(candidate);
    }
    return kept.size();
}

void Directory::setTurnExpiry(const std::string& name, std::uint64_t expiry)
{
    if (auto it = _entries.find(name); it != _entries.end()) it->second.user.turnExpiry = expiry;
}

bool Directory::heardFrom(const std::string& name, const Endpoint& source, TimePoint now)
{
    auto it = _entries.find(name);
    if (it == _entries.end() || it->second.user.dialect != Dialect::Peerchat || it->second.user.endpoint != source)
        return false;
    markHeard(it, now);
    return true;
}

std::vector<OnlineUser> Directory::expireHeardBefore(TimePoint cutoff)
{
    std::vector<OnlineUser> expired;
    while (!_silence.empty() && _silence.front().at <= cutoff) expired.push_back(remove(_entries.find(*_silence.front().name)));
    return expired;
}

std::uint64_t Directory::takePresenceSeqs(const std::string& name, std::uint64_t count)
{
    const auto it = _entries.find(name);
    if (it == _entries.end()) return 0;
    const std::uint64_t first = it->second.user.presenceSeq + 1;
    it->second.user.presenceSeq += count;
    return first;
}

const OnlineUser* Directory::find(const std::string& name) const
{
    auto it = _entries.find(name);
    return it == _entries.end() ? nullptr : &it->second.user;
}

const OnlineUser* Directory::findAt(const Endpoint& endpoint) const
{
    auto it = _nameAt.find(endpoint);
    return it == _nameAt.end() ? nullptr : find(*it->second);
}

SessionCipher* Directory::session(const std::string& name)
{
    auto it = _entries.find(name);
    return it == _entries.end() || !it->second.cipher ? nullptr : &*it->second.cipher;
}

std::vector<RosterEntry> Directory::legacySnapshot() const
{
    std::vector<RosterEntry> entries;
    entries.reserve(_entries.size());
    for (const auto& [name, entry] : _entries) {
        if (entry.user.dialect != Dialect::Peerchat) entries.push_back(RosterEntry{name, entry.user.endpoint});
    }
    return entries;
}

OnlineUser Directory::remove(Entries::iterator it)
{
    Entry& entry = it->second;
    forgetHeard(entry);
    endSession(entry);
    _nameAt.erase(entry.user.endpoint);
    OnlineUser user = std::move(entry.user);
    _entries.erase(it);
    ++_version;
    return user;
}

void Directory::setSession(Entries::iterator it, std::optional<PeerSession> session)
{
    Entry& entry = it->second;
    endSession(entry);
    entry.user.presenceSeq = 0;
    if (!session) {
        entry.user.keys.reset();
        return;
    }
    entry.user.keys = session->keys;
    _holders[idNumber(session->cipher.remoteId())] = &it->first;
    entry.cipher.emplace(std::move(session->cipher));
}

void Directory::endSession(Entry& entry)
{
    if (!entry.cipher) return;
    const std::uint64_t id = idNumber(entry.cipher->remoteId());
    entry.cipher.reset();
    _holders.erase(id);
    if (!_retired.insert(id).second) return;
    _retiredOrder.push_back(id);
    if (_retiredOrder.size() > kMaxRetiredKeys) {
        _retired.erase(_retiredOrder.front());
        _retiredOrder.pop_front();
    }
}

const std::string* Directory::holderOf(const PublicKey& kx) const
{
    return holderOfKeyId(KxKeyPair::idOf(kx));
}

const std::string* Directory::holderOfKeyId(const KeyId& id) const
{
    const auto it = _holders.find(idNumber(id));
    return it == _holders.end() ? nullptr : it->second;
}

bool Directory::isRetired(const PublicKey& kx) const
{
    return _retired.count(idNumber(KxKeyPair::idOf(kx))) > 0;
}

void Directory::markHeard(Entries::iterator it, TimePoint now)
{
    Entry& entry = it->second;
    if (entry.heard) {
        (*entry.heard)->at = now;
        _silence.splice(_silence.end(), _silence, *entry.heard);
        return;
    }
    entry.heard = _silence.insert(_silence.end(), Heard{&it->first, now});
}

void Directory::forgetHeard(Entry& entry)
{
    if (!entry.heard) return;
    _silence.erase(*entry.heard);
    entry.heard.reset();
}

} // namespace peerchat
