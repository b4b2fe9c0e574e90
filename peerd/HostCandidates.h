#pragma once

#include "Candidate.h"
#include "Endpoint.h"

#include <vector>

namespace peerchat {

/// This machine's host candidates for a UDP socket bound to bound: the
/// addresses of its interfaces that are up, with the socket's port (IPv4,
/// and IPv6 where the socket is IPv6), as ICE gathers them: no loopback and
/// no link-local address (RFC 8445 5.1.1.1), as those never reach another
/// machine. A socket bound to one address has that one only.
class HostCandidates
{
public:
    static std::vector<Candidate> of(const Endpoint& bound);
};

} // namespace peerchat
