#include "UserName.h"

#include "Utf8.h"

namespace peerchat {

namespace {

bool isForbidden(char32_t cp)
{
    if (Utf8::isControl(cp)) return true;
    switch (cp) {
    case ' ': case ',': case ';': case ':':
    case 0x00A0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

} // namespace

std::string UserName::check(std::string_view name)
{
    static const std::string kForbidden = "name has a space, control character or one of , ; :";
    if (name.empty()) return "name is empty";
    if (name.size() > kMaxBytes) return "name is longer than 32 bytes";
    // Nearly every name is ASCII, checked a byte at a time (every datagram names one or two).
    bool ascii = true;
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80) {
            ascii = false;
            break;
        }
        if (isForbidden(byte)) return kForbidden;
    }
    if (ascii) return {};
    if (!Utf8::isValid(name)) return "name is not valid UTF-8";
    if (Utf8::any(name, isForbidden)) return kForbidden;
    return {};
}

} // namespace peerchat
