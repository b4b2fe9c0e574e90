#pragma once

#include <Poco/Net/IPAddress.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

namespace peerchat {

/// How many unauthenticated datagrams indexd takes from each source address:
/// a token bucket per address that fills at `rate` per second up to twice
/// that, each datagram taking one token. At most `tableSize` addresses are
/// tracked; a new one past that makes the table forget the address it heard
/// from longest ago, so a flood from many addresses costs bounded memory. A
/// pure state class: callers pass the time.
class RateLimiter
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    /// What admit() decided.
    enum class Verdict
    {
        Admitted,  ///< take the datagram
        Dropped,   ///< over the rate: drop it quietly
        Reported   ///< over the rate: drop it, and log it (the first drop for this address in a second)
    };

    RateLimiter(std::uint64_t rate, std::size_t tableSize);

    /// Takes a token from address's bucket if it has one.
    Verdict admit(const Poco::Net::IPAddress& address, TimePoint now);

    /// Addresses tracked now.
    std::size_t size() const { return _buckets.size(); }

    /// Datagrams per second each address may send, and in a burst.
    std::uint64_t rate() const { return _rate; }
    std::uint64_t burst() const { return 2 * _rate; }

private:
    struct Bucket
    {
        double tokens = 0;
        TimePoint filledAt;
        TimePoint reportedAt;
        bool reported = false;
        std::list<std::string>::iterator idle;  ///< its place in _byIdle
    };

    std::uint64_t _rate;
    std::size_t _tableSize;
    /// Keyed by the address's raw bytes.
    std::unordered_map<std::string, Bucket> _buckets;
    /// Addresses, the one heard from longest ago first.
    std::list<std::string> _byIdle;
};

} // namespace peerchat
