#include "RosterCodec.h"

#include "Base64.h"
#include "UserName.h"
#include "Utf8.h"

#include <sodium.h>

#include <charconv>
#include <unordered_set>

namespace peerchat {

namespace {

using Result = Parsed<std::vector<RosterEntry>>;

/// A field of an entry was refused; decodeText turns it into the refusal.
struct EntryRefusal
{
    std::string reason;
};

std::string_view trimLeadingSpaces(std::string_view s)
{
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return s;
}

/// The fields of one entry, split at every comma, leading spaces stripped.
std::vector<std::string_view> splitEntry(std::string_view entry)
{
    std::vector<std::string_view> fields;
    while (true) {
        const auto comma = entry.find(',');
        fields.push_back(trimLeadingSpaces(entry.substr(0, comma)));
        if (comma == std::string_view::npos) return fields;
        entry.remove_prefix(comma + 1);
    }
}

std::string keysText(const std::optional<PeerKeys>& keys)
{
    if (!keys) return "-,-,-";
    return Base64::encode(keys->identity) + "," + Base64::encode(keys->kx) + "," + Base64::encode(keys->kxSig);
}

template <std::size_t N>
std::array<std::uint8_t, N> binaryField(std::string_view text, const char* what)
{
    std::array<std::uint8_t, N> out{};
    if (!Base64::decodeInto(text, out))
        throw EntryRefusal{std::string("roster entry's ") + what + " must be " + std::to_string(N) + " bytes in base64url"};
    return out;
}

/// IDPK,KXPK,KXSIG, or `-,-,-` for a user without keys.
std::optional<PeerKeys> keysField(std::string_view identity, std::string_view kx, std::string_view kxSig)
{
    if (identity == "-" && kx == "-" && kxSig == "-") return std::nullopt;
    return PeerKeys{binaryField<32>(identity, "identity key"), binaryField<32>(kx, "key-exchange key"),
                    binaryField<64>(kxSig, "key-exchange signature")};
}

std::string encodeText(const std::vector<RosterEntry>& entries, bool peerchat, std::uint64_t presenceSeq = 0)
{
    std::string out;
    out.reserve(entries.size() * (peerchat ? 240 : 40) + 24);
    for (const auto& e : entries) {
        out += e.name;
        out += ',';
        out += e.endpoint.toString();
        if (peerchat) {
            out += ',';
            out += e.dialect;
            out += ',';
            out += keysText(e.keys);
        }
        out += ';';
    }
    out += "end";
    if (peerchat) out += "," + std::to_string(presenceSeq);
    return out;
}

/// A decimal number 0..kMaxSequence without a leading zero.
bool parseSequence(std::string_view digits, std::uint64_t& seq)
{
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
    return !digits.empty() && !(digits.front() == '0' && digits.size() > 1) && error == std::errc()
           && end == digits.data() + digits.size() && seq <= Protocol::kMaxSequence;
}

/// The peerchat trailer: `end`, `end,SEQ` or `end,SEQ,SIG`. wholeStream and
/// trailerAt say where the signed part ends.
Parsed<RosterTrailer> decodeTrailer(std::string_view trailer, std::string_view wholeStream, std::size_t trailerAt)
{
    using Trailer = Parsed<RosterTrailer>;
    RosterTrailer out;
    if (trailer == "end") {
        out.signedPart = std::string(wholeStream);
        return out;
    }
    if (trailer.substr(0, 4) != "end,") return Trailer::refuse("roster does not end with 'end'");
    std::string_view rest = trailer.substr(4);
    const auto comma = rest.find(',');
    if (!parseSequence(rest.substr(0, comma), out.seq))
        return Trailer::refuse("roster's presence sequence number is not a number");
    if (comma != std::string_view::npos) {
        Signature sig{};
        if (!Base64::decodeInto(rest.substr(comma + 1), sig))
            return Trailer::refuse("roster's signature must be 64 bytes in base64url");
        out.sig = sig;
    }
    out.signedPart = std::string(wholeStream.substr(0, trailerAt + 4 + std::min(comma, rest.size())));
    return out;
}

RosterEntry decodeEntry(std::string_view entry, bool peerchat)
{
    const auto fields = splitEntry(entry);
    if (fields.size() < 2) throw EntryRefusal{"roster entry has no endpoint"};
    if (!peerchat && fields.size() > 2) throw EntryRefusal{"roster entry has too many fields"};
    if (peerchat && fields.size() != 6)
        throw EntryRefusal{"roster entry must be NAME,ENDPOINT,DIALECT,IDPK,KXPK,KXSIG"};
    if (auto why = UserName::check(fields[0]); !why.empty()) throw EntryRefusal{"roster entry: " + why};
    auto endpoint = Endpoint::parse(fields[1]);
    if (!endpoint) throw EntryRefusal{"roster entry: " + endpoint.error()};
    RosterEntry out{std::string(fields[0]), *endpoint, {}, std::nullopt};
    if (peerchat) {
        if (!isDialectToken(fields[2])) throw EntryRefusal{"roster entry has a bad dialect"};
        out.dialect = std::string(fields[2]);
        out.keys = keysField(fields[3], fields[4], fields[5]);
    }
    return out;
}

Result decodeText(std::string_view text, bool peerchat, RosterTrailer* trailer = nullptr)
{
    if (!Utf8::isValid(text)) return Result::refuse("roster is not valid UTF-8");
    const std::string_view whole = text;
    std::vector<RosterEntry> entries;
    std::unordered_set<std::string> seen;
    try {
        while (true) {
            const auto semicolon = text.find(';');
            const std::string_view entry = trimLeadingSpaces(text.substr(0, semicolon));
            if (semicolon == std::string_view::npos) {
                if (!peerchat) {
                    if (entry != "end") return Result::refuse("roster does not end with 'end'");
                    return entries;
                }
                auto parsed = decodeTrailer(entry, whole, whole.size() - entry.size());
                if (!parsed) return Result::refuse(parsed.error());
                if (trailer) *trailer = std::move(parsed.value());
                return entries;
            }
            text.remove_prefix(semicolon + 1);
            RosterEntry e = decodeEntry(entry, peerchat);
            if (!seen.insert(e.name).second) return Result::refuse("roster lists " + e.name + " twice");
            entries.push_back(std::move(e));
        }
    } catch (const EntryRefusal& refusal) {
        return Result::refuse(refusal.reason);
    }
}

} // namespace

std::string RosterCodec::encode(const std::vector<RosterEntry>& entries, RosterFormat format, std::uint64_t presenceSeq)
{
    switch (format) {
    case RosterFormat::SeedText:
        return encodeText(entries, false);
    case RosterFormat::Peerchat:
        return encodeText(entries, true, presenceSeq);
    case RosterFormat::DotNet: {
        const std::string text = encodeText(entries, false);
        std::string out;
        auto length = static_cast<std::uint64_t>(text.size());
        do {
            unsigned char byte = length & 0x7F;
            length >>= 7;
            if (length != 0) byte |= 0x80;
            out.push_back(static_cast<char>(byte));
        } while (length != 0);
        return out + text;
    }
    }
    return {};
}

std::string RosterCodec::encodeRequest(const RosterRequest& request)
{
    return "roster," + Base64::encode(request.nonce) + "\n";
}

Parsed<RosterRequest> RosterCodec::decodeRequest(std::string_view line)
{
    using Request = Parsed<RosterRequest>;
    if (line.substr(0, 7) != "roster,") return Request::refuse("roster request does not start with 'roster,'");
    RosterRequest request;
    if (!Base64::decodeInto(line.substr(7), request.nonce))
        return Request::refuse("roster request's nonce must be 24 bytes in base64url");
    return request;
}

RosterDigest RosterCodec::digest(std::string_view signedPart)
{
    RosterDigest out{};
    crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(signedPart.data()),
                       signedPart.size(), nullptr, 0);
    return out;
}

std::string RosterCodec::withSignature(std::string signedPart, const Signature& sig)
{
    signedPart += ',';
    signedPart += Base64::encode(sig);
    return signedPart;
}

Parsed<std::vector<RosterEntry>> RosterCodec::decode(std::string_view stream, RosterFormat format,
                                                    RosterTrailer* trailer)
{
    if (stream.size() > kMaxStreamBytes) return Result::refuse("roster is larger than 16 MiB");
    switch (format) {
    case RosterFormat::SeedText:
        return decodeText(stream, false);
    case RosterFormat::Peerchat:
        return decodeText(stream, true, trailer);
    case RosterFormat::DotNet: {
        std::uint64_t length = 0;
        std::size_t i = 0;
        for (int shift = 0;; shift += 7) {
            if (i >= stream.size()) return Result::refuse("roster length prefix is truncated");
            if (shift > 28) return Result::refuse("roster length prefix is too long");
            const auto byte = static_cast<unsigned char>(stream[i++]);
            length |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) break;
        }
        if (length != stream.size() - i) return Result::refuse("roster length prefix does not match its text");
        return decodeText(stream.substr(i), false);
    }
    }
    return Result::refuse("unknown roster format");
}

} // namespace peerchat
