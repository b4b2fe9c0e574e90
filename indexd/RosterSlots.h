#pragma once

#include <Poco/Net/IPAddress.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>

namespace peerchat {

/// Who holds the slots of one roster port: at most `total` connections served
/// at once, at most `perAddress` of them from one source address, and, for
/// each, when it last took some of its roster. A connection that has taken
/// nothing for `stallAfter` has stalled: when a new connection needs a slot
/// and none is free, the one stalled longest gives its slot up, so clients
/// that never read cannot keep readers out. A pure state class: callers pass
/// the time and do the socket work.
class RosterSlots
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    using Id = std::uint64_t;

    RosterSlots(std::size_t total, std::size_t perAddress, std::chrono::milliseconds stallAfter);

    /// True when every slot is held.
    bool full() const { return _holders.size() >= _total; }
    /// True when address holds as many slots as one address may.
    bool addressFull(const Poco::Net::IPAddress& address) const;

    /// Gives connection id, from address, a slot at now. The caller has made
    /// sure that neither full() nor addressFull(address) holds.
    void take(Id id, const Poco::Net::IPAddress& address, TimePoint now);
    /// Notes that connection id took some of its roster at now.
    void progressed(Id id, TimePoint now);
    /// Frees connection id's slot; nothing when it holds none.
    void release(Id id);

    /// The connection that has taken nothing for longest, when that is at
    /// least stallAfter as of now: the one to cut when a slot is needed.
    std::optional<Id> longestStalled(TimePoint now) const;
    /// When the connection that has taken nothing for longest will count as
    /// stalled; nullopt when no slot is held.
    std::optional<TimePoint> nextStall() const;

    /// Slots held now.
    std::size_t size() const { return _holders.size(); }

private:
    struct Holder
    {
        Poco::Net::IPAddress address;
        TimePoint lastProgress;
        std::list<Id>::iterator idle;  ///< its place in _byIdle
    };

    std::size_t _total;
    std::size_t _perAddress;
    std::chrono::milliseconds _stallAfter;
    std::unordered_map<Id, Holder> _holders;
    /// Holders, the one that took something longest ago first.
    std::list<Id> _byIdle;
    /// Slots held per source address, for the addresses that hold any.
    std::map<Poco::Net::IPAddress, std::size_t> _perAddressHeld;
};

} // namespace peerchat
