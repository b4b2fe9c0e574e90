#include "Directory.h"

namespace peerchat {

LoginOutcome Directory::login(const std::string& name, const Endpoint& endpoint, Dialect dialect,
                              const Poco::Net::IPAddress& loginSource)
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
        outcome.kind = LoginOutcome::Kind::AlreadyHere;
        return outcome;
    }
    if (auto held = _nameAt.find(endpoint); held != _nameAt.end())
        outcome.displaced = remove(_byName.find(held->second));
    _byName.emplace(name, OnlineUser{name, endpoint, dialect, loginSource});
    _nameAt.emplace(endpoint, name);
    ++_version;
    outcome.kind = LoginOutcome::Kind::Registered;
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
    return outcome;
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
    _nameAt.erase(user.endpoint);
    _byName.erase(it);
    ++_version;
    return user;
}

} // namespace peerchat
