#include "Protocol.h"

#include "Base64.h"
#include "UserName.h"
#include "Utf8.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <vector>

namespace peerchat {

namespace {

constexpr std::string_view kPeerchatToken = "peerchat/3";

/// Most zeros a hello may carry: enough to outweigh any challenge, few
/// enough that a hello stays small.
constexpr std::size_t kMaxHelloPadding = 512;

/// The keys field of a user without keys (seed and .NET users).
constexpr std::string_view kNoKeys = "-";

// The most fields a kind of datagram has.
constexpr std::size_t kMostFields = 9;

// The fields of one datagram, in place: a vector of them was an allocation
// per datagram (and per msg of a bundle).
struct FieldViews
{
    std::array<std::string_view, kMostFields> at;
    std::size_t size = 0;
};

// Splits text after the verb into at most `count` (at most kMostFields)
// fields; the last field takes the rest of the text, commas included.
// Leading spaces are stripped from every field but a free-text last one.
void splitFields(std::string_view rest, std::size_t count, bool lastIsFreeText, FieldViews& out)
{
    count = std::min(count, kMostFields);
    out.size = 0;
    while (out.size + 1 < count) {
        const auto comma = rest.find(',');
        if (comma == std::string_view::npos) break;
        out.at[out.size++] = rest.substr(0, comma);
        rest.remove_prefix(comma + 1);
    }
    out.at[out.size++] = rest;
    for (std::size_t i = 0; i < out.size; ++i) {
        if (lastIsFreeText && i + 1 == count) continue;
        while (!out.at[i].empty() && out.at[i].front() == ' ') out.at[i].remove_prefix(1);
    }
}

bool isTokenChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '-';
}

std::string checkToken(std::string_view token, std::string_view what)
{
    if (token.empty() || token.size() > 32) return std::string(what) + " must be 1 to 32 bytes";
    for (char c : token) {
        if (!isTokenChar(c)) return std::string(what) + " may only hold a-z 0-9 . / -";
    }
    return {};
}

std::string checkTime(std::string_view time)
{
    if (time.empty() || time.size() > Protocol::kMaxTimeBytes) return "time must be 1 to 32 bytes";
    // C1 controls too: a terminal may act on U+009B as CSI when the UI prints the time.
    if (Utf8::any(time, [](char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }))
        return "time has a control character";
    return {};
}

std::string checkText(std::string_view text)
{
    if (text.size() > Protocol::kMaxTextBytes) return "message is longer than 4096 bytes";
    if (text.find('\0') != std::string_view::npos) return "message has a NUL byte";
    return {};
}

/// A field did not parse; decode() turns it into a refusal naming the verb.
struct FieldRefusal
{
    std::string reason;
};

// A decimal number in 1..max, no sign, no leading zero; nullopt otherwise.
std::optional<std::uint64_t> parseNumber(std::string_view f, std::uint64_t max)
{
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(f.data(), f.data() + f.size(), value);
    if (f.empty() || f.front() == '0' || error != std::errc() || end != f.data() + f.size() || value > max)
        return std::nullopt;
    return value;
}

// A sequence number inside a field, refused with form.
std::uint64_t sequence(std::string_view f, const char* form)
{
    const auto value = parseNumber(f, Protocol::kMaxSequence);
    if (!value) throw FieldRefusal{form};
    return *value;
}

std::vector<std::string> decodeNameList(std::string_view text);

/// The fields after a verb, split once, read by position with checks.
class Fields
{
public:
    /// Splits rest into at least min and at most max fields; the last may be
    /// free text (everything after the comma before it).
    Fields(std::string_view rest, std::size_t min, std::size_t max, bool lastIsFreeText, const char* expected)
    {
        splitFields(rest, max, lastIsFreeText, _split);
        if (_split.size < min) throw FieldRefusal{std::string("expected ") + expected};
        if (!lastIsFreeText && _split.at[_split.size - 1].find(',') != std::string_view::npos)
            throw FieldRefusal{"too many fields"};
    }

    std::size_t size() const { return _split.size; }

