#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace peerchat {

/// Binary fields on the wire: URL-safe base64 without padding (RFC 4648
/// section 5: A-Z a-z 0-9 - _), libsodium's sodium_bin2base64 variant
/// URLSAFE_NO_PADDING. A 32-byte key prints as 43 characters.
class Base64
{
public:
    static std::string encode(const std::uint8_t* bytes, std::size_t size);
    static std::string encode(std::string_view bytes);
    /// encode(bytes, size) written after what out holds.
    static void append(std::string& out, const std::uint8_t* bytes, std::size_t size);
    static void append(std::string& out, std::string_view bytes);
    template <std::size_t N>
    static void append(std::string& out, const std::array<std::uint8_t, N>& bytes) { append(out, bytes.data(), N); }
    /// How many characters encode() writes for size bytes.
    static std::size_t encodedSize(std::size_t size) { return (size * 4 + 2) / 3; }
    /// A key, signature or nonce (CryptoTypes.h); a std::string goes to the
    /// string_view overload.
    template <std::size_t N>
    static std::string encode(const std::array<std::uint8_t, N>& bytes) { return encode(bytes.data(), N); }

    /// The bytes of text, or nullopt when text is not canonical base64url
    /// without padding (any other character, a bad length, padding).
    static std::optional<std::string> decode(std::string_view text);

    /// Decodes text that must hold exactly out.size() bytes.
    template <typename Array>
    static bool decodeInto(std::string_view text, Array& out)
    {
        auto bytes = decode(text);
        if (!bytes || bytes->size() != out.size()) return false;
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>((*bytes)[i]);
        return true;
    }
};

} // namespace peerchat
