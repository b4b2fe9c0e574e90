#include "Protocol.h"

#include "UserName.h"
#include "Utf8.h"

#include <charconv>
#include <vector>

namespace peerchat {

namespace {

constexpr std::string_view kPeerchatToken = "peerchat/1";

// Splits text after the verb into at most `count` fields; the last field takes
// the rest of the text, commas included. Leading spaces are stripped from every
// field but a free-text last one.
void splitFields(std::string_view rest, std::size_t count, bool lastIsFreeText, std::vector<std::string_view>& out)
{
    out.clear();
    while (out.size() + 1 < count) {
        const auto comma = rest.find(',');
        if (comma == std::string_view::npos) break;
        out.push_back(rest.substr(0, comma));
        rest.remove_prefix(comma + 1);
    }
    out.push_back(rest);
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (lastIsFreeText && i + 1 == count) continue;
        while (!out[i].empty() && out[i].front() == ' ') out[i].remove_prefix(1);
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
    for (char32_t cp : Utf8::decode(time).value_or(std::u32string())) {
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return "time has a control character";
    }
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

/// The fields after a verb, split once, read by position with checks.
class Fields
{
public:
    /// Splits rest into at least min and at most max fields; the last may be
    /// free text (everything after the comma before it).
    Fields(std::string_view rest, std::size_t min, std::size_t max, bool lastIsFreeText, const char* expected)
    {
        splitFields(rest, max, lastIsFreeText, _fields);
        if (_fields.size() < min) throw FieldRefusal{std::string("expected ") + expected};
        if (!lastIsFreeText && _fields.back().find(',') != std::string_view::npos)
            throw FieldRefusal{"too many fields"};
    }

    std::size_t size() const { return _fields.size(); }

    std::string name(std::size_t i) const
    {
        if (auto why = UserName::check(_fields[i]); !why.empty()) throw FieldRefusal{why};
        return std::string(_fields[i]);
    }
    Endpoint endpoint(std::size_t i) const
    {
        auto endpoint = Endpoint::parse(_fields[i]);
        if (!endpoint) throw FieldRefusal{endpoint.error()};
        return *endpoint;
    }
    std::string token(std::size_t i, const char* what) const
    {
        if (auto why = checkToken(_fields[i], what); !why.empty()) throw FieldRefusal{why};
        return std::string(_fields[i]);
    }
    std::string time(std::size_t i) const
    {
        if (auto why = checkTime(_fields[i]); !why.empty()) throw FieldRefusal{why};
        return std::string(_fields[i]);
    }
    std::string text(std::size_t i) const
    {
        if (auto why = checkText(_fields[i]); !why.empty()) throw FieldRefusal{why};
        return std::string(_fields[i]);
    }
    /// A decimal number in 1..max, no sign, no leading zero.
    std::uint64_t number(std::size_t i, const char* what, std::uint64_t max = Protocol::kMaxSequence) const
    {
        const std::string_view f = _fields[i];
        std::uint64_t value = 0;
        const auto [end, error] = std::from_chars(f.data(), f.data() + f.size(), value);
        if (f.empty() || f.front() == '0' || error != std::errc() || end != f.data() + f.size() || value > max)
            throw FieldRefusal{std::string(what) + " must be a number 1.." + std::to_string(max)};
        return value;
    }
    /// A decimal number in 0..kMaxSequence ("0": nothing yet).
    std::uint64_t counter(std::size_t i, const char* what) const
    {
        return _fields[i] == "0" ? 0 : number(i, what);
    }
    /// A stream id: 1 to 16 lowercase hex digits.
    std::string stream(std::size_t i) const
    {
        const std::string_view f = _fields[i];
        if (!isStreamId(f)) throw FieldRefusal{"stream must be 1 to 16 hex digits 0-9a-f"};
        return std::string(f);
    }

private:
    std::vector<std::string_view> _fields;
};

Login decodeLogin(std::string_view rest)
{
    Fields f(rest, 2, 4, false, "NAME,ENDPOINT[,DIALECT[,SEQ]]");
    Login m{f.name(0), f.endpoint(1), f.size() >= 3 ? f.token(2, "dialect") : std::string(), 0};
    if (f.size() == 4) m.seq = f.number(3, "presence sequence");
    return m;
}

Logout decodeLogout(std::string_view rest)
{
    Fields f(rest, 2, 3, false, "NAME,ENDPOINT[,SEQ]");
    Logout m{f.name(0), f.endpoint(1), 0};
    if (f.size() == 3) m.seq = f.number(2, "presence sequence");
    return m;
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
    Fields f(rest, 2, 2, false, "NAME,REASON");
    return Refuse{f.name(0), f.token(1, "reason")};
}

Msg decodeMsg(const Fields& f, std::size_t at)
{
    return Msg{f.stream(at), f.number(at + 1, "seq"), f.time(at + 2), f.name(at + 3), f.text(at + 4)};
}

Msg decodeMsg(std::string_view rest)
{
    return decodeMsg(Fields(rest, 5, 5, true, "STREAM,SEQ,TIME,FROM,MESSAGE"), 0);
}

Ack decodeAck(std::string_view rest)
{
    Fields f(rest, 3, 3, false, "FROM,STREAM,SEQ");
    return Ack{f.name(0), f.stream(1), f.number(2, "seq")};
}

Alive decodeAlive(std::string_view rest)
{
    Fields f(rest, 2, 2, false, "NAME,SEQ");
    return Alive{f.name(0), f.counter(1, "seq")};
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

Store decodeStore(std::string_view rest)
{
    Fields f(rest, 6, 6, true, "TO,STREAM,SEQ,TIME,FROM,MESSAGE");
    return Store{f.name(0), decodeMsg(f, 1)};
}

template <typename Receipt>
Receipt decodeReceipt(std::string_view rest)
{
    Fields f(rest, 3, 3, false, "TO,STREAM,SEQ");
    return Receipt{f.name(0), f.stream(1), f.number(2, "seq")};
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
    {"store", [](std::string_view r) -> Message { return decodeStore(r); }},
    {"stored", [](std::string_view r) -> Message { return decodeReceipt<Stored>(r); }},
    {"full", [](std::string_view r) -> Message { return decodeReceipt<Full>(r); }},
};

std::string msgFields(const Msg& m)
{
    return m.stream + "," + std::to_string(m.seq) + "," + m.time + "," + m.from + "," + m.text;
}

struct Encoder
{
    std::string operator()(const Login& m) const
    {
        std::string out = "login," + m.name + "," + m.endpoint.toString();
        if (!m.dialect.empty()) out += "," + m.dialect;
        if (!m.dialect.empty() && m.seq != 0) out += "," + std::to_string(m.seq);
        return out;
    }
    std::string operator()(const Accept& m) const { return "Accept," + std::to_string(m.port); }
    std::string operator()(const Logout& m) const
    {
        std::string out = "logout," + m.name + "," + m.endpoint.toString();
        if (m.seq != 0) out += "," + std::to_string(m.seq);
        return out;
    }
    std::string operator()(const Talk& m) const { return "talk," + m.time + "," + m.from + "," + m.text; }
    std::string operator()(const Refuse& m) const { return "refuse," + m.name + "," + m.reason; }
    std::string operator()(const Msg& m) const { return "msg," + msgFields(m); }
    std::string operator()(const Ack& m) const { return "ack," + m.from + "," + m.stream + "," + std::to_string(m.seq); }
    std::string operator()(const Alive& m) const { return "alive," + m.name + "," + std::to_string(m.seq); }
    std::string operator()(const Seen& m) const { return "seen," + std::to_string(m.seq); }
    std::string operator()(const Relogin& m) const { return "relogin," + m.name; }
    std::string operator()(const Store& m) const { return "store," + m.to + "," + msgFields(m.msg); }
    std::string operator()(const Stored& m) const { return "stored," + m.to + "," + m.stream + "," + std::to_string(m.seq); }
    std::string operator()(const Full& m) const { return "full," + m.to + "," + m.stream + "," + std::to_string(m.seq); }
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
    std::string_view operator()(const Store&) const { return "store"; }
    std::string_view operator()(const Stored&) const { return "stored"; }
    std::string_view operator()(const Full&) const { return "full"; }
};

} // namespace

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
    if (!Utf8::isValid(text)) return Parsed<Message>::refuse("not valid UTF-8");
    const auto comma = text.find(',');
    const std::string_view verb = text.substr(0, comma);
    if (comma == std::string_view::npos) return Parsed<Message>::refuse("no fields after verb");
    const std::string_view rest = text.substr(comma + 1);

    for (const auto& [name, decoder] : kDecoders) {
        if (verb != name) continue;
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

std::string Protocol::encode(const Message& message)
{
    return std::visit(Encoder{}, message);
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