    std::string name(std::size_t i) const
    {
        if (auto why = UserName::check(_split.at[i]); !why.empty()) throw FieldRefusal{why};
        return std::string(_split.at[i]);
    }
    Endpoint endpoint(std::size_t i) const
    {
        auto endpoint = Endpoint::parse(_split.at[i]);
        if (!endpoint) throw FieldRefusal{endpoint.error()};
        return *endpoint;
    }
    std::string token(std::size_t i, const char* what) const
    {
        if (auto why = checkToken(_split.at[i], what); !why.empty()) throw FieldRefusal{why};
        return std::string(_split.at[i]);
    }
    std::string time(std::size_t i) const
    {
        if (auto why = checkTime(_split.at[i]); !why.empty()) throw FieldRefusal{why};
        return std::string(_split.at[i]);
    }
    std::string text(std::size_t i) const
    {
        if (auto why = checkText(_split.at[i]); !why.empty()) throw FieldRefusal{why};
        return std::string(_split.at[i]);
    }
    /// A decimal number in 1..max, no sign, no leading zero.
    std::uint64_t number(std::size_t i, const char* what, std::uint64_t max = Protocol::kMaxSequence) const
    {
        const auto value = parseNumber(_split.at[i], max);
        if (!value) throw FieldRefusal{std::string(what) + " must be a number 1.." + std::to_string(max)};
        return *value;
    }
    /// `0` or `1`.
    bool flag(std::size_t i, const char* what) const
    {
        if (_split.at[i] != "0" && _split.at[i] != "1") throw FieldRefusal{std::string(what) + " must be 0 or 1"};
        return _split.at[i] == "1";
    }
    /// A decimal number in 0..kMaxSequence ("0": nothing yet).
    std::uint64_t counter(std::size_t i, const char* what) const
    {
        return _split.at[i] == "0" ? 0 : number(i, what);
    }
    /// RANGES of an ack: `A-B` runs joined by `.`, ascending, disjoint, all
    /// above after, at most Protocol::kMaxAckRanges.
    std::vector<SeqRange> ranges(std::size_t i, std::uint64_t after) const
    {
        const char* form = "held runs must be A-B joined by '.', ascending, above SEQ, at most 32";
        std::vector<SeqRange> ranges;
        std::string_view rest = _split.at[i];
        while (true) {
            const std::size_t dot = rest.find('.');
            const std::string_view run = rest.substr(0, dot);
            const std::size_t dash = run.find('-');
            if (dash == std::string_view::npos || ranges.size() == Protocol::kMaxAckRanges) throw FieldRefusal{form};
            const SeqRange range{sequence(run.substr(0, dash), form), sequence(run.substr(dash + 1), form)};
            if (range.first > range.last || range.first <= after) throw FieldRefusal{form};
            after = range.last;
            ranges.push_back(range);
            if (dot == std::string_view::npos) return ranges;
            rest.remove_prefix(dot + 1);
        }
    }
    /// A stream id: 1 to 16 lowercase hex digits.
    std::string stream(std::size_t i) const
    {
        const std::string_view f = _split.at[i];
        if (!isStreamId(f)) throw FieldRefusal{"stream must be 1 to 16 hex digits 0-9a-f"};
        return std::string(f);
    }
    /// A key, signature, nonce or id: base64url of exactly its size.
    template <std::size_t N>
    std::array<std::uint8_t, N> bytes(std::size_t i, const char* what) const
    {
        std::array<std::uint8_t, N> out{};
        if (!Base64::decodeInto(_split.at[i], out))
            throw FieldRefusal{std::string(what) + " must be " + std::to_string(N) + " bytes in base64url"};
        return out;
    }
    /// NAMES of a contact list (decodeNameList).
    std::vector<std::string> nameList(std::size_t i) const { return decodeNameList(_split.at[i]); }
    /// bytes(i, what), or nullopt for `-`.
    template <std::size_t N>
    std::optional<std::array<std::uint8_t, N>> optionalBytes(std::size_t i, const char* what) const
    {
        if (_split.at[i] == kNoKeys) return std::nullopt;
        return bytes<N>(i, what);
    }
    /// A sealed box: base64url of at least one byte.
    std::string box(std::size_t i) const
    {
        auto bytes = Base64::decode(_split.at[i]);
        if (!bytes || bytes->empty()) throw FieldRefusal{"box must be base64url of at least one byte"};
        return std::move(*bytes);
    }
    /// Three fields from i on: IDPK,KXPK,KXSIG, or `-,-,-` (nullopt).
    std::optional<PeerKeys> keys(std::size_t i) const
    {
        if (_split.at[i] == kNoKeys && _split.at[i + 1] == kNoKeys && _split.at[i + 2] == kNoKeys) return std::nullopt;
        return PeerKeys{bytes<32>(i, "identity key"), bytes<32>(i + 1, "key-exchange key"),
                        bytes<64>(i + 2, "key-exchange signature")};
    }
    /// A PresenceState token.
    PresenceState state(std::size_t i) const
    {
        const auto state = presenceStateFromToken(_split.at[i]);
        if (!state) throw FieldRefusal{"state must be online, away, busy or invisible"};
        return *state;
    }
    /// A status message as text (free text, the last field).
    std::string status(std::size_t i) const
    {
        if (auto why = Protocol::checkStatus(_split.at[i]); !why.empty()) throw FieldRefusal{why};
        return std::string(_split.at[i]);
    }
    /// A status message in base64url of its UTF-8, `-` for none.
    std::string encodedStatus(std::size_t i) const
    {
        if (_split.at[i] == kNoKeys) return {};
        auto text = Base64::decode(_split.at[i]);
        if (!text || text->empty()) throw FieldRefusal{"status must be base64url of its text, or -"};
        if (!Utf8::isValid(*text)) throw FieldRefusal{"status is not valid UTF-8"};
        if (auto why = Protocol::checkStatus(*text); !why.empty()) throw FieldRefusal{why};
        return std::move(*text);
    }
    /// CANDS: a CandidateList.
    std::vector<Candidate> candidates(std::size_t i) const
    {
        auto candidates = CandidateList::parse(_split.at[i]);
        if (!candidates) throw FieldRefusal{candidates.error()};
        return std::move(*candidates);
    }
    /// PAD: zeros only, at most kMaxHelloPadding of them.
    std::size_t padding(std::size_t i) const
    {
        const std::string_view f = _split.at[i];
        if (f.size() > kMaxHelloPadding || f.find_first_not_of('0') != std::string_view::npos)
            throw FieldRefusal{"padding must be 0 to 512 zeros"};
        return f.size();
    }

private:
    FieldViews _split;
};

Login decodeLogin(std::string_view rest)
{
    Fields f(rest, 2, 3, false, "NAME,ENDPOINT[,DIALECT]");
    return Login{f.name(0), f.endpoint(1), f.size() == 3 ? f.token(2, "dialect") : std::string()};
}

Logout decodeLogout(std::string_view rest)
{
    Fields f(rest, 2, 2, false, "NAME,ENDPOINT");
    return Logout{f.name(0), f.endpoint(1)};
}

Hello decodeHello(std::string_view rest)
{
    Fields f(rest, 3, 4, false, "NAME,DIALECT[,HNONCE],PAD");
    if (f.size() == 3) return Hello{f.name(0), f.token(1, "dialect"), f.padding(2), std::nullopt};
    return Hello{f.name(0), f.token(1, "dialect"), f.padding(3), f.bytes<24>(2, "hello nonce")};
}

Challenge decodeChallenge(std::string_view rest)
{
    Fields f(rest, 7, 7, false, "NAME,ENDPOINT,NONCE,HNONCE,EPOCH,INDEXID,SIG");
    return Challenge{f.name(0),
                     f.endpoint(1),
                     f.bytes<24>(2, "nonce"),
                     f.bytes<24>(3, "hello nonce"),
                     f.bytes<8>(4, "epoch"),
                     f.bytes<32>(5, "index identity key"),
                     f.bytes<64>(6, "signature")};
}

Auth decodeAuth(std::string_view rest)
{
    Fields f(rest, 8, 8, false, "NAME,ENDPOINT,DIALECT,IDPK,KXPK,KXSIG,NONCE,SIG");
    Auth m{f.name(0), f.endpoint(1), f.token(2, "dialect"), {}, f.bytes<24>(6, "nonce"), f.bytes<64>(7, "signature")};
    auto keys = f.keys(3);
    if (!keys) throw FieldRefusal{"an auth must carry keys"};
    m.keys = *keys;
    return m;
}

Welcome decodeWelcome(std::string_view rest)
{
    Fields f(rest, 5, 5, false, "NAME,EPOCH,INDEXID,INDEXKX,SIG");
    return Welcome{f.name(0), f.bytes<8>(1, "epoch"), f.bytes<32>(2, "index identity key"),
                   f.bytes<32>(3, "index key-exchange key"), f.bytes<64>(4, "signature")};
}

Seal decodeSeal(std::string_view rest)
{
    Fields f(rest, 4, 4, false, "SKID,RKID,CTR,BOX");
    return Seal{f.bytes<8>(0, "sender key id"), f.bytes<8>(1, "recipient key id"),
                f.number(2, "counter", std::numeric_limits<std::uint64_t>::max()), f.box(3)};
}

Post decodePost(std::string_view rest)
{
    Fields f(rest, 4, 4, false, "TO,STREAM,SEQ,BOX");
    return Post{f.name(0), f.stream(1), f.number(2, "seq"), f.box(3)};
}

Mail decodeMail(std::string_view rest)
{
    Fields f(rest, 5, 5, false, "FROM,IDPK,STREAM,SEQ,BOX");
    return Mail{f.name(0), f.bytes<32>(1, "identity key"), f.stream(2), f.number(3, "seq"), f.box(4)};
}

Accept decodeAccept(std::string_view rest)
{
    Fields f(rest, 1, 1, false, "PORT");
    return Accept{static_cast<std::uint16_t>(f.number(0, "port", 65535))};
}

Talk decodeTalk(std::string_view rest)
{
    Fields f(rest, 3, 3, true, "TIME,FROM,MESSAGE");
    return Talk{f.time(0), f.name(1), f.text(2)};
}

Refuse decodeRefuse(std::string_view rest)
{
    Fields f(rest, 2, 3, false, "NAME,REASON[,ECHO]");
    Refuse m{f.name(0), f.token(1, "reason"), std::nullopt};
    if (f.size() == 3) m.echo = f.bytes<24>(2, "echoed nonce");
    return m;
}

Msg decodeMsg(std::string_view rest)
{
    Fields f(rest, 6, 6, true, "STREAM,SEQ,TIME,FROM,TO,MESSAGE");
    return Msg{f.stream(0), f.number(1, "seq"), f.time(2), f.name(3), f.name(4), f.text(5)};
}

Ack decodeAck(std::string_view rest)
{
    Fields f(rest, 3, 4, false, "FROM,STREAM,SEQ[,RANGES]");
    // SEQ 0 (nothing delivered yet) only with the runs held ahead of the gap.
    Ack m{f.name(0), f.stream(1), f.size() == 4 ? f.counter(2, "seq") : f.number(2, "seq"), {}};
    if (f.size() == 4) m.held = f.ranges(3, m.seq);
    return m;
}

Alive decodeAlive(std::string_view rest)
{
    Fields f(rest, 2, 3, false, "NAME,SEQ[,CANDS]");
    Alive m{f.name(0), f.counter(1, "seq"), std::nullopt};
    if (f.size() == 3) m.candidates = f.candidates(2);
    return m;
}

Punch decodePunch(std::string_view rest)
{
    Fields f(rest, 1, 1, false, "PEER");
    return Punch{f.name(0)};
}

Meet decodeMeet(std::string_view rest)
{
    Fields f(rest, 2, 2, false, "PEER,CANDS");
    return Meet{f.name(0), f.candidates(1)};
}

Probe decodeProbe(std::string_view rest)
{
    Fields f(rest, 3, 3, false, "FROM,TO,TOKEN");
    return Probe{f.name(0), f.name(1), f.bytes<8>(2, "token")};
}

Probed decodeProbed(std::string_view rest)
{
    Fields f(rest, 3, 3, false, "FROM,TO,TOKEN");
    return Probed{f.name(0), f.name(1), f.bytes<8>(2, "token")};
}

Caps decodeCaps(std::string_view rest)
{
    Fields f(rest, 4, 4, false, "FROM,TO,FEATURES,ANSWER");
    const std::string features = f.token(2, "features");
    return Caps{f.name(0), f.name(1), features == "-" ? std::string() : features, f.flag(3, "answer")};
}

// NAMES of a contact list: names joined by ';', '-' for none, at most
// Protocol::kMaxDeclarationNamesBytes, no name twice.
std::vector<std::string> decodeNameList(std::string_view text)
{
    if (text.size() > Protocol::kMaxDeclarationNamesBytes)
        throw FieldRefusal{"names must be at most " + std::to_string(Protocol::kMaxDeclarationNamesBytes) + " bytes"};
    std::vector<std::string> names;
    if (text == kNoKeys) return names;
    while (true) {
        const std::size_t semicolon = text.find(';');
        const std::string_view name = text.substr(0, semicolon);
        if (auto why = UserName::check(name); !why.empty()) throw FieldRefusal{"a listed name: " + why};
        names.emplace_back(name);
        if (semicolon == std::string_view::npos) break;
        text.remove_prefix(semicolon + 1);
    }
    std::vector<std::string> sorted = names;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) throw FieldRefusal{"a name is listed twice"};
    return names;
}

