#pragma once

#include "CryptoTypes.h"
#include "Endpoint.h"
#include "LockedSecret.h"
#include "Parsed.h"

#include <array>
#include <cstdint>
#include <string>

namespace peerchat {

/// indexd's login challenges, kept without any state per request (like TCP
/// SYN cookies), so a flood of hellos costs indexd no memory. A nonce is an
/// 8-byte stamp (milliseconds, little-endian, strictly increasing within one
/// LoginCookie) followed by the first 16 bytes of HMAC-SHA-256
/// (crypto_auth_hmacsha256) under a random secret drawn at construction (and
/// kept in locked memory, see LockedSecret), over
/// the stamp, the name and the observed endpoint. Only this indexd run can
/// make one, and only for that name at that address.
class LoginCookie
{
public:
    LoginCookie();
    LoginCookie(const LoginCookie&) = delete;
    LoginCookie& operator=(const LoginCookie&) = delete;

    /// A fresh nonce for name seen at observed; nowMs is the wall clock in ms.
    Nonce issue(const std::string& name, const Endpoint& observed, std::uint64_t nowMs);

    /// The stamp of nonce when this cookie issued it for name at observed at
    /// most maxAgeMs before nowMs; otherwise why not ("not issued here",
    /// "expired").
    Parsed<std::uint64_t> check(const Nonce& nonce, const std::string& name, const Endpoint& observed,
                                std::uint64_t nowMs, std::uint64_t maxAgeMs) const;

private:
    LockedSecret<std::array<std::uint8_t, 32>> _secret;
    std::uint64_t _lastStamp = 0;
};

} // namespace peerchat
