#pragma once

#include <chrono>
#include <string>

namespace peerchat {

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

    /// Credentials for name valid until expiry, under the secret coturn was given.
    static TurnCredentials mint(const std::string& secret, const std::string& name,
                                std::chrono::system_clock::time_point expiry);
};

} // namespace peerchat