std::string encodeNameList(const std::vector<std::string>& names)
{
    if (names.empty()) return std::string(kNoKeys);
    std::string out;
    for (const std::string& name : names) {
        if (!out.empty()) out += ';';
        out += name;
    }
    return out;
}

ContactsDeclaration decodeContactsDeclaration(std::string_view rest)
{
    Fields f(rest, 8, 8, false, "NAME,VERSION,PART,PARTS,STATE,STATUS,NAMES,SIG");
    const auto parts = static_cast<std::uint32_t>(f.number(3, "parts", Protocol::kMaxDeclarationParts));
    const auto part = static_cast<std::uint32_t>(f.number(2, "part", parts));
    return ContactsDeclaration{f.name(0),          f.number(1, "version"), part, parts, f.state(4),
                               f.encodedStatus(5), f.nameList(6),          f.bytes<64>(7, "signature")};
}

Here decodeHere(std::string_view rest)
{
    Fields f(rest, 9, 9, true, "SEQ,NAME,ENDPOINT,DIALECT,IDPK,KXPK,KXSIG,STATE,STATUS");
    Here m{f.number(0, "presence sequence"), f.name(1), f.endpoint(2), f.token(3, "dialect"), f.keys(4),
           f.state(7), f.status(8)};
    if (m.state == PresenceState::Invisible) throw FieldRefusal{"an invisible user is never here"};
    return m;
}

