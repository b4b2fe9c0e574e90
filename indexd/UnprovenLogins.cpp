#include "UnprovenLogins.h"

#include <algorithm>

namespace peerchat {

UnprovenLogins::UnprovenLogins(std::size_t capacity) : _capacity(std::max<std::size_t>(capacity, 1)) {}

std::string UnprovenLogins::addressKey(const Poco::Net::IPAddress& address)
{
    return std::string(static_cast<const char*>(address.addr()), address.length());
}

void UnprovenLogins::hold(const OnlineUser& user, TimePoint now)
{
    forget(user.name);
    if (_byAge.size() >= _capacity) take(_byAge.begin());
    const std::uint64_t order = ++_arrivals;
    _byAge.emplace(order, Held{user, now});
    _byName.emplace(user.name, order);
    _byAddress.emplace(addressKey(user.loginSource), order);
}

const OnlineUser* UnprovenLogins::find(const std::string& name) const
{
    auto it = _byName.find(name);
    return it == _byName.end() ? nullptr : &_byAge.at(it->second).user;
}

std::optional<OnlineUser> UnprovenLogins::prove(const Poco::Net::IPAddress& address)
{
    const std::string key = addressKey(address);
    auto oldest = _byAddress.lower_bound(AddressOrder{key, 0});
    if (oldest == _byAddress.end() || oldest->first != key) return std::nullopt;
    return take(_byAge.find(oldest->second));
}

void UnprovenLogins::forget(const std::string& name)
{
    if (auto it = _byName.find(name); it != _byName.end()) take(_byAge.find(it->second));
}

std::vector<OnlineUser> UnprovenLogins::expireHeldBefore(TimePoint cutoff)
{
    std::vector<OnlineUser> expired;
    while (!_byAge.empty() && _byAge.begin()->second.at <= cutoff) expired.push_back(take(_byAge.begin()));
    return expired;
}

OnlineUser UnprovenLogins::take(std::map<std::uint64_t, Held>::iterator it)
{
    OnlineUser user = std::move(it->second.user);
    _byName.erase(user.name);
    _byAddress.erase(AddressOrder{addressKey(user.loginSource), it->first});
    _byAge.erase(it);
    return user;
}

} // namespace peerchat
