#include "RosterSlots.h"

namespace peerchat {

RosterSlots::RosterSlots(std::size_t total, std::size_t perAddress, std::chrono::milliseconds stallAfter)
    : _total(total), _perAddress(perAddress), _stallAfter(stallAfter)
{
}

bool RosterSlots::addressFull(const Poco::Net::IPAddress& address) const
{
    const auto it = _perAddressHeld.find(address);
    return it != _perAddressHeld.end() && it->second >= _perAddress;
}

void RosterSlots::take(Id id, const Poco::Net::IPAddress& address, TimePoint now)
{
    const auto idle = _byIdle.insert(_byIdle.end(), id);
    _holders.emplace(id, Holder{address, now, idle});
    ++_perAddressHeld[address];
}

void RosterSlots::progressed(Id id, TimePoint now)
{
    const auto it = _holders.find(id);
    if (it == _holders.end()) return;
    it->second.lastProgress = now;
    _byIdle.splice(_byIdle.end(), _byIdle, it->second.idle);
}

void RosterSlots::release(Id id)
{
    const auto it = _holders.find(id);
    if (it == _holders.end()) return;
    const auto held = _perAddressHeld.find(it->second.address);
    if (--held->second == 0) _perAddressHeld.erase(held);
    _byIdle.erase(it->second.idle);
    _holders.erase(it);
}

std::optional<RosterSlots::Id> RosterSlots::longestStalled(TimePoint now) const
{
    const std::optional<TimePoint> stall = nextStall();
    if (!stall || *stall > now) return std::nullopt;
    return _byIdle.front();
}

std::optional<RosterSlots::TimePoint> RosterSlots::nextStall() const
{
    if (_byIdle.empty()) return std::nullopt;
    return _holders.at(_byIdle.front()).lastProgress + _stallAfter;
}

} // namespace peerchat
