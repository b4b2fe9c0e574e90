#pragma once

#include "Directory.h"
#include "Protocol.h"
#include "RateLimiter.h"

#include <cstddef>
#include <string>

namespace peerchat {

/// What the Introducer made of a punch.
struct Introduction
{
    enum class Kind
    {
        Introduced,     ///< send toRequester and toPeer
        PeerOffline,    ///< no such user online
        PeerLegacy,     ///< the peer is a seed or .NET user, who cannot punch
        Self,           ///< the requester named itself
        RequesterBusy,  ///< the requester punched more than its rate allows
        PairTooSoon     ///< these two were introduced less than a second ago
    };
    Kind kind = Kind::PeerOffline;
    Meet toRequester;  ///< `meet,PEER,CANDS_PEER` (Introduced only)
    Meet toPeer;       ///< `meet,REQUESTER,CANDS_REQUESTER` (Introduced only)
};

/// Decides what a sealed `punch,PEER` from a logged-in peerchat/3 user does:
/// when PEER is another peerchat/3 user online and the rate limits allow,
/// both are told to probe each other at once (meet), each given the other's
/// candidates. A punch is limited per requester (kRequesterRate a second,
/// kRequesterBurst at once) and per pair (one a second, whoever asks: both
/// sides were just told). Both meets go to logged-in users at their
/// registered endpoints, so an introduction sends no more than two sealed
/// datagrams per authenticated punch and nothing to anyone else. A pure
/// state class: callers pass the time and send the meets.
class Introducer
{
public:
    using TimePoint = RateLimiter::TimePoint;

    /// A peerd punches once for a peer it has no path to and again when
    /// probing failed; a burst of 4 lets it open conversations with a few
    /// peers at once (a new login with lines waiting), and 0.8 a second (8
    /// every 10 s) lets it keep re-punching a handful of peers whose paths
    /// keep dying, while a peerd that punches in a loop makes indexd send at
    /// most 1.6 meets a second.
    static constexpr double kRequesterRate = 0.8;
    static constexpr double kRequesterBurst = 4;
    /// Probes take a few round trips; a second introduction of the same two
    /// within a second would only repeat the first.
    static constexpr double kPairRate = 1;

    /// directory must outlive the Introducer; tableSize bounds the requesters
    /// and pairs whose rate is tracked (RateLimiter).
    Introducer(const Directory& directory, std::size_t tableSize);

    /// What requester's punch of peer at now does; takes the rate's tokens
    /// only for a punch of a peer that may be introduced.
    Introduction introduce(const std::string& requester, const std::string& peer, TimePoint now);

    /// The meet that tells someone to probe user: user's host candidates,
    /// then its registered endpoint as srflx, then its relay candidates.
    static Meet meetWith(const OnlineUser& user);

private:
    const Directory& _directory;
    RateLimiter _byRequester;
    RateLimiter _byPair;
};

} // namespace peerchat
