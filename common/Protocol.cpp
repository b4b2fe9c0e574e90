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

Parsed<Message> decodeNameEndpoint(std::string_view verb, std::string_view rest, bool allowDialect)
{
    std::vector<std::string_view> f;
    splitFields(rest, allowDialect ? 3 : 2, false, f);
    if (f.size() < 2) return Parsed<Message>::refuse(std::string(verb) + ": expected NAME,ENDPOINT");
    if (f.back().find(',') != std::string_view::npos)
        return Parsed<Message>::refuse(std::string(verb) + ": too many fields");
    if (auto why = UserName::check(f[0]); !why.empty()) return Parsed<Message>::refuse(std::string(verb) + ": " + why);
    auto endpoint = Endpoint::parse(f[1]);
    if (!endpoint) return Parsed<Message>::refuse(std::string(verb) + ": " + endpoint.error());
    if (!allowDialect) return Message(Logout{std::string(f[0]), *endpoint});
    std::string dialect;
    if (f.size() == 3) {
        if (auto why = checkToken(f[2], "dialect"); !why.empty())
            return Parsed<Message>::refuse(std::string(verb) + ": " + why);
        dialect = std::string(f[2]);
    }
    return Message(Login{std::string(f[0]), *endpoint, std::move(dialect)});
}

Parsed<Message> decodeAccept(std::string_view rest)
{
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    unsigned port = 0;
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
    if (rest.empty() || error != std::errc() || end != rest.data() + rest.size() || port == 0 || port > 65535)
        return Parsed<Message>::refuse("Accept: port must be 1..65535");
    return Message(Accept{static_cast<std::uint16_t>(port)});
}

Parsed<Message> decodeTalk(std::string_view rest)
{
    std::vector<std::string_view> f;
    splitFields(rest, 3, true, f);
    if (f.size() < 3) return Parsed<Message>::refuse("talk: expected TIME,FROM,MESSAGE");
    if (auto why = checkTime(f[0]); !why.empty()) return Parsed<Message>::refuse("talk: " + why);
    if (auto why = UserName::check(f[1]); !why.empty()) return Parsed<Message>::refuse("talk: " + why);
    if (auto why = checkText(f[2]); !why.empty()) return Parsed<Message>::refuse("talk: " + why);
    return Message(Talk{std::string(f[0]), std::string(f[1]), std::string(f[2])});
}

Parsed<Message> decodeRefuse(std::string_view rest)
{
    std::vector<std::string_view> f;
    splitFields(rest, 2, false, f);
    if (f.size() < 2) return Parsed<Message>::refuse("refuse: expected NAME,REASON");
    if (auto why = UserName::check(f[0]); !why.empty()) return Parsed<Message>::refuse("refuse: " + why);
    if (auto why = checkToken(f[1], "reason"); !why.empty()) return Parsed<Message>::refuse("refuse: " + why);
    return Message(Refuse{std::string(f[0]), std::string(f[1])});
}

struct Encoder
{
    std::string operator()(const Login& m) const
    {
        std::string out = "login," + m.name + "," + m.endpoint.toString();
        if (!m.dialect.empty()) out += "," + m.dialect;
        return out;
    }
    std::string operator()(const Accept& m) const { return "Accept," + std::to_string(m.port); }
    std::string operator()(const Logout& m) const { return "logout," + m.name + "," + m.endpoint.toString(); }
    std::string operator()(const Talk& m) const { return "talk," + m.time + "," + m.from + "," + m.text; }
    std::string operator()(const Refuse& m) const { return "refuse," + m.name + "," + m.reason; }
};

struct VerbOf
{
    std::string_view operator()(const Login&) const { return "login"; }
    std::string_view operator()(const Accept&) const { return "Accept"; }
    std::string_view operator()(const Logout&) const { return "logout"; }
    std::string_view operator()(const Talk&) const { return "talk"; }
    std::string_view operator()(const Refuse&) const { return "refuse"; }
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

    if (verb == "login") return decodeNameEndpoint(verb, rest, true);
    if (verb == "logout") return decodeNameEndpoint(verb, rest, false);
    if (verb == "Accept") return decodeAccept(rest);
    if (verb == "talk") return decodeTalk(rest);
    if (verb == "refuse") return decodeRefuse(rest);
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