Gone decodeGone(std::string_view rest)
{
    Fields f(rest, 2, 2, false, "SEQ,NAME");
    return Gone{f.number(0, "presence sequence"), f.name(1)};
}

Snapshot decodeSnapshot(std::string_view rest)
{
    Fields f(rest, 2, 2, false, "SEQ,COUNT");
    return Snapshot{f.number(0, "presence sequence"), f.counter(1, "count")};
}

Declared decodeDeclared(std::string_view rest)
{
    Fields f(rest, 1, 1, false, "VERSION");
    return Declared{f.number(0, "version")};
}

Typing decodeTyping(std::string_view rest)
{
    Fields f(rest, 2, 2, false, "FROM,TO");
    return Typing{f.name(0), f.name(1)};
}

Whois decodeWhois(std::string_view rest)
{
    Fields f(rest, 1, 1, false, "NAME");
    return Whois{f.name(0)};
}

NameKey decodeNameKey(std::string_view rest)
{
    Fields f(rest, 2, 2, false, "NAME,IDPK");
    return NameKey{f.name(0), f.optionalBytes<32>(1, "identity key")};
}

/// The kinds `contact` names, in ContactKind's order.
constexpr std::pair<ContactKind, std::string_view> kContactKinds[] = {
    {ContactKind::Request, "request"},
    {ContactKind::Accept, "accept"},
    {ContactKind::Decline, "decline"},
    {ContactKind::Remove, "remove"},
};

ContactLetter decodeContactLetter(std::string_view rest)
{
    Fields f(rest, 6, 6, true, "STREAM,SEQ,FROM,TO,KIND,NOTE");
    ContactLetter m{f.stream(0), f.number(1, "seq"), f.name(2), f.name(3), ContactKind::Request, f.text(5)};
    const auto kind = contactKindFromToken(f.token(4, "kind"));
    if (!kind) throw FieldRefusal{"kind must be request, accept, decline or remove"};
    m.kind = *kind;
    if (m.note.size() > Protocol::kMaxNoteBytes) throw FieldRefusal{"note is longer than 256 bytes"};
    if (m.kind != ContactKind::Request && !m.note.empty()) throw FieldRefusal{"only a request carries a note"};
    return m;
}

Turn decodeTurn(std::string_view rest)
{
    Fields f(rest, 3, 3, false, "SERVER,EXPIRY,KEY");
    return Turn{f.endpoint(0), f.number(1, "expiry"), f.bytes<20>(2, "key")};
}

