#pragma once

#include "CryptoTypes.h"
#include "Endpoint.h"
#include "Parsed.h"
#include "Protocol.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

/// The nonce peerd draws for one fetch of the peerchat roster: indexd signs
/// the roster it writes on that connection over it, so no earlier roster
/// passes for this one.
using RosterNonce = std::array<std::uint8_t, 24>;

/// BLAKE2b-256 of a peerchat roster's signed part (RosterTrailer::signedPart).
using RosterDigest = std::array<std::uint8_t, 32>;

/// What peerd writes first on a peerchat roster connection: `roster,NONCE\n`.
struct RosterRequest
{
    RosterNonce nonce{};
};

/// One online user as the roster lists it. `dialect` is the dialect token
/// ("seed", "dotnet", "peerchat/3") in the peerchat format, empty otherwise;
/// `keys` the user's keys in the peerchat format (absent for seed and .NET
/// users, and in the other formats).
struct RosterEntry
{
    std::string name;
    Endpoint endpoint;
    std::string dialect;
    std::optional<PeerKeys> keys{};
};

/// What follows the entries of a peerchat roster: `end,SEQ,SIG`.
struct RosterTrailer
{
    std::uint64_t seq = 0;            ///< indexd's presence sequence number (0: none yet)
    std::optional<Signature> sig;     ///< indexd's signature over SignedStatement::roster
    std::string signedPart;           ///< the stream up to and including `end,SEQ`: what SIG covers (by its digest)
};

/// The three ways indexd frames the roster on its TCP ports.
enum class RosterFormat
{
    SeedText,  ///< `name1,ep1;name2,ep2;...;end` in UTF-8
    DotNet,    ///< the same text as one .NET BinaryReader string: 7-bit varint length, UTF-8 bytes
    Peerchat   ///< `name1,ep1,dialect1,IDPK,KXPK,KXSIG;...;end,SEQ,SIG` in UTF-8 (keys `-,-,-` for users without)
};

/// The roster codec: the whole stream indexd writes before it closes.
class RosterCodec
{
public:
    /// Largest roster stream a reader accepts.
    static constexpr std::size_t kMaxStreamBytes = 16 * 1024 * 1024;
    /// Largest request line indexd reads, its '\n' included (one is 40 bytes).
    static constexpr std::size_t kMaxRequestBytes = 64;

    /// `roster,NONCE\n`, NONCE in base64url.
    static std::string encodeRequest(const RosterRequest& request);

    /// Parses a request line without its '\n'; refuses anything but `roster,NONCE`.
    static Parsed<RosterRequest> decodeRequest(std::string_view line);

    /// The digest indexd signs in place of the signed part (SignedStatement::roster).
    static RosterDigest digest(std::string_view signedPart);

    /// The stream of a roster. In the Peerchat format this is the signed
    /// part, ending `end,SEQ` (SEQ written also when 0); the writer appends the
    /// signature with withSignature().
    static std::string encode(const std::vector<RosterEntry>& entries, RosterFormat format,
                              std::uint64_t presenceSeq = 0);

    /// A Peerchat stream's signed part followed by `,SIG`.
    static std::string withSignature(std::string signedPart, const Signature& sig);

    /// Parses a complete stream; refuses truncated or malformed ones. In the
    /// Peerchat format, trailer (when given) receives SEQ, SIG and the signed
    /// part (`end` alone and `end,SEQ` parse, without a signature: the
    /// caller decides whether it needs one).
    static Parsed<std::vector<RosterEntry>> decode(std::string_view stream, RosterFormat format,
                                                   RosterTrailer* trailer = nullptr);
};

} // namespace peerchat
