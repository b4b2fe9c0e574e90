#include "Introducer.h"

#include <algorithm>
#include <cstring>

namespace peerchat {

namespace {

// The rate limit's key for the pair a and b, the same whoever asks: the
// first half of each identity key (RateLimiter keeps 32 bytes), the lower
// first. Identity keys rather than names: names are longer than the key
// keeps, and a name's key does not change with its logins.
std::string_view pairKey(const PeerKeys& a, const PeerKeys& b, std::array<char, RateLimiter::kMaxKeyBytes>& buffer)
{
    constexpr std::size_t half = RateLimiter::kMaxKeyBytes / 2;
    const bool aFirst = std::lexicographical_compare(a.identity.begin(), a.identity.begin() + half,
                                                     b.identity.begin(), b.identity.begin() + half);
    const PublicKey& first = aFirst ? a.identity : b.identity;
    const PublicKey& second = aFirst ? b.identity : a.identity;
    std::memcpy(buffer.data(), first.data(), half);
    std::memcpy(buffer.data() + half, second.data(), half);
    return std::string_view(buffer.data(), buffer.size());
}

} // namespace

Introducer::Introducer(const Directory& directory, std::size_t tableSize)
    : _directory(directory),
      _byRequester(kRequesterRate, kRequesterBurst, tableSize),
      _byPair(kPairRate, 1, tableSize)
{
}

Introduction Introducer::introduce(const std::string& requester, const std::string& peer, TimePoint now)
{
    Introduction outcome;
    const OnlineUser* from = _directory.find(requester);
    const OnlineUser* to = _directory.find(peer);
    if (!from || !from->keys || !to) return outcome;
    if (!to->keys) {
        outcome.kind = Introduction::Kind::PeerLegacy;
        return outcome;
    }
    if (from == to) {
        outcome.kind = Introduction::Kind::Self;
        return outcome;
    }
    if (!_byRequester.admit(RateLimiter::keyOf(from->keys->identity), now)) {
        outcome.kind = Introduction::Kind::RequesterBusy;
        return outcome;
    }
    std::array<char, RateLimiter::kMaxKeyBytes> buffer{};
    if (!_byPair.admit(pairKey(*from->keys, *to->keys, buffer), now)) {
        outcome.kind = Introduction::Kind::PairTooSoon;
        return outcome;
    }
    outcome.kind = Introduction::Kind::Introduced;
    outcome.toRequester = meetWith(*to);
    outcome.toPeer = meetWith(*from);
    return outcome;
}

Meet Introducer::meetWith(const OnlineUser& user)
{
    Meet meet{user.name, {}};
    meet.candidates.reserve(user.candidates.size() + 1);
    for (const Candidate& candidate : user.candidates) {
        if (candidate.kind == CandidateKind::Host) meet.candidates.push_back(candidate);
    }
    meet.candidates.push_back(Candidate{CandidateKind::Reflexive, user.endpoint});
    for (const Candidate& candidate : user.candidates) {
        if (candidate.kind == CandidateKind::Relay) meet.candidates.push_back(candidate);
    }
    return meet;
}

} // namespace peerchat
