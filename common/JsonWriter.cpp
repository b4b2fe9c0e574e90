#include "JsonWriter.h"

#include <array>
#include <cstring>
#include <stdexcept>

namespace peerchat {

namespace {

// Which bytes go into a JSON string as they are: all but control characters, the quote and the backslash.
constexpr std::array<bool, 256> plainBytes()
{
    std::array<bool, 256> plain{};
    for (unsigned byte = 0x20; byte < 256; ++byte) plain[byte] = byte != '"' && byte != '\\';
    return plain;
}
constexpr std::array<bool, 256> kPlain = plainBytes();

} // namespace

void JsonWriter::open(char bracket)
{
    separate();
    if (_depth == kMostDepth) throw std::logic_error("JSON nested deeper than JsonWriter::kMostDepth");
    put(bracket);
    _filled &= ~(std::uint64_t{1} << _depth);
    ++_depth;
}

void JsonWriter::close(char bracket)
{
    put(bracket);
    --_depth;
}

void JsonWriter::key(std::string_view name)
{
    separate();
    quoted(name);
    put(':');
    _afterKey = true;
}

void JsonWriter::value(std::string_view text)
{
    separate();
    quoted(text);
}

void JsonWriter::value(bool flag)
{
    separate();
    put(flag ? std::string_view("true") : std::string_view("false"));
}

void JsonWriter::put(std::string_view text)
{
    std::memcpy(room(text.size()), text.data(), text.size());
    _size += text.size();
}

void JsonWriter::quoted(std::string_view text)
{
    static constexpr char kHex[] = "0123456789ABCDEF";
    // Room for the worst case (every byte as \u00XX) at once, so that a
    // byte costs a compare and a store.
    char* out = room(text.size() * 6 + 2);
    *out++ = '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (kPlain[byte]) {
            *out++ = c;
            continue;
        }
        *out++ = '\\';
        switch (c) {
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        case '\b': *out++ = 'b'; break;
        case '\f': *out++ = 'f'; break;
        case '\n': *out++ = 'n'; break;
        case '\r': *out++ = 'r'; break;
        case '\t': *out++ = 't'; break;
        default:
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = kHex[byte >> 4];
            *out++ = kHex[byte & 0xF];
        }
    }
    *out++ = '"';
    _size = static_cast<std::size_t>(out - _out.data());
}

void JsonWriter::endLine()
{
    put('\n');
    _out.resize(_size);
}

} // namespace peerchat
