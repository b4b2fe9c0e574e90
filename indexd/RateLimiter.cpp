#include "RateLimiter.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace peerchat {

RateLimiter::RateLimiter(double rate, double burst, std::size_t tableSize)
    : _rate(rate), _burst(burst), _tableSize(std::max<std::size_t>(tableSize, 1))
{
}

bool RateLimiter::admit(std::string_view key, TimePoint now)
{
    Key wanted;
    wanted.length = std::min(key.size(), kMaxKeyBytes);
    std::memcpy(wanted.bytes.data(), key.data(), wanted.length);
    wanted.hash = std::hash<std::string_view>()(wanted.view());
    Bucket& bucket = bucketFor(wanted, now);
    // Times never go backwards for the caller, but a clock that did must not drain the bucket.
    if (now > bucket.filledAt) {
        const double elapsed = std::chrono::duration<double>(now - bucket.filledAt).count();
        bucket.tokens = std::min(_burst, bucket.tokens + elapsed * _rate);
        bucket.filledAt = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
}

RateLimiter::Bucket& RateLimiter::bucketFor(const Key& key, TimePoint now)
{
    if (auto it = _buckets.find(key); it != _buckets.end()) {
        _byIdle.splice(_byIdle.end(), _byIdle, it->second.idle);
        return it->second;
    }
    const Bucket fresh{_burst, now, {}};
    if (_buckets.size() < _tableSize) {
        auto idle = _byIdle.insert(_byIdle.end(), key);
        auto it = _buckets.emplace(key, fresh).first;
        it->second.idle = idle;
        return it->second;
    }
    // Full: the longest idle key's table node and list node become the new key's.
    auto node = _buckets.extract(_byIdle.front());
    _byIdle.splice(_byIdle.end(), _byIdle, _byIdle.begin());
    _byIdle.back() = key;
    node.key() = key;
    node.mapped() = fresh;
    node.mapped().idle = std::prev(_byIdle.end());
    return _buckets.insert(std::move(node)).position->second;
}

} // namespace peerchat
