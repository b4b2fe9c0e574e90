#pragma once

#include "IndexIdentity.h"
#include "Protocol.h"
#include "SignedStatement.h"
#include "SigningKey.h"

#include <cppunit/TestAssert.h>

#include <optional>
#include <string>

namespace peerchat::test {

/// The presence announcement (login or logout) in datagram, after asserting
/// that it decodes and carries index's signature for index's epoch.
inline Message verifiedPresence(const std::string& datagram, const IndexIdentity& index)
{
    const auto message = Protocol::decode(datagram);
    CPPUNIT_ASSERT_MESSAGE(datagram, message.ok());
    std::optional<Signature> sig;
    if (const auto* login = std::get_if<Login>(&*message)) sig = login->sig;
    if (const auto* logout = std::get_if<Logout>(&*message)) sig = logout->sig;
    CPPUNIT_ASSERT_MESSAGE(datagram, sig.has_value());
    CPPUNIT_ASSERT_MESSAGE(datagram, SigningKey::verify(index.publicKey(),
                                                        SignedStatement::presence(*message, index.epoch()), *sig));
    return *message;
}

} // namespace peerchat::test
