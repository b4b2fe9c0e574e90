#pragma once

#include <Poco/Net/StreamSocket.h>

#include <string>

namespace peerchat::test {

/// A TCP socket bound to bindHost (any port) with the smallest receive buffer
/// and segment size Linux allows, not yet connected. A server can put only a
/// few tens of kilobytes in flight to it (on loopback a plain socket takes
/// megabytes before its sender blocks), so a client that connects it and
/// never reads holds its connection open against a roster of a few hundred
/// users.
Poco::Net::StreamSocket smallWindowSocket(const std::string& bindHost);

} // namespace peerchat::test
