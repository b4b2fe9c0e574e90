#include "Fingerprint.h"

#include "SigningKey.h"

#include <sodium.h>

namespace peerchat {

std::string Fingerprint::of(const PublicKey& key)
{
    Sodium::init();
    std::array<std::uint8_t, 32> hash;
    crypto_generichash(hash.data(), hash.size(), key.data(), key.size(), nullptr, 0);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    for (std::size_t i = 0; i < 16; ++i) {
        if (i > 0 && i % 2 == 0) text += ' ';
        text += kDigits[hash[i] >> 4];
        text += kDigits[hash[i] & 0x0f];
    }
    return text;
}

} // namespace peerchat
