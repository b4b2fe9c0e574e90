#include "Utf8.h"

#include <cstdint>
#include <cstring>

namespace peerchat {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool isSurrogate(char32_t cp) { return cp >= 0xD800 && cp <= 0xDFFF; }

// Decodes one code point at bytes[i], advancing i; nullopt when malformed.
std::optional<char32_t> decodeOne(std::string_view bytes, std::size_t& i)
{
    const auto lead = static_cast<unsigned char>(bytes[i]);
    if (lead < 0x80) {
        ++i;
        return lead;
    }
    std::size_t length;
    char32_t cp;
    char32_t minimum;
    if ((lead & 0xE0) == 0xC0) {
        length = 2; cp = lead & 0x1F; minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3; cp = lead & 0x0F; minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4; cp = lead & 0x07; minimum = 0x10000;
    } else {
        return std::nullopt;
    }
    if (bytes.size() - i < length) return std::nullopt;
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(bytes[i + k]);
        if ((next & 0xC0) != 0x80) return std::nullopt;
        cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < minimum || cp > 0x10FFFF || isSurrogate(cp)) return std::nullopt;
    i += length;
    return cp;
}

} // namespace

std::size_t Utf8::codePoints(std::string_view bytes)
{
    std::size_t count = 0;
    for (const char byte : bytes) count += (static_cast<unsigned char>(byte) & 0xC0) != 0x80;
    return count;
}

bool Utf8::isValid(std::string_view bytes)
{
    // Chat text and datagrams are mostly ASCII: eight bytes at a time while no byte has its high bit set.
    constexpr std::uint64_t kHighBits = 0x8080808080808080u;
    std::size_t i = 0;
    while (i < bytes.size()) {
        std::uint64_t word = 0;
        if (bytes.size() - i >= sizeof word) {
            std::memcpy(&word, bytes.data() + i, sizeof word);
            if ((word & kHighBits) == 0) {
                i += sizeof word;
                continue;
            }
        }
        if (!decodeOne(bytes, i)) return false;
    }
    return true;
}

bool Utf8::any(std::string_view bytes, bool (*test)(char32_t))
{
    std::size_t i = 0;
    while (i < bytes.size()) {
        // An ASCII byte is its own code point (the time of every msg is ASCII).
        if (const auto byte = static_cast<unsigned char>(bytes[i]); byte < 0x80) {
            if (test(byte)) return true;
            ++i;
            continue;
        }
        const auto cp = decodeOne(bytes, i);
        if (!cp) return false;
        if (test(*cp)) return true;
    }
    return false;
}

std::optional<std::u32string> Utf8::decode(std::string_view bytes)
{
    std::u32string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto cp = decodeOne(bytes, i);
        if (!cp) return std::nullopt;
        out.push_back(*cp);
    }
    return out;
}

void Utf8::append(std::string& out, char32_t cp)
{
    if (cp > 0x10FFFF || isSurrogate(cp)) cp = kReplacement;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string Utf8::encode(std::u32string_view codePoints)
{
    std::string out;
    out.reserve(codePoints.size());
    for (char32_t cp : codePoints) append(out, cp);
    return out;
}

std::optional<std::string> Utf8::fromUtf16le(std::string_view bytes)
{
    if (bytes.size() % 2 != 0) return std::nullopt;
    std::string out;
    out.reserve(bytes.size());
    auto unit = [&](std::size_t i) {
        return static_cast<char16_t>(static_cast<unsigned char>(bytes[i])
                                     | (static_cast<unsigned char>(bytes[i + 1]) << 8));
    };
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        const char16_t u = unit(i);
        char32_t cp = u;
        if (u == 0) return std::nullopt;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 3 >= bytes.size()) return std::nullopt;
            const char16_t low = unit(i + 2);
            if (low < 0xDC00 || low > 0xDFFF) return std::nullopt;
            cp = 0x10000 + ((static_cast<char32_t>(u) - 0xD800) << 10) + (low - 0xDC00);
            i += 2;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            return std::nullopt;
        }
        append(out, cp);
    }
    return out;
}

std::string Utf8::toUtf16le(std::string_view utf8)
{
    std::string out;
    out.reserve(utf8.size() * 2);
    auto put = [&](char16_t u) {
        out.push_back(static_cast<char>(u & 0xFF));
        out.push_back(static_cast<char>(u >> 8));
    };
    std::size_t i = 0;
    while (i < utf8.size()) {
        const auto cp = decodeOne(utf8, i);
        if (!cp) {
            put(static_cast<char16_t>(kReplacement));
            ++i;
            continue;
        }
        if (*cp >= 0x10000) {
            const char32_t v = *cp - 0x10000;
            put(static_cast<char16_t>(0xD800 + (v >> 10)));
            put(static_cast<char16_t>(0xDC00 + (v & 0x3FF)));
        } else {
            put(static_cast<char16_t>(*cp));
        }
    }
    return out;
}

} // namespace peerchat
