#pragma once

#include "Endpoint.h"
#include "Parsed.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

/// Where a peer may be reached (after ICE, RFC 8445): on one of its own
/// interfaces (host), at the endpoint its NAT maps it to as indexd sees it
/// (srflx, server-reflexive), or at an address a TURN server relays to it
/// (relay). In this order a path to it is preferred: a shared LAN first.
enum class CandidateKind : std::uint8_t { Host, Reflexive, Relay };

struct Candidate
{
    CandidateKind kind = CandidateKind::Host;
    Endpoint endpoint;

    bool operator==(const Candidate& other) const { return kind == other.kind && endpoint == other.endpoint; }
};

/// The candidates field of alive and meet: `KIND=ENDPOINT` joined by ';'
/// (KIND host, srflx or relay; `host=10.0.1.2:5001;srflx=198.18.0.11:5001`),
/// or `-` for none. At most kMaxCandidates.
class CandidateList
{
public:
    static constexpr std::size_t kMaxCandidates = 8;

    static Parsed<std::vector<Candidate>> parse(std::string_view text);
    static std::string format(const std::vector<Candidate>& candidates);

    /// The token of a kind on the wire ("host", "srflx", "relay").
    static std::string_view kindToken(CandidateKind kind);
};

} // namespace peerchat
