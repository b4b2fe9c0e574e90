#include "Directory.h"

namespace peerchat {

LoginOutcome Directory::login(const std::string& name, const Endpoint& endpoint, Dialect dialect,
                              const Poco::Net::IPAddress& loginSource, TimePoint now)
{
    LoginOutcome outcome;
    if (auto it = _byName.find(name); it != _byName.end()) {
        if (it->second.endpoint != endpoint) {
            outcome.kind = LoginOutcome::Kind::Taken;
            return outcome;
        }
        if (it->second.dialect != dialect || it->second.loginSource != loginSource) {
            it->second.dialect = dialect;
            it->second.loginSource = loginSource;
            ++_version;
        }
        if (dialect == Dialect::Peerchat) markHeard(name, now);
        else forgetHeard(name);
        outcome.kind = LoginOutcome::Kind::AlreadyHere;
        return outcome;
    }
    if (auto held = _nameAt.find(endpoint); held != _nameAt.end()) {
        outcome.displaced = remove(_byName.find(held->second));
        outcome.displacedSeq = ++_presenceSeq;
    }
    _byName.emplace(name, OnlineUser{name, endpoint, dialect, loginSource});
    _nameAt.emplace(endpoint, name);
    if (dialect == Dialect::Peerchat) markHeard(name, now);
    ++_version;
    outcome.kind = LoginOutcome::Kind::Registered;
    outcome.seq = ++_presenceSeq;
    return outcome;
}

LogoutOutcome Directory::logout(const std::string& name, const Endpoint& writtenEndpoint, const Endpoint& source)
{
    LogoutOutcome outcome;
    auto it = _byName.find(name);
    if (it == _byName.end()) {
        outcome.kind = LogoutOutcome::Kind::NotOnline;
        return outcome;
    }
    const OnlineUser& user = it->second;
    // The .NET program sends from throwaway sockets, so only its address and
    // the endpoint it wrote can identify it; everyone else has one socket.
    const bool fromOwner = user.dialect == Dialect::DotNet
                               ? source.host() == user.loginSource && writtenEndpoint == user.endpoint
                               : source == user.endpoint;
    if (!fromOwner) {
        outcome.kind = LogoutOutcome::Kind::WrongSource;
        outcome.user = user;
        return outcome;
    }
    outcome.kind = LogoutOutcome::Kind::LoggedOut;
    outcome.user = remove(it);
    outcome.seq = ++_presenceSeq;
    return outcome;
}

bool Directory::heardFrom(const std::string& name, const Endpoint& source, TimePoint now)
{
    auto it = _byName.find(name);
    if (it == _byName.end() || it->second.dialect != Dialect::Peerchat || it->second.endpoint != source) return false;
    markHeard(name, now);
    return true;
}

std::vector<Expiry> Directory::expireHeardBefore(TimePoint cutoff)
{
    std::vector<Expiry> expired;
    while (!_silence.empty() && _silence.front().at <= cutoff) {
        OnlineUser user = remove(_byName.find(_silence.front().name));
        expired.push_back(Expiry{std::move(user), ++_presenceSeq});
    }
    return expired;
}

const OnlineUser* Directory::find(const std::string& name) const
{
    auto it = _byName.find(name);
    return it == _byName.end() ? nullptr : &it->second;
}

std::vector<RosterEntry> Directory::snapshot() const
{
    std::vector<RosterEntry> entries;
    entries.reserve(_byName.size());
    for (const auto& [name, user] : _byName)
        entries.push_back(RosterEntry{name, user.endpoint, std::string(dialectToken(user.dialect))});
    return entries;
}

OnlineUser Directory::remove(Users::iterator it)
{
    OnlineUser user = std::move(it->second);
    forgetHeard(user.name);
    _nameAt.erase(user.endpoint);
    _byName.erase(it);
    ++_version;
    return user;
}

void Directory::markHeard(const std::string& name, TimePoint now)
{
    if (auto it = _heard.find(name); it != _heard.end()) {
        it->second->at = now;
        _silence.splice(_silence.end(), _silence, it->second);
        return;
    }
    _heard.emplace(name, _silence.insert(_silence.end(), Heard{name, now}));
}

void Directory::forgetHeard(const std::string& name)
{
    auto it = _heard.find(name);
    if (it == _heard.end()) return;
    _silence.erase(it->second);
    _heard.erase(it);
}

} // namespace peerchat