Seen decodeSeen(std::string_view rest)
{
    Fields f(rest, 1, 1, false, "SEQ");
    return Seen{f.counter(0, "seq")};
}

Relogin decodeRelogin(std::string_view rest)
{
    Fields f(rest, 1, 1, false, "NAME");
    return Relogin{f.name(0)};
}

Stored decodeStored(std::string_view rest)
{
    Fields f(rest, 3, 3, false, "TO,STREAM,SEQ");
    return Stored{f.name(0), f.stream(1), f.number(2, "seq")};
}

/// The reasons `full` names, in FullReason's order after Unstated.
constexpr std::pair<FullReason, std::string_view> kFullReasons[] = {
    {FullReason::Recipient, "recipient"}, {FullReason::Pair, "pair"},       {FullReason::Sender, "sender"},
    {FullReason::Disk, "disk"},           {FullReason::Unknown, "unknown"},
};

Full decodeFull(std::string_view rest)
{
    Fields f(rest, 3, 4, false, "TO,STREAM,SEQ[,REASON]");
    Full m{f.name(0), f.stream(1), f.number(2, "seq"), FullReason::Unstated};
    if (f.size() == 4) {
        // A reason a later indexd may add reads as unstated, not as a malformed full.
        const std::string token = f.token(3, "reason");
        for (const auto& [reason, name] : kFullReasons) {
            if (token == name) m.reason = reason;
        }
    }
    return m;
}

/// Decoders by verb: one table, one place to add a verb.
using VerbDecoder = Message (*)(std::string_view);
const std::pair<std::string_view, VerbDecoder> kDecoders[] = {
    {"login", [](std::string_view r) -> Message { return decodeLogin(r); }},
    {"Accept", [](std::string_view r) -> Message { return decodeAccept(r); }},
    {"logout", [](std::string_view r) -> Message { return decodeLogout(r); }},
    {"talk", [](std::string_view r) -> Message { return decodeTalk(r); }},
    {"refuse", [](std::string_view r) -> Message { return decodeRefuse(r); }},
    {"msg", [](std::string_view r) -> Message { return decodeMsg(r); }},
    {"ack", [](std::string_view r) -> Message { return decodeAck(r); }},
    {"alive", [](std::string_view r) -> Message { return decodeAlive(r); }},
    {"seen", [](std::string_view r) -> Message { return decodeSeen(r); }},
    {"relogin", [](std::string_view r) -> Message { return decodeRelogin(r); }},
    {"stored", [](std::string_view r) -> Message { return decodeStored(r); }},
    {"full", [](std::string_view r) -> Message { return decodeFull(r); }},
    {"hello", [](std::string_view r) -> Message { return decodeHello(r); }},
    {"challenge", [](std::string_view r) -> Message { return decodeChallenge(r); }},
    {"auth", [](std::string_view r) -> Message { return decodeAuth(r); }},
    {"welcome", [](std::string_view r) -> Message { return decodeWelcome(r); }},
    {"seal", [](std::string_view r) -> Message { return decodeSeal(r); }},
    {"post", [](std::string_view r) -> Message { return decodePost(r); }},
    {"mail", [](std::string_view r) -> Message { return decodeMail(r); }},
    {"punch", [](std::string_view r) -> Message { return decodePunch(r); }},
    {"meet", [](std::string_view r) -> Message { return decodeMeet(r); }},
    {"probe", [](std::string_view r) -> Message { return decodeProbe(r); }},
    {"probed", [](std::string_view r) -> Message { return decodeProbed(r); }},
    {"turn", [](std::string_view r) -> Message { return decodeTurn(r); }},
    {"caps", [](std::string_view r) -> Message { return decodeCaps(r); }},
    {"whois", [](std::string_view r) -> Message { return decodeWhois(r); }},
    {"key", [](std::string_view r) -> Message { return decodeNameKey(r); }},
    {"contact", [](std::string_view r) -> Message { return decodeContactLetter(r); }},
    {"typing", [](std::string_view r) -> Message { return decodeTyping(r); }},
    {"contacts", [](std::string_view r) -> Message { return decodeContactsDeclaration(r); }},
    {"declared", [](std::string_view r) -> Message { return decodeDeclared(r); }},
    {"here", [](std::string_view r) -> Message { return decodeHere(r); }},
    {"gone", [](std::string_view r) -> Message { return decodeGone(r); }},
    {"snapshot", [](std::string_view r) -> Message { return decodeSnapshot(r); }},
};

/// The bare `relogin`: the one message without fields.
constexpr std::string_view kBareRelogin = "relogin";

std::string keysFields(const std::optional<PeerKeys>& keys)
{
    if (!keys) return "-,-,-";
    return Base64::encode(keys->identity) + "," + Base64::encode(keys->kx) + "," + Base64::encode(keys->kxSig);
}

// The most digits of a std::uint64_t in decimal.
constexpr std::size_t kMostDecimalDigits = 20;

