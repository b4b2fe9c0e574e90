#pragma once

#include "Endpoint.h"
#include "StunMessage.h"
#include "TurnCredentials.h"

#include <cstdint>
#include <optional>
#include <string>

namespace peerchat::test {

/// A TURN server's side for unit tests: the answers a real server (coturn)
/// gives to a client's requests, signed with the long-term key it derives
/// from the credential, for a test to hand to the client under test.
class TurnServerScript
{
public:
    TurnServerScript(const TurnCredentials& credentials, std::string realm, Endpoint relayed, Endpoint mapped);

    /// The long-term key (MD5 of username:realm:password) answers are signed with.
    const std::string& key() const { return _key; }
    const std::string& realm() const { return _realm; }

    /// Decodes bytes a client sent as a request; fails the test otherwise.
    static StunMessage request(const std::string& bytes);
    /// The error answer to request, unsigned: a test adds to it and signs it.
    static StunMessage errorTo(const StunMessage& request, int code, const std::string& reason);

    /// 401 with the realm and nonce, unsigned, as a server answers a request without credentials.
    std::string unauthorized(const StunMessage& request, const std::string& nonce) const;
    /// Allocate's success: the relayed and mapped endpoints and lifetime (seconds).
    std::string allocated(const StunMessage& request, std::uint32_t lifetime) const;
    /// Success for any other request, with a LIFETIME when given.
    std::string success(const StunMessage& request, std::optional<std::uint32_t> lifetime = std::nullopt) const;

private:
    std::string _realm;
    std::string _key;
    Endpoint _relayed;
    Endpoint _mapped;
};

} // namespace peerchat::test
