#include "Base64.h"

#include <sodium.h>

namespace peerchat {

namespace {

constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

} // namespace

std::string Base64::encode(const std::uint8_t* bytes, std::size_t size)
{
    std::string out(sodium_base64_encoded_len(size, kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes, size, kVariant);
    out.pop_back();  // the terminating NUL sodium writes
    return out;
}

std::string Base64::encode(std::string_view bytes)
{
    return encode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::optional<std::string> Base64::decode(std::string_view text)
{
    std::string bytes(text.size() * 3 / 4 + 1, '\0');
    std::size_t size = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(), text.size(),
                          nullptr, &size, &end, kVariant) != 0
        || end != text.data() + text.size())
        return std::nullopt;
    bytes.resize(size);
    // One text per byte string: a sender cannot vary the spelling of a key or
    // a signature (trailing bits) to slip past a comparison of texts.
    if (encode(bytes) != text) return std::nullopt;
    return bytes;
}

} // namespace peerchat
