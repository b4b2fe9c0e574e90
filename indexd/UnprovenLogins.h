#pragma once

#include "Directory.h"

#include <Poco/Net/IPAddress.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace peerchat {

/// The seed and .NET logins indexd has answered but not yet put online: a
/// plain login proves nothing about where it came from (its source address
/// may be forged), so it waits here, answered with an Accept no longer than
/// itself, until a roster TCP connection comes from its address (which a
/// forger cannot make) or it is too old. Nobody hears of it meanwhile. A new
/// login of the same name replaces one that waits, so a forged login cannot
/// keep a name from its owner. A state class: no sockets, callers pass the
/// time.
class UnprovenLogins
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    /// At most capacity logins wait; one more makes the oldest be forgotten.
    explicit UnprovenLogins(std::size_t capacity);

    /// Holds user's login (its loginSource is the address that proves it)
    /// from now on, in place of any login of the same name that waits.
    void hold(const OnlineUser& user, TimePoint now);

    /// The login of name that waits, or nullptr.
    const OnlineUser* find(const std::string& name) const;

    /// Takes out the login a roster connection from address proves: the
    /// oldest of those from address; nullopt when none waits.
    std::optional<OnlineUser> prove(const Poco::Net::IPAddress& address);

    /// Takes out name's login, proven or not (it logged out before its proof).
    void forget(const std::string& name);

    /// Takes out every login held at or before cutoff, oldest first.
    std::vector<OnlineUser> expireHeldBefore(TimePoint cutoff);

    /// Logins waiting.
    std::size_t size() const { return _byAge.size(); }

private:
    struct Held
    {
        OnlineUser user;
        TimePoint at;
    };
    /// An address's raw bytes and a login's place in arrival order.
    using AddressOrder = std::pair<std::string, std::uint64_t>;

    static std::string addressKey(const Poco::Net::IPAddress& address);
    /// Takes out the login it points at from every index.
    OnlineUser take(std::map<std::uint64_t, Held>::iterator it);

    std::size_t _capacity;
    std::uint64_t _arrivals = 0;
    /// Every waiting login by arrival number: the oldest first.
    std::map<std::uint64_t, Held> _byAge;
    std::unordered_map<std::string, std::uint64_t> _byName;
    std::set<AddressOrder> _byAddress;
};

} // namespace peerchat
