#include "HostCandidates.h"

#include <Poco/Net/NetworkInterface.h>

#include <algorithm>

namespace peerchat {

namespace {

bool reachesOtherMachines(const Poco::Net::IPAddress& address)
{
    return !address.isLoopback() && !address.isLinkLocal() && !address.isWildcard() && !address.isMulticast();
}

} // namespace

std::vector<Candidate> HostCandidates::of(const Endpoint& bound)
{
    std::vector<Candidate> candidates;
    const auto add = [&](const Poco::Net::IPAddress& address) {
        if (!reachesOtherMachines(address) || candidates.size() == CandidateList::kMaxCandidates) return;
        const Candidate candidate{CandidateKind::Host, Endpoint(Poco::Net::SocketAddress(address, bound.port()))};
        if (std::find(candidates.begin(), candidates.end(), candidate) == candidates.end())
            candidates.push_back(candidate);
    };
    if (!bound.host().isWildcard()) {
        add(bound.host());
        return candidates;
    }
    const bool ipv6 = bound.host().family() == Poco::Net::AddressFamily::IPv6;
    for (const Poco::Net::NetworkInterface& interface : Poco::Net::NetworkInterface::list(true, true)) {
        for (const auto& entry : interface.addressList()) {
            const Poco::Net::IPAddress& address = entry.get<Poco::Net::NetworkInterface::IP_ADDRESS>();
            // An IPv4 socket cannot send to IPv6 addresses; an IPv6 one (dual stack) can send to both.
            if (address.family() == Poco::Net::AddressFamily::IPv6 && !ipv6) continue;
            add(address);
        }
    }
    return candidates;
}

} // namespace peerchat
