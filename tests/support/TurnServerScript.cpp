#include "TurnServerScript.h"

#include <cppunit/TestAssert.h>

#include <utility>

namespace peerchat::test {

using Attribute = StunMessage::Attribute;
using Kind = StunMessage::Kind;

TurnServerScript::TurnServerScript(const TurnCredentials& credentials, std::string realm, Endpoint relayed,
                                   Endpoint mapped)
    : _realm(std::move(realm)),
      _key(StunMessage::longTermKey(credentials.username, _realm, credentials.password)),
      _relayed(std::move(relayed)),
      _mapped(std::move(mapped))
{
}

StunMessage TurnServerScript::request(const std::string& bytes)
{
    const auto decoded = StunMessage::decode(bytes);
    CPPUNIT_ASSERT_MESSAGE(decoded.error(), decoded.ok());
    CPPUNIT_ASSERT(decoded->kind() == Kind::Request);
    return *decoded;
}

StunMessage TurnServerScript::errorTo(const StunMessage& request, int code, const std::string& reason)
{
    StunMessage answer(request.method(), Kind::Error, request.transaction());
    answer.addAttribute(Attribute::ErrorCode,
                        std::string{0, 0, static_cast<char>(code / 100), static_cast<char>(code % 100)} + reason);
    return answer;
}

std::string TurnServerScript::unauthorized(const StunMessage& request, const std::string& nonce) const
{
    StunMessage answer = errorTo(request, 401, "Unauthorized");
    answer.addString(Attribute::Realm, _realm);
    answer.addString(Attribute::Nonce, nonce);
    return answer.encode(nullptr, true);
}

std::string TurnServerScript::allocated(const StunMessage& request, std::uint32_t lifetime) const
{
    StunMessage answer(StunMessage::Method::Allocate, Kind::Success, request.transaction());
    answer.addXorAddress(Attribute::XorRelayedAddress, _relayed);
    answer.addXorAddress(Attribute::XorMappedAddress, _mapped);
    answer.addUint32(Attribute::Lifetime, lifetime);
    return answer.encode(&_key, true);
}

std::string TurnServerScript::success(const StunMessage& request, std::optional<std::uint32_t> lifetime) const
{
    StunMessage answer(request.method(), Kind::Success, request.transaction());
    if (lifetime) answer.addUint32(Attribute::Lifetime, *lifetime);
    return answer.encode(&_key, true);
}

} // namespace peerchat::test
