#include "RosterCodec.h"

#include "Protocol.h"
#include "UserName.h"
#include "Utf8.h"

#include <charconv>
#include <unordered_set>

namespace peerchat {

namespace {

std::string_view trimLeadingSpaces(std::string_view s)
{
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return s;
}

std::string encodeText(const std::vector<RosterEntry>& entries, bool withDialect, std::uint64_t presenceSeq = 0)
{
    std::string out;
    out.reserve(entries.size() * 40 + 3);
    for (const auto& e : entries) {
        out += e.name;
        out += ',';
        out += e.endpoint.toString();
        if (withDialect) {
            out += ',';
            out += e.dialect;
        }
        out += ';';
    }
    out += "end";
    if (presenceSeq != 0) out += "," + std::to_string(presenceSeq);
    return out;
}

Parsed<std::vector<RosterEntry>> decodeText(std::string_view text, bool withDialect, std::uint64_t* presenceSeq = nullptr)
{
    using Result = Parsed<std::vector<RosterEntry>>;
    if (!Utf8::isValid(text)) return Result::refuse("roster is not valid UTF-8");
    std::vector<RosterEntry> entries;
    std::unordered_set<std::string> seen;
    while (true) {
        const auto semicolon = text.find(';');
        const std::string_view entry = trimLeadingSpaces(text.substr(0, semicolon));
        if (semicolon == std::string_view::npos) {
            if (withDialect && entry.substr(0, 4) == "end,") {
                const std::string_view digits = entry.substr(4);
                std::uint64_t seq = 0;
                const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
                if (digits.empty() || digits.front() == '0' || error != std::errc()
                    || end != digits.data() + digits.size() || seq > Protocol::kMaxSequence)
                    return Result::refuse("roster's presence sequence number is not a number");
                if (presenceSeq) *presenceSeq = seq;
                return entries;
            }
            if (entry != "end") return Result::refuse("roster does not end with 'end'");
            if (presenceSeq) *presenceSeq = 0;
            return entries;
        }
        text.remove_prefix(semicolon + 1);

        const auto first = entry.find(',');
        if (first == std::string_view::npos) return Result::refuse("roster entry has no endpoint");
        const std::string_view name = entry.substr(0, first);
        std::string_view endpointText = trimLeadingSpaces(entry.substr(first + 1));
        std::string_view dialect;
        const auto second = endpointText.find(',');
        if (second != std::string_view::npos) {
            if (!withDialect) return Result::refuse("roster entry has too many fields");
            dialect = trimLeadingSpaces(endpointText.substr(second + 1));
            endpointText = endpointText.substr(0, second);
            if (!isDialectToken(dialect)) return Result::refuse("roster entry has a bad dialect");
        } else if (withDialect) {
            return Result::refuse("roster entry has no dialect");
        }
        if (auto why = UserName::check(name); !why.empty()) return Result::refuse("roster entry: " + why);
        auto endpoint = Endpoint::parse(endpointText);
        if (!endpoint) return Result::refuse("roster entry: " + endpoint.error());
        if (!seen.insert(std::string(name)).second)
            return Result::refuse("roster lists " + std::string(name) + " twice");
        entries.push_back(RosterEntry{std::string(name), *endpoint, std::string(dialect)});
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

Parsed<std::vector<RosterEntry>> RosterCodec::decode(std::string_view stream, RosterFormat format,
                                                    std::uint64_t* presenceSeq)
{
    using Result = Parsed<std::vector<RosterEntry>>;
    if (stream.size() > kMaxStreamBytes) return Result::refuse("roster is larger than 16 MiB");
    switch (format) {
    case RosterFormat::SeedText:
        return decodeText(stream, false);
    case RosterFormat::Peerchat:
        return decodeText(stream, true, presenceSeq);
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
