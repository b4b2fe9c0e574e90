#include "RosterCodec.h"

#include "UserName.h"
#include "Utf8.h"

#include <cstdint>
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

std::string encodeText(const std::vector<RosterEntry>& entries)
{
    std::string out;
    out.reserve(entries.size() * 40 + 3);
    for (const auto& e : entries) {
        out += e.name;
        out += ',';
        out += e.endpoint.toString();
        out += ';';
    }
    out += "end";
    return out;
}

/// `NAME,ENDPOINT`, leading spaces before either stripped.
RosterEntry decodeEntry(std::string_view entry)
{
    const auto comma = entry.find(',');
    if (comma == std::string_view::npos) throw EntryRefusal{"roster entry has no endpoint"};
    const std::string_view name = trimLeadingSpaces(entry.substr(0, comma));
    const std::string_view endpointText = trimLeadingSpaces(entry.substr(comma + 1));
    if (endpointText.find(',') != std::string_view::npos) throw EntryRefusal{"roster entry has too many fields"};
    if (auto why = UserName::check(name); !why.empty()) throw EntryRefusal{"roster entry: " + why};
    auto endpoint = Endpoint::parse(endpointText);
    if (!endpoint) throw EntryRefusal{"roster entry: " + endpoint.error()};
    return RosterEntry{std::string(name), *endpoint};
}

Result decodeText(std::string_view text)
{
    if (!Utf8::isValid(text)) return Result::refuse("roster is not valid UTF-8");
    std::vector<RosterEntry> entries;
    std::unordered_set<std::string> seen;
    try {
        while (true) {
            const auto semicolon = text.find(';');
            const std::string_view entry = trimLeadingSpaces(text.substr(0, semicolon));
            if (semicolon == std::string_view::npos) {
                if (entry != "end") return Result::refuse("roster does not end with 'end'");
                return entries;
            }
            text.remove_prefix(semicolon + 1);
            RosterEntry e = decodeEntry(entry);
            if (!seen.insert(e.name).second) return Result::refuse("roster lists " + e.name + " twice");
            entries.push_back(std::move(e));
        }
    } catch (const EntryRefusal& refusal) {
        return Result::refuse(refusal.reason);
    }
}

} // namespace

std::string RosterCodec::encode(const std::vector<RosterEntry>& entries, RosterFormat format)
{
    switch (format) {
    case RosterFormat::SeedText:
        return encodeText(entries);
    case RosterFormat::DotNet: {
        const std::string text = encodeText(entries);
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

Parsed<std::vector<RosterEntry>> RosterCodec::decode(std::string_view stream, RosterFormat format)
{
    if (stream.size() > kMaxStreamBytes) return Result::refuse("roster is larger than 16 MiB");
    switch (format) {
    case RosterFormat::SeedText:
        return decodeText(stream);
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
        return decodeText(stream.substr(i));
    }
    }
    return Result::refuse("unknown roster format");
}

} // namespace peerchat
