#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace peerchat {

/// The key of a TURN credential: HMAC-SHA1 of its username under the secret
/// indexd shares with the TURN server. Its standard base64 is the password.
using TurnKey = std::array<std::uint8_t, 20>;

/// Short-lived TURN credentials in coturn's REST-API form (coturn's
/// use-auth-secret / static-auth-secret, draft-uberti-behave-turn-rest):
/// the username is "EXPIRY:NAME" with EXPIRY in unix seconds, the password
/// standard base64 (with padding, not common/Base64's URL-safe form: coturn
/// compares the text) of HMAC-SHA1(secret, username). coturn computes the
/// same password from the shared secret and refuses the username once EXPIRY
/// has passed, so indexd can hand these out without telling coturn anything.
struct TurnCredentials
{
    std::string username;
    std::string password;

    /// The key of name's credential valid until expiry (unix seconds), under
    /// the secret coturn was given: what indexd hands out (Turn).
    static TurnKey key(std::string_view secret, const std::string& name, std::uint64_t expiry);
    /// The credential a key stands for: what peerd makes of a Turn.
    static TurnCredentials of(const std::string& name, std::uint64_t expiry, const TurnKey& key);
    /// Credentials for name valid until expiry, under the secret coturn was given.
    static TurnCredentials mint(std::string_view secret, const std::string& name,
                                std::chrono::system_clock::time_point expiry);
};

} // namespace peerchat