// value in decimal after what out holds.
void appendDecimal(std::string& out, std::uint64_t value)
{
    char digits[kMostDecimalDigits];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

// The chat path's message after what out holds: room made once rather than grown by each field.
void appendMsg(std::string& out, const Msg& m)
{
    out.reserve(out.size() + 4 + m.stream.size() + kMostDecimalDigits + m.time.size() + m.from.size() +
                m.to.size() + m.text.size() + 5);
    out += "msg,";
    out += m.stream;
    out += ',';
    appendDecimal(out, m.seq);
    for (const std::string_view field : {std::string_view(m.time), std::string_view(m.from), std::string_view(m.to)}) {
        out += ',';
        out += field;
    }
    out += ',';
    out += m.text;
}

/// Every message without its trailing SIG field (Challenge, Auth, Welcome,
/// signed Login and Logout); encode() appends the SIG.
struct TextWithoutSignature
{
    std::string operator()(const Login& m) const
    {
        return "login," + m.name + "," + m.endpoint.toString() + (m.dialect.empty() ? std::string() : "," + m.dialect);
    }
    std::string operator()(const Accept& m) const { return "Accept," + std::to_string(m.port); }
    std::string operator()(const Logout& m) const { return "logout," + m.name + "," + m.endpoint.toString(); }
    std::string operator()(const Talk& m) const { return "talk," + m.time + "," + m.from + "," + m.text; }
    std::string operator()(const Refuse& m) const
    {
        return "refuse," + m.name + "," + m.reason + (m.echo ? "," + Base64::encode(*m.echo) : std::string());
    }
    std::string operator()(const Msg& m) const
    {
        std::string out;
        appendMsg(out, m);
        return out;
    }
    std::string operator()(const Ack& m) const
    {
        std::string out = "ack," + m.from + "," + m.stream + "," + std::to_string(m.seq);
        for (std::size_t i = 0; i < m.held.size(); ++i)
            out += (i == 0 ? "," : ".") + std::to_string(m.held[i].first) + "-" + std::to_string(m.held[i].last);
        return out;
    }
    std::string operator()(const Alive& m) const
    {
        return "alive," + m.name + "," + std::to_string(m.seq) +
               (m.candidates ? "," + CandidateList::format(*m.candidates) : std::string());
    }
    std::string operator()(const Punch& m) const { return "punch," + m.peer; }
    std::string operator()(const Meet& m) const { return "meet," + m.peer + "," + CandidateList::format(m.candidates); }
    std::string operator()(const Probe& m) const
    {
        return "probe," + m.from + "," + m.to + "," + Base64::encode(m.token);
    }
    std::string operator()(const Probed& m) const
    {
        return "probed," + m.from + "," + m.to + "," + Base64::encode(m.token);
    }
    std::string operator()(const Caps& m) const
    {
        return "caps," + m.from + "," + m.to + "," + (m.features.empty() ? std::string("-") : m.features) + "," +
               (m.answer ? "1" : "0");
    }
    std::string operator()(const Turn& m) const
    {
        return "turn," + m.server.toString() + "," + std::to_string(m.expiry) + "," + Base64::encode(m.key);
    }
    std::string operator()(const Whois& m) const { return "whois," + m.name; }
    std::string operator()(const Typing& m) const { return "typing," + m.from + "," + m.to; }
    std::string operator()(const ContactsDeclaration& m) const
    {
        return "contacts," + m.name + "," + std::to_string(m.version) + "," + std::to_string(m.part) + "," +
               std::to_string(m.parts) + "," + std::string(presenceStateToken(m.state)) + "," +
               (m.status.empty() ? std::string(kNoKeys) : Base64::encode(m.status)) + "," + encodeNameList(m.names);
    }
    std::string operator()(const Here& m) const { return Protocol::numberedHere(m.seq, Protocol::hereFields(m)); }
    std::string operator()(const Gone& m) const { return "gone," + std::to_string(m.seq) + "," + m.name; }
    std::string operator()(const Snapshot& m) const
    {
        return "snapshot," + std::to_string(m.seq) + "," + std::to_string(m.count);
    }
    std::string operator()(const Declared& m) const { return "declared," + std::to_string(m.version); }
    std::string operator()(const NameKey& m) const
    {
        return "key," + m.name + "," + (m.identity ? Base64::encode(*m.identity) : std::string(kNoKeys));
    }
    std::string operator()(const ContactLetter& m) const
    {
        return "contact," + m.stream + "," + std::to_string(m.seq) + "," + m.from + "," + m.to + "," +
               std::string(contactKindToken(m.kind)) + "," + m.note;
    }
    std::string operator()(const Seen& m) const { return "seen," + std::to_string(m.seq); }
    std::string operator()(const Relogin& m) const
    {
        return m.name.empty() ? std::string(kBareRelogin) : std::string(kBareRelogin) + "," + m.name;
    }
    std::string operator()(const Stored& m) const { return "stored," + m.to + "," + m.stream + "," + std::to_string(m.seq); }
    std::string operator()(const Full& m) const
    {
        const std::string_view reason = fullReasonToken(m.reason);
        return "full," + m.to + "," + m.stream + "," + std::to_string(m.seq)
               + (reason.empty() ? std::string() : "," + std::string(reason));
    }
    std::string operator()(const Hello& m) const
    {
        return "hello," + m.name + "," + m.dialect + "," + (m.nonce ? Base64::encode(*m.nonce) + "," : std::string())
               + std::string(m.padding, '0');
    }
    std::string operator()(const Challenge& m) const
    {
        return "challenge," + m.name + "," + m.observed.toString() + "," + Base64::encode(m.nonce) + ","
               + Base64::encode(m.echo) + "," + Base64::encode(m.epoch) + "," + Base64::encode(m.indexIdentity);
    }
    std::string operator()(const Auth& m) const
    {
        return "auth," + m.name + "," + m.observed.toString() + "," + m.dialect + "," + keysFields(m.keys) + ","
               + Base64::encode(m.nonce);
    }
    std::string operator()(const Welcome& m) const
    {
        return "welcome," + m.name + "," + Base64::encode(m.epoch) + ","
               + Base64::encode(m.indexIdentity) + "," + Base64::encode(m.indexKx);
    }
    // Every datagram between peerchat peers: built in one string.
    std::string operator()(const Seal& m) const
    {
        std::string out;
        out.reserve(8 + kMostDecimalDigits + Base64::encodedSize(m.sender.size()) + Base64::encodedSize(m.recipient.size()) +
                    Base64::encodedSize(m.box.size()));
        out += "seal,";
        Base64::append(out, m.sender);
        out += ',';
        Base64::append(out, m.recipient);
        out += ',';
        appendDecimal(out, m.counter);
        out += ',';
        Base64::append(out, m.box);
        return out;
    }
    std::string operator()(const Post& m) const
    {
        return "post," + m.to + "," + m.stream + "," + std::to_string(m.seq) + "," + Base64::encode(m.box);
    }
    std::string operator()(const Mail& m) const
    {
        return "mail," + m.from + "," + Base64::encode(m.identity) + "," + m.stream + "," + std::to_string(m.seq)
               + "," + Base64::encode(m.box);
    }
};

/// The SIG field a message ends with, or nothing.
struct SignatureOf
{
    std::optional<Signature> operator()(const Challenge& m) const { return m.sig; }
    std::optional<Signature> operator()(const Auth& m) const { return m.sig; }
    std::optional<Signature> operator()(const Welcome& m) const { return m.sig; }
    std::optional<Signature> operator()(const ContactsDeclaration& m) const { return m.sig; }
    template <typename Other>
    std::optional<Signature> operator()(const Other&) const { return std::nullopt; }
};

struct VerbOf
{
    std::string_view operator()(const Login&) const { return "login"; }
    std::string_view operator()(const Accept&) const { return "Accept"; }
    std::string_view operator()(const Logout&) const { return "logout"; }
    std::string_view operator()(const Talk&) const { return "talk"; }
    std::string_view operator()(const Refuse&) const { return "refuse"; }
    std::string_view operator()(const Msg&) const { return "msg"; }
    std::string_view operator()(const Ack&) const { return "ack"; }
    std::string_view operator()(const Alive&) const { return "alive"; }
    std::string_view operator()(const Seen&) const { return "seen"; }
    std::string_view operator()(const Relogin&) const { return "relogin"; }
    std::string_view operator()(const Stored&) const { return "stored"; }
    std::string_view operator()(const Full&) const { return "full"; }
    std::string_view operator()(const Hello&) const { return "hello"; }
    std::string_view operator()(const Challenge&) const { return "challenge"; }
    std::string_view operator()(const Auth&) const { return "auth"; }
    std::string_view operator()(const Welcome&) const { return "welcome"; }
    std::string_view operator()(const Seal&) const { return "seal"; }
    std::string_view operator()(const Post&) const { return "post"; }
    std::string_view operator()(const Mail&) const { return "mail"; }
    std::string_view operator()(const Punch&) const { return "punch"; }
    std::string_view operator()(const Meet&) const { return "meet"; }
    std::string_view operator()(const Probe&) const { return "probe"; }
    std::string_view operator()(const Probed&) const { return "probed"; }
    std::string_view operator()(const Turn&) const { return "turn"; }
    std::string_view operator()(const Caps&) const { return "caps"; }
    std::string_view operator()(const Whois&) const { return "whois"; }
    std::string_view operator()(const NameKey&) const { return "key"; }
    std::string_view operator()(const ContactLetter&) const { return "contact"; }
    std::string_view operator()(const Typing&) const { return "typing"; }
    std::string_view operator()(const ContactsDeclaration&) const { return "contacts"; }
    std::string_view operator()(const Declared&) const { return "declared"; }
    std::string_view operator()(const Here&) const { return "here"; }
    std::string_view operator()(const Gone&) const { return "gone"; }
    std::string_view operator()(const Snapshot&) const { return "snapshot"; }
};

} // namespace

