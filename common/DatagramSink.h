#pragma once

#include "Endpoint.h"

#include <string_view>

namespace peerchat {

/// Where a handler writes datagrams. UdpChannel is the real one; tests
/// substitute one that records.
class DatagramSink
{
public:
    virtual ~DatagramSink() = default;

    /// Sends bytes as one datagram to to. Never throws: a datagram that cannot
    /// be sent is dropped (UDP is lossy anyway) and counted by the sink.
    virtual void sendTo(std::string_view bytes, const Endpoint& to) = 0;
};

} // namespace peerchat
