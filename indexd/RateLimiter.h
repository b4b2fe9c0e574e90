#pragma once

#include "CryptoTypes.h"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string_view>
#include <unordered_map>

namespace peerchat {

/// Token buckets by key: each key's bucket fills at `rate` tokens a second
/// (a fraction for rates slower than one a second) up to `burst`, and each
/// admit() takes one. indexd keys one by source address (unauthenticated
/// datagrams) and one by identity key or address (logins that are announced).
/// At most `tableSize` keys are tracked; a new one past that makes the table
/// forget the key it heard from longest ago, reusing its memory, so a flood
/// from many sources costs bounded memory and no allocation per datagram once
/// the table is full. A pure state class: callers pass the time.
class RateLimiter
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    /// The longest key told apart; longer keys are cut to it.
    static constexpr std::size_t kMaxKeyBytes = 32;

    /// rate: tokens a second; burst: the most a bucket holds (below 1, nothing is ever admitted).
    RateLimiter(double rate, double burst, std::size_t tableSize);

    /// Takes a token from key's bucket (key: an address's raw bytes, a
    /// public key) if it has one; true when it had.
    bool admit(std::string_view key, TimePoint now);

    /// The key of an identity key's bucket: its bytes.
    static std::string_view keyOf(const PublicKey& key)
    {
        return std::string_view(reinterpret_cast<const char*>(key.data()), key.size());
    }

    /// Keys tracked now.
    std::size_t size() const { return _buckets.size(); }

    /// Tokens a key gets a second, and the most it can spend at once.
    double rate() const { return _rate; }
    double burst() const { return _burst; }

private:
    /// A key's bytes and their hash, made once per admit(): the table
    /// compares and rehashes keys without hashing their bytes again.
    struct Key
    {
        std::array<char, kMaxKeyBytes> bytes{};
        std::size_t length = 0;
        std::size_t hash = 0;

        bool operator==(const Key& other) const { return view() == other.view(); }
        std::string_view view() const { return std::string_view(bytes.data(), length); }
    };
    struct KeyHash
    {
        std::size_t operator()(const Key& key) const noexcept { return key.hash; }
    };
    struct Bucket
    {
        double tokens = 0;
        TimePoint filledAt;
        std::list<Key>::iterator idle;  ///< its place in _byIdle
    };
    using Buckets = std::unordered_map<Key, Bucket, KeyHash>;

    /// key's bucket, made (full) when the table has none.
    Bucket& bucketFor(const Key& key, TimePoint now);

    double _rate;
    double _burst;
    std::size_t _tableSize;
    Buckets _buckets;
    /// Keys, the one heard from longest ago first.
    std::list<Key> _byIdle;
};

} // namespace peerchat