std::string Protocol::hereFields(const Here& here)
{
    return here.name + "," + here.endpoint.toString() + "," + here.dialect + "," + keysFields(here.keys) + ","
           + std::string(presenceStateToken(here.state)) + "," + here.status;
}

std::string Protocol::numberedHere(std::uint64_t seq, std::string_view fields)
{
    std::string out;
    out.reserve(5 + kMostDecimalDigits + 1 + fields.size());
    out += "here,";
    appendDecimal(out, seq);
    out += ',';
    out += fields;
    return out;
}

std::string_view dialectToken(Dialect dialect)
{
    switch (dialect) {
    case Dialect::Seed: return "seed";
    case Dialect::DotNet: return "dotnet";
    case Dialect::Peerchat: return kPeerchatToken;
    }
    return "seed";
}

std::optional<Dialect> dialectFromToken(std::string_view token)
{
    if (token == "seed") return Dialect::Seed;
    if (token == "dotnet") return Dialect::DotNet;
    if (token == kPeerchatToken) return Dialect::Peerchat;
    return std::nullopt;
}

std::string_view presenceStateToken(PresenceState state)
{
    switch (state) {
    case PresenceState::Away: return "away";
    case PresenceState::Busy: return "busy";
    case PresenceState::Invisible: return "invisible";
    case PresenceState::Online: break;
    }
    return "online";
}

