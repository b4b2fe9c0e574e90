#include "Base64.h"

#include <array>

namespace peerchat {

// Written out rather than libsodium's sodium_bin2base64/sodium_base642bin:
// those run in constant time, which public fields do not need (secret key
// seeds go through libsodium in KeyFile), and every sealed datagram
// crosses here twice, where they took a tenth of a receiving peerd's time.
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::uint8_t kNotInAlphabet = 0xFF;

constexpr std::array<std::uint8_t, 256> valuesOfCharacters()
{
    std::array<std::uint8_t, 256> values{};
    for (std::uint8_t& value : values) value = kNotInAlphabet;
    for (std::uint8_t i = 0; i < 64; ++i) values[static_cast<unsigned char>(kAlphabet[i])] = i;
    return values;
}

constexpr std::array<std::uint8_t, 256> kValues = valuesOfCharacters();

} // namespace

std::string Base64::encode(const std::uint8_t* bytes, std::size_t size)
{
    std::string out;
    append(out, bytes, size);
    return out;
}

std::string Base64::encode(std::string_view bytes)
{
    return encode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

void Base64::append(std::string& out, std::string_view bytes)
{
    append(out, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

void Base64::append(std::string& out, const std::uint8_t* bytes, std::size_t size)
{
    const std::size_t start = out.size();
    out.resize(start + encodedSize(size));
    char* o = out.data() + start;
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const std::uint32_t n = std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
        *o++ = kAlphabet[n >> 18];
        *o++ = kAlphabet[n >> 12 & 63];
        *o++ = kAlphabet[n >> 6 & 63];
        *o++ = kAlphabet[n & 63];
    }
    if (size - i == 1) {
        *o++ = kAlphabet[bytes[i] >> 2];
        *o++ = kAlphabet[(bytes[i] & 3) << 4];
    } else if (size - i == 2) {
        const std::uint32_t n = std::uint32_t{bytes[i]} << 8 | bytes[i + 1];
        *o++ = kAlphabet[n >> 10];
        *o++ = kAlphabet[n >> 4 & 63];
        *o++ = kAlphabet[(n & 15) << 2];
    }
}

std::optional<std::string> Base64::decode(std::string_view text)
{
    const std::size_t rest = text.size() % 4;
    if (rest == 1) return std::nullopt;
    std::string bytes(text.size() / 4 * 3 + (rest == 0 ? 0 : rest - 1), '\0');
    const auto* in = reinterpret_cast<const unsigned char*>(text.data());
    char* o = bytes.data();
    const auto value = [&](std::size_t at) { return std::uint32_t{kValues[in[at]]}; };
    std::size_t i = 0;
    for (; i + 4 <= text.size(); i += 4) {
        const std::uint32_t a = value(i), b = value(i + 1), c = value(i + 2), d = value(i + 3);
        if (((a | b | c | d) & 0x80) != 0) return std::nullopt;
        const std::uint32_t n = a << 18 | b << 12 | c << 6 | d;
        *o++ = static_cast<char>(n >> 16);
        *o++ = static_cast<char>(n >> 8 & 0xFF);
        *o++ = static_cast<char>(n & 0xFF);
    }
    // One text per byte string: the bits past the last byte must be zero, so
    // that a sender cannot vary the spelling of a key or a signature to slip
    // past a comparison of texts.
    if (rest == 2) {
        const std::uint32_t a = value(i), b = value(i + 1);
        if (((a | b) & 0x80) != 0 || (b & 15) != 0) return std::nullopt;
        *o = static_cast<char>(a << 2 | b >> 4);
    } else if (rest == 3) {
        const std::uint32_t a = value(i), b = value(i + 1), c = value(i + 2);
        if (((a | b | c) & 0x80) != 0 || (c & 3) != 0) return std::nullopt;
        *o++ = static_cast<char>(a << 2 | b >> 4);
        *o = static_cast<char>((b & 15) << 4 | c >> 2);
    }
    return bytes;
}

} // namespace peerchat
