#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
class Utf8
{
public:
    /// True when bytes are well-formed UTF-8.
    static bool isValid(std::string_view bytes);
    /// How many code points valid UTF-8 bytes hold (its bytes that begin one).
    static std::size_t codePoints(std::string_view bytes);

    /// Whether a code point of bytes passes test, read without copying them
    /// out (names and times are checked on every datagram). Bytes that are not
    /// well-formed give false from their first fault on: isValid() tells them apart.
    static bool any(std::string_view bytes, bool (*test)(char32_t));

    /// True for a control character: C0 (below U+0020), DEL and C1 (U+0080 to U+009F).
    static bool isControl(char32_t codePoint) { return codePoint < 0x20 || (codePoint >= 0x7F && codePoint <= 0x9F); }

    /// Code points of bytes, or nullopt when they are not well-formed UTF-8.
    static std::optional<std::u32string> decode(std::string_view bytes);

    /// UTF-8 of code points; invalid code points become U+FFFD.
    static std::string encode(std::u32string_view codePoints);
    static void append(std::string& out, char32_t codePoint);

    /// UTF-16LE bytes (as .NET Encoding.Unicode writes them, no BOM) to UTF-8;
    /// nullopt for odd length, unpaired surrogates or NUL.
    static std::optional<std::string> fromUtf16le(std::string_view bytes);

    /// UTF-8 (assumed valid) to UTF-16LE bytes, no BOM.
    static std::string toUtf16le(std::string_view utf8);
};

} // namespace peerchat
