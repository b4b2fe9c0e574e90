#include "RateLimiter.h"

#include <algorithm>

namespace peerchat {

namespace {

constexpr std::chrono::seconds kReportEvery{1};

} // namespace

RateLimiter::RateLimiter(std::uint64_t rate, std::size_t tableSize)
    : _rate(std::max<std::uint64_t>(rate, 1)), _tableSize(std::max<std::size_t>(tableSize, 1))
{
}

RateLimiter::Verdict RateLimiter::admit(const Poco::Net::IPAddress& address, TimePoint now)
{
    std::string key(static_cast<const char*>(address.addr()), address.length());
    auto it = _buckets.find(key);
    if (it == _buckets.end()) {
        if (_buckets.size() >= _tableSize) {
            _buckets.erase(_byIdle.front());
            _byIdle.pop_front();
        }
        Bucket fresh;
        fresh.tokens = static_cast<double>(burst());
        fresh.filledAt = now;
        fresh.idle = _byIdle.insert(_byIdle.end(), key);
        it = _buckets.emplace(std::move(key), fresh).first;
    } else {
        _byIdle.splice(_byIdle.end(), _byIdle, it->second.idle);
    }

    Bucket& bucket = it->second;
    // Times never go backwards for the caller, but a clock that did must not drain the bucket.
    if (now > bucket.filledAt) {
        const double elapsed = std::chrono::duration<double>(now - bucket.filledAt).count();
        bucket.tokens = std::min(static_cast<double>(burst()), bucket.tokens + elapsed * static_cast<double>(_rate));
        bucket.filledAt = now;
    }
    if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return Verdict::Admitted;
    }
    if (bucket.reported && now - bucket.reportedAt < kReportEvery) return Verdict::Dropped;
    bucket.reported = true;
    bucket.reportedAt = now;
    return Verdict::Reported;
}

} // namespace peerchat