std::optional<PresenceState> presenceStateFromToken(std::string_view token)
{
    for (auto state : {PresenceState::Online, PresenceState::Away, PresenceState::Busy, PresenceState::Invisible}) {
        if (presenceStateToken(state) == token) return state;
    }
    return std::nullopt;
}

std::string Protocol::checkStatus(std::string_view text)
{
    if (Utf8::codePoints(text) > kMaxStatusCharacters)
        return "status message is longer than " + std::to_string(kMaxStatusCharacters) + " characters";
    if (Utf8::any(text, Utf8::isControl))
        return "status message has a control character";
    return {};
}

std::string_view contactKindToken(ContactKind kind)
{
    for (const auto& [known, token] : kContactKinds) {
        if (known == kind) return token;
    }
    return "request";
}

std::optional<ContactKind> contactKindFromToken(std::string_view token)
{
    for (const auto& [kind, known] : kContactKinds) {
        if (known == token) return kind;
    }
    return std::nullopt;
}

std::string_view fullReasonToken(FullReason reason)
{
    for (const auto& [known, token] : kFullReasons) {
        if (known == reason) return token;
    }
    return {};
}

bool isStreamId(std::string_view text)
{
    if (text.empty() || text.size() > 16) return false;
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

bool isDialectToken(std::string_view token)
{
    return checkToken(token, "dialect").empty();
}

Parsed<Inbound> Protocol::decodeDatagram(std::string_view bytes)
{
    if (bytes.empty()) return Parsed<Inbound>::refuse("empty datagram");
    if (bytes.size() > kMaxDatagramBytes) return Parsed<Inbound>::refuse("datagram larger than 8704 bytes");
    if (bytes.size() >= 2 && bytes[1] == '\0') {
        auto text = Utf8::fromUtf16le(bytes);
        if (!text) return Parsed<Inbound>::refuse("malformed UTF-16LE");
        auto message = decode(*text);
        if (!message) return Parsed<Inbound>::refuse(message.error());
        return Inbound{std::move(message.value()), TextEncoding::Utf16le};
    }
    auto message = decode(bytes);
    if (!message) return Parsed<Inbound>::refuse(message.error());
    return Inbound{std::move(message.value()), TextEncoding::Utf8};
}

Parsed<Message> Protocol::decode(std::string_view text)
{
    if (text.size() > kMaxDatagramBytes) return Parsed<Message>::refuse("message too long");
    const auto comma = text.find(',');
    const std::string_view verb = text.substr(0, comma);
    if (text == kBareRelogin) return Message(Relogin{});
    if (comma == std::string_view::npos) return Parsed<Message>::refuse("no fields after verb");
    const std::string_view rest = text.substr(comma + 1);

    // The verb before the rest: garbage is refused without reading it all,
    // which is most of what a flood of it costs a daemon.
    for (const auto& [name, decoder] : kDecoders) {
        if (verb != name) continue;
        if (!Utf8::isValid(rest)) return Parsed<Message>::refuse(std::string(verb) + ": not valid UTF-8");
        try {
            return decoder(rest);
        } catch (const FieldRefusal& refusal) {
            return Parsed<Message>::refuse(std::string(verb) + ": " + refusal.reason);
        }
    }
    std::string shown;
    for (char c : verb.substr(0, 16)) shown.push_back(c >= 0x20 && c < 0x7F ? c : '?');
    return Parsed<Message>::refuse("unknown verb '" + shown + "'");
}

std::vector<Parsed<Message>> Protocol::decodeBundle(std::string_view text)
{
    std::vector<Parsed<Message>> messages;
    // Sized first: a message is large, and growing the vector moved each several times.
    messages.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), kBundleSeparator)) + 1);
    while (true) {
        const auto separator = text.find(kBundleSeparator);
        messages.push_back(decode(text.substr(0, separator)));
        if (separator == std::string_view::npos) return messages;
        text.remove_prefix(separator + 1);
    }
}

bool Caps::offers(std::string_view feature) const
{
    std::string_view rest = features;
    while (!rest.empty()) {
        const auto dot = rest.find('.');
        if (rest.substr(0, dot) == feature) return true;
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
    }
    return false;
}

std::string Protocol::encode(const Message& message)
{
    std::string text = std::visit(TextWithoutSignature{}, message);
    if (const auto sig = std::visit(SignatureOf{}, message)) text += "," + Base64::encode(*sig);
    return text;
}

void Protocol::appendEncoded(std::string& out, const Message& message)
{
    if (const Msg* msg = std::get_if<Msg>(&message)) {
        appendMsg(out, *msg);
        return;
    }
    out += encode(message);
}

std::string Protocol::encodeUnsigned(const Message& message)
{
    return std::visit(TextWithoutSignature{}, message);
}

std::string Protocol::encodeDatagram(const Message& message, TextEncoding encoding)
{
    const std::string text = encode(message);
    return encoding == TextEncoding::Utf16le ? Utf8::toUtf16le(text) : text;
}

std::string_view Protocol::verb(const Message& message)
{
    return std::visit(VerbOf{}, message);
}

} // namespace peerchat
