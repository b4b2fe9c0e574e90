#include "LoginCookie.h"

#include "SigningKey.h"

#include <sodium.h>

#include <algorithm>

namespace peerchat {

namespace {

constexpr std::size_t kStampBytes = 8;
constexpr std::size_t kMacBytes = 16;
static_assert(kStampBytes + kMacBytes == std::tuple_size<Nonce>::value);

void putLittleEndian(std::uint64_t value, std::uint8_t* out)
{
    for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint64_t getLittleEndian(const std::uint8_t* in)
{
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>(in[i]) << (8 * i);
    return value;
}

// HMAC over the stamp, then each text after its length, so that no two
// (name, endpoint) pairs feed the same bytes.
std::array<std::uint8_t, crypto_auth_hmacsha256_BYTES> macOf(const std::array<std::uint8_t, 32>& secret,
                                                             const std::uint8_t* stamp, const std::string& name,
                                                             const std::string& observed)
{
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, secret.data(), secret.size());
    crypto_auth_hmacsha256_update(&state, stamp, kStampBytes);
    for (const std::string* text : {&name, &observed}) {
        std::uint8_t length[8];
        putLittleEndian(text->size(), length);
        crypto_auth_hmacsha256_update(&state, length, sizeof length);
        crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(text->data()), text->size());
    }
    std::array<std::uint8_t, crypto_auth_hmacsha256_BYTES> mac;
    crypto_auth_hmacsha256_final(&state, mac.data());
    sodium_memzero(&state, sizeof state);
    return mac;
}

} // namespace

LoginCookie::LoginCookie()
{
    Sodium::init();
    randombytes_buf(_secret->data(), _secret->size());
}

Nonce LoginCookie::issue(const std::string& name, const Endpoint& observed, std::uint64_t nowMs)
{
    // Strictly increasing, so indexd can refuse a nonce not newer than the last
    // one a name logged in with, even when the clock repeats or steps back.
    _lastStamp = std::max(nowMs, _lastStamp + 1);
    Nonce nonce;
    putLittleEndian(_lastStamp, nonce.data());
    const auto mac = macOf(*_secret, nonce.data(), name, observed.toString());
    std::copy_n(mac.begin(), kMacBytes, nonce.begin() + kStampBytes);
    return nonce;
}

Parsed<std::uint64_t> LoginCookie::check(const Nonce& nonce, const std::string& name, const Endpoint& observed,
                                         std::uint64_t nowMs, std::uint64_t maxAgeMs) const
{
    const auto mac = macOf(*_secret, nonce.data(), name, observed.toString());
    if (crypto_verify_16(mac.data(), nonce.data() + kStampBytes) != 0)
        return Parsed<std::uint64_t>::refuse("not issued here");
    const std::uint64_t stamp = getLittleEndian(nonce.data());
    // A stamp ahead of the clock is one of ours made after the clock stepped back: not old.
    if (stamp < nowMs && nowMs - stamp > maxAgeMs) return Parsed<std::uint64_t>::refuse("expired");
    return stamp;
}

} // namespace peerchat
